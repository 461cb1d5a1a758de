// RFC 8785 JSON Canonicalization Scheme. Object members are sorted by their names' UTF-16 code
// units (§3.2.3), strings use the ECMAScript JSON escaping (§3.2.2.2) and numbers the ECMAScript
// Number-to-String algorithm (§3.2.2.3), which JSON.stringify implements. Values JCS cannot
// represent (NaN, Infinity, lone surrogates, undefined, functions, class instances) are refused,
// so bytes that get signed or hashed are never an accident. Tested against the `canonicalize`
// package, the reference implementation by the RFC's author.

export type JsonValue = null | boolean | number | string | JsonValue[] | { [k: string]: JsonValue };

const MAX_DEPTH = 64;

function str(s: string, path: string): string {
  if (!s.isWellFormed()) throw new TypeError(`${path}: string holds a lone surrogate, which JSON cannot carry`);
  return JSON.stringify(s);
}

function serialize(v: unknown, path: string, depth: number): string {
  switch (typeof v) {
    case 'string':
      return str(v, path);
    case 'number':
      if (!Number.isFinite(v)) throw new TypeError(`${path}: ${v} is not representable in JSON`);
      return JSON.stringify(v);
    case 'boolean':
      return v ? 'true' : 'false';
    case 'object': {
      if (v === null) return 'null';
      if (depth >= MAX_DEPTH) throw new TypeError(`${path}: nested deeper than ${MAX_DEPTH} levels`);
      if (Array.isArray(v)) {
        let out = '[';
        for (let i = 0; i < v.length; i++) out += (i ? ',' : '') + serialize(v[i], `${path}[${i}]`, depth + 1);
        return `${out}]`;
      }
      const proto = Object.getPrototypeOf(v);
      if (proto !== Object.prototype && proto !== null) throw new TypeError(`${path}: ${proto?.constructor?.name ?? 'object'} is not a plain JSON object`);
      const o = v as Record<string, unknown>;
      const keys = Object.keys(o).sort();
      let out = '{';
      let first = true;
      for (const k of keys) {
        const x = o[k];
        if (x === undefined) throw new TypeError(`${path}.${k}: undefined is not a JSON value`);
        out += `${first ? '' : ','}${str(k, path)}:${serialize(x, `${path}.${k}`, depth + 1)}`;
        first = false;
      }
      return `${out}}`;
    }
    default:
      throw new TypeError(`${path}: ${typeof v} is not a JSON value`);
  }
}

/** The RFC 8785 canonical form of a JSON value, as a string. */
export function canonicalJson(value: JsonValue): string {
  return serialize(value, '$', 0);
}

/** canonicalJson of a value nested at `path` (for error messages), at nesting depth `depth`. */
export function canonicalJsonAt(value: JsonValue, path: string, depth: number): string {
  return serialize(value, path, depth);
}

/** The RFC 8785 canonical form of a JSON value, as UTF-8 bytes. */
export function canonicalJsonBytes(value: JsonValue): Uint8Array {
  return new TextEncoder().encode(canonicalJson(value));
}
