// Strict JSON for hashed and signed payloads: agrees with JSON.parse on every input JSON.parse
// reads the same way the sender meant (a property test against the platform's parser), and
// refuses the three inputs it does not (duplicate keys, "__proto__", integers past 2^53).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseStrictJson } from '../../ledger/index.js';

const safeJson = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.constant(null), fc.boolean(), fc.maxSafeInteger(), fc.double({ noNaN: true, noDefaultInfinity: true }).filter((d) => !Number.isInteger(d) || Number.isSafeInteger(d)),
    fc.string({ unit: 'grapheme' }),
    fc.array(tie('value'), { maxLength: 5 }),
    fc.dictionary(fc.string({ unit: 'grapheme' }).filter((k) => k !== '__proto__'), tie('value'), { maxKeys: 5 }),
  ),
})).value;

describe('parseStrictJson', () => {
  it('reads what JSON.parse reads, for JSON without the refused forms', () => {
    fc.assert(fc.property(safeJson, (v) => {
      const text = JSON.stringify(v);
      expect(parseStrictJson(text)).toEqual(JSON.parse(text));
      const pretty = JSON.stringify(v, null, 2);
      expect(parseStrictJson(pretty)).toEqual(JSON.parse(pretty));
    }), { numRuns: 300 });
  });

  it('refuses what JSON.parse would read differently from what was sent', () => {
    const cases: [string, string][] = [
      ['{"owner":"alice","owner":"mallory"}', 'JSON_INVALID_DUPLICATE_KEY'],
      ['{"a":{"b":1,"b":2}}', 'JSON_INVALID_DUPLICATE_KEY'],
      ['{"a":1,"\\u0061":2}', 'JSON_INVALID_DUPLICATE_KEY'],
      ['{"__proto__":{"admin":true}}', 'JSON_INVALID_PROTO_KEY'],
      ['[{"\\u005f_proto__":1}]', 'JSON_INVALID_PROTO_KEY'],
      ['{"n":9007199254740993}', 'JSON_INVALID_UNSAFE_INTEGER'],
      ['{"n":-9007199254740993}', 'JSON_INVALID_UNSAFE_INTEGER'],
      ['{"n":1e400}', 'JSON_INVALID_UNSAFE_INTEGER'],
      ['{"n":2e20}', 'JSON_INVALID_UNSAFE_INTEGER'],
      ['{"s":"\\ud800"}', 'JSON_INVALID'],
      ['{"a":1,}', 'JSON_INVALID'],
      ['{"a":01}', 'JSON_INVALID'],
      ['{"a":1} x', 'JSON_INVALID'],
      ['{"a":"tab\there"}', 'JSON_INVALID'],
      ['[' .repeat(100) + ']'.repeat(100), 'JSON_INVALID_TOO_DEEP'],
    ];
    for (const [text, code] of cases) {
      expect(() => parseStrictJson(text, { what: 'payload' }), text.slice(0, 40)).toThrow(expect.objectContaining({ code, message: expect.stringMatching(/^payload is refused: /) }));
    }
    // What JSON.parse does with the same inputs: the reason this parser exists.
    expect(JSON.parse('{"owner":"alice","owner":"mallory"}').owner).toBe('mallory');
    expect(String(JSON.parse('{"n":9007199254740993}').n)).toBe('9007199254740992');
  });

  it('keeps the largest safe integers, fractions and exponents that are not integers past 2^53', () => {
    expect(parseStrictJson('{"a":9007199254740991,"b":-9007199254740991,"c":1.5e-3,"d":1e15,"e":0.1}')).toEqual({ a: 9007199254740991, b: -9007199254740991, c: 0.0015, d: 1e15, e: 0.1 });
  });
});
