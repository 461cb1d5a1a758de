// Strict JSON for bytes that are hashed or signed (entry payloads from the API and the CLI).
// JSON.parse accepts inputs whose meaning is not what the sender saw: it keeps the last of two
// duplicate keys, turns a "__proto__" key into a prototype once the object is copied (so the key
// vanishes from what is signed), and rounds integers above 2^53 to a different number. Each of
// those is refused here, with a typed error that says where, instead of being normalised away.
// Grammar: RFC 8259; strings must be well-formed Unicode (RFC 8785 needs that to canonicalise).
import { HallmarkError } from './errors.js';

export type StrictJsonErrorCode =
  | 'JSON_INVALID'
  | 'JSON_INVALID_DUPLICATE_KEY'
  | 'JSON_INVALID_PROTO_KEY'
  | 'JSON_INVALID_UNSAFE_INTEGER'
  | 'JSON_INVALID_TOO_DEEP';

export class StrictJsonError extends HallmarkError<StrictJsonErrorCode> {}

export interface StrictJsonOptions {
  /** Deepest nesting of arrays and objects (default 64). */
  readonly maxDepth?: number;
  /** Named in messages, e.g. "payload" or "request body". */
  readonly what?: string;
}

const WS = new Set([0x20, 0x09, 0x0a, 0x0d]);
const ESCAPES: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };
const NUMBER_RE = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

/** Parses `text` as JSON, refusing duplicate keys, "__proto__" keys, unsafe integers and lone surrogates. */
export function parseStrictJson(text: string, options: StrictJsonOptions = {}): unknown {
  if (typeof text !== 'string') throw new TypeError('parseStrictJson expects a string');
  const what = options.what ?? 'JSON';
  const maxDepth = options.maxDepth ?? 64;
  let i = 0;
  const fail = (code: StrictJsonErrorCode, why: string): never => {
    throw new StrictJsonError(code, `${what} is refused: ${why}`);
  };
  const syntax = (why: string): never => fail('JSON_INVALID', `not valid JSON at character ${i} (${why})`);
  const skip = () => { while (i < text.length && WS.has(text.charCodeAt(i))) i++; };

  const parseString = (): string => {
    i++; // opening quote
    let out = '';
    for (;;) {
      if (i >= text.length) syntax('unterminated string');
      const c = text[i]!;
      const code = text.charCodeAt(i);
      if (c === '"') { i++; break; }
      if (code < 0x20) syntax('control character in a string');
      if (c === '\\') {
        const e = text[i + 1];
        if (e === 'u') {
          const hex = text.slice(i + 2, i + 6);
          if (!/^[0-9a-fA-F]{4}$/.test(hex)) syntax('bad \\u escape');
          out += String.fromCharCode(parseInt(hex, 16));
          i += 6;
        } else if (e !== undefined && ESCAPES[e] !== undefined) {
          out += ESCAPES[e];
          i += 2;
        } else syntax('bad escape');
      } else {
        out += c;
        i++;
      }
    }
    if (!out.isWellFormed()) fail('JSON_INVALID', 'a string holds a lone UTF-16 surrogate');
    return out;
  };

  const parseNumber = (): number => {
    NUMBER_RE.lastIndex = i;
    const m = NUMBER_RE.exec(text);
    if (!m) syntax('bad number');
    const lexeme = m![0];
    i += lexeme.length;
    const v = Number(lexeme);
    if (!Number.isFinite(v)) fail('JSON_INVALID_UNSAFE_INTEGER', `the number ${lexeme.slice(0, 40)} is out of range`);
    if (Number.isInteger(v) && !Number.isSafeInteger(v)) {
      fail('JSON_INVALID_UNSAFE_INTEGER', `the integer ${lexeme.slice(0, 40)} is beyond 2^53 - 1 and would be rounded; send it as a string`);
    }
    return v;
  };

  const parseValue = (depth: number, path: string): unknown => {
    skip();
    const c = text[i];
    if (c === '{' || c === '[') {
      if (depth >= maxDepth) fail('JSON_INVALID_TOO_DEEP', `nested deeper than ${maxDepth} levels`);
      i++;
      skip();
      if (c === '[') {
        const arr: unknown[] = [];
        if (text[i] === ']') { i++; return arr; }
        for (;;) {
          arr.push(parseValue(depth + 1, `${path}[${arr.length}]`));
          skip();
          if (text[i] === ',') { i++; continue; }
          if (text[i] === ']') { i++; return arr; }
          syntax('expected , or ]');
        }
      }
      const obj: Record<string, unknown> = {};
      const seen = new Set<string>();
      if (text[i] === '}') { i++; return obj; }
      for (;;) {
        skip();
        if (text[i] !== '"') syntax('expected a key');
        const key = parseString();
        const at = `${path}.${key.slice(0, 40)}`;
        if (key === '__proto__') fail('JSON_INVALID_PROTO_KEY', `${path} has a "__proto__" key, which would be dropped or change the object's prototype`);
        if (seen.has(key)) fail('JSON_INVALID_DUPLICATE_KEY', `${path} has the key "${key.slice(0, 40)}" twice`);
        seen.add(key);
        skip();
        if (text[i] !== ':') syntax('expected :');
        i++;
        obj[key] = parseValue(depth + 1, at);
        skip();
        if (text[i] === ',') { i++; continue; }
        if (text[i] === '}') { i++; return obj; }
        syntax('expected , or }');
      }
    }
    if (c === '"') return parseString();
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return parseNumber();
    for (const [word, v] of [['true', true], ['false', false], ['null', null]] as const) {
      if (text.startsWith(word, i)) { i += word.length; return v; }
    }
    return syntax(c === undefined ? 'unexpected end' : 'unexpected character');
  };

  const value = parseValue(0, '$');
  skip();
  if (i !== text.length) syntax('trailing characters');
  return value;
}
