// RFC 8785 JSON Canonicalization Scheme. Serialisation is the reference implementation
// (the `canonicalize` package by the RFC's author); this wrapper first rejects the values
// JCS cannot represent, so that bytes that get signed or hashed are never an accident.
import canonicalize from 'canonicalize';

export type JsonValue = null | boolean | number | string | JsonValue[] | { [k: string]: JsonValue };

function check(v: unknown, path: string, depth: number): void {
  if (depth > 64) throw new TypeError(`${path}: nested deeper than 64 levels`);
  if (v === null || typeof v === 'boolean' || typeof v === 'string') return;
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new TypeError(`${path}: ${v} is not representable in JSON`);
    return;
  }
  if (Array.isArray(v)) {
    v.forEach((x, i) => check(x, `${path}[${i}]`, depth + 1));
    return;
  }
  if (typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
    for (const [k, x] of Object.entries(v)) check(x, `${path}.${k}`, depth + 1);
    return;
  }
  throw new TypeError(`${path}: ${typeof v} is not a JSON value`);
}

/** The RFC 8785 canonical form of a JSON value, as a string. */
export function canonicalJson(value: JsonValue): string {
  check(value, '$', 0);
  return canonicalize(value) as string;
}

/**
 * The canonical form of a value that came out of JSON.parse (so it holds only JSON values and
 * needs no checking). Used on the read path, where it runs once per entry in an audit.
 */
export function canonicalJsonOfParsed(value: unknown): string {
  return canonicalize(value) as string;
}

/** The RFC 8785 canonical form of a JSON value, as UTF-8 bytes. */
export function canonicalJsonBytes(value: JsonValue): Uint8Array {
  return new TextEncoder().encode(canonicalJson(value));
}
