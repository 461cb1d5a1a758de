// The JSON text protobuf's json_format.MessageToJson writes (Python json.dumps, indent=2,
// ensure_ascii): the reference signs these bytes, and we write the same layout so that a
// statement of ours reads like one of theirs. Struct numbers are doubles, printed as Python
// prints a float ("8.0").

export class PyFloat {
  constructor(readonly value: number) {}
}

export type PyJson = null | boolean | string | PyFloat | PyJson[] | { [k: string]: PyJson };

function pyString(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const ch = s[i]!;
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\b') out += '\\b';
    else if (ch === '\f') out += '\\f';
    else if (c < 0x20 || c > 0x7e) out += `\\u${c.toString(16).padStart(4, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}

/** Python's float repr for the integral values we write (shard sizes). */
function pyFloat(n: number): string {
  if (!Number.isFinite(n)) throw new RangeError('not a finite number');
  if (Number.isInteger(n) && Math.abs(n) < 1e16) return `${n}.0`;
  return String(n).replace(/e\+?/, 'e+').replace('e+-', 'e-');
}

export function pyJson(v: PyJson, indent = 2, depth = 0): string {
  const pad = ' '.repeat(indent * (depth + 1));
  const end = ' '.repeat(indent * depth);
  if (v === null) return 'null';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'string') return pyString(v);
  if (v instanceof PyFloat) return pyFloat(v.value);
  if (Array.isArray(v)) {
    if (v.length === 0) return '[]';
    return `[\n${v.map((x) => pad + pyJson(x, indent, depth + 1)).join(',\n')}\n${end}]`;
  }
  const keys = Object.keys(v);
  if (keys.length === 0) return '{}';
  return `{\n${keys.map((k) => `${pad}${pyString(k)}: ${pyJson(v[k]!, indent, depth + 1)}`).join(',\n')}\n${end}}`;
}
