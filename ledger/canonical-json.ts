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

// The fast path: the same output without building a path per member (which costs more than the
// serialising on the ledger's append path). It returns FAIL at the first value JCS refuses, and
// the caller then runs `serialize` for the error message with the value's path.
const FAIL = Symbol('not canonical');
/** Printable ASCII without `"` and `\`: JSON.stringify would return it quoted and unchanged. */
const PLAIN = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

function quick(s: string): string | typeof FAIL {
  if (PLAIN.test(s)) return `"${s}"`;
  return s.isWellFormed() ? JSON.stringify(s) : FAIL;
}

// Member names repeat from entry to entry: their quoted forms are kept (a bounded number of them).
const names = new Map<string, string>();
const MAX_NAMES = 4096;

function quickName(k: string): string | typeof FAIL {
  const known = names.get(k);
  if (known !== undefined) return known;
  const q = quick(k);
  if (q !== FAIL && names.size < MAX_NAMES && k.length <= 64) names.set(k, q);
  return q;
}

/** A string as RFC 8785 writes it, or undefined when JSON cannot carry it (a lone surrogate). */
export function canonicalString(s: string): string | undefined {
  const q = quick(s);
  return q === FAIL ? undefined : q;
}

function fast(v: unknown, depth: number): string | typeof FAIL {
  switch (typeof v) {
    case 'string':
      return quick(v);
    case 'number':
      // For finite numbers String() is the ECMAScript Number-to-String that JSON.stringify uses.
      return Number.isFinite(v) ? String(v) : FAIL;
    case 'boolean':
      return v ? 'true' : 'false';
    case 'object':
      if (v === null) return 'null';
      if (depth >= MAX_DEPTH) return FAIL;
      return Array.isArray(v) ? fastArray(v, depth) : fastObject(v, depth);
    default:
      return FAIL;
  }
}

function fastArray(v: readonly unknown[], depth: number): string | typeof FAIL {
  let out = '[';
  for (let i = 0; i < v.length; i++) {
    const x = fast(v[i], depth + 1);
    if (x === FAIL) return FAIL;
    out += i ? `,${x}` : x;
  }
  return `${out}]`;
}

function fastObject(v: object, depth: number): string | typeof FAIL {
  const proto = Object.getPrototypeOf(v);
  if (proto !== Object.prototype && proto !== null) return FAIL;
  const o = v as Record<string, unknown>;
  const keys = Object.keys(o).sort();
  let out = '{';
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]!;
    const name = quickName(k);
    const x = o[k] === undefined ? FAIL : fast(o[k], depth + 1);
    if (name === FAIL || x === FAIL) return FAIL;
    out += `${i ? ',' : ''}${name}:${x}`;
  }
  return `${out}}`;
}

/** The RFC 8785 canonical form of a JSON value, as a string. */
export function canonicalJson(value: JsonValue): string {
  return canonicalJsonAt(value, '$', 0);
}

/** canonicalJson of a value nested at `path` (for error messages), at nesting depth `depth`. */
export function canonicalJsonAt(value: JsonValue, path: string, depth: number): string {
  const out = fast(value, depth);
  return out === FAIL ? serialize(value, path, depth) : out;
}

/** The RFC 8785 canonical form of a JSON value, as UTF-8 bytes. */
export function canonicalJsonBytes(value: JsonValue): Uint8Array {
  return new TextEncoder().encode(canonicalJson(value));
}
