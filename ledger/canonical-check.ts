// A fast test that a JSON text is already in canonical form (RFC 8785), used when reading stored
// entries back: re-serialising every payload with the general serialiser dominated the audit.
// JSON.stringify of the parsed value reproduces the text exactly when the text has no
// whitespace, ECMAScript number and string forms and no duplicate names; what JSON.stringify does
// not check (members sorted by UTF-16 code units, no lone surrogates, the nesting limit) is
// checked by walking the parsed value. When this says false the caller falls back to the general
// serialiser, which decides (and explains); when it says true, canonicalJson(value) === text.

/** Same limit as canonical-json.ts: an object or array at depth >= 64 is refused there. */
const MAX_DEPTH = 64;

function walk(v: unknown, depth: number): boolean {
  if (typeof v === 'string') return v.isWellFormed();
  if (typeof v !== 'object' || v === null) return true;
  if (depth >= MAX_DEPTH) return false;
  if (Array.isArray(v)) {
    for (const x of v) if (!walk(x, depth + 1)) return false;
    return true;
  }
  const o = v as Record<string, unknown>;
  let prev: string | undefined;
  for (const k of Object.keys(o)) {
    // Strictly ascending in UTF-16 code units; V8 lists integer-like names first in numeric
    // order, which fails here whenever it differs from the canonical order.
    if ((prev !== undefined && !(prev < k)) || !k.isWellFormed()) return false;
    prev = k;
    if (!walk(o[k], depth + 1)) return false;
  }
  return true;
}

/**
 * True only if `text` is exactly the canonical JSON of `value`, where `value` is JSON.parse(text)
 * and `depth` is the nesting depth the serialiser would start `value` at. False means "not shown
 * here": decide with the general serialiser.
 */
export function isCanonicalFast(value: unknown, text: string, depth = 0): boolean {
  return JSON.stringify(value) === text && walk(value, depth);
}
