// Our RFC 8785 serializer against the `canonicalize` package (the RFC author's reference
// implementation) on random JSON, plus the RFC's own examples and the values JCS refuses.
import canonicalize from 'canonicalize';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson, type JsonValue } from '../../ledger/index.js';

describe('canonical JSON (RFC 8785)', () => {
  it('matches the reference implementation on random JSON values', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 6 }), (v) => {
        expect(canonicalJson(v as JsonValue)).toBe(canonicalize(v));
      }),
      { numRuns: 2000 },
    );
  });

  it('matches it on strings of any code point, with escapes and names seen before', () => {
    // The fast path quotes plain ASCII itself and keeps quoted member names: every other string
    // (quotes, backslashes, controls, non-ASCII) must still come out as the reference writes it.
    const text = fc.oneof(fc.string({ unit: 'binary' }), fc.constantFrom('"', '\\', '\u007f', '\u2028', 'a"b', 'model', 'schema'));
    const value = fc.letrec((tie) => ({
      node: fc.oneof({ depthSize: 'small' }, text, fc.double({ noNaN: true, noDefaultInfinity: true }), fc.array(tie('node'), { maxLength: 4 }), fc.dictionary(text, tie('node'), { maxKeys: 5 })),
    })).node;
    fc.assert(
      fc.property(value, (v) => {
        expect(canonicalJson(v as JsonValue)).toBe(canonicalize(v));
      }),
      { numRuns: 2000 },
    );
  });

  it('names the offending value by its path', () => {
    expect(() => canonicalJson({ a: [1, { b: Number.NaN }] })).toThrow('$.a[1].b: NaN is not representable in JSON');
    expect(() => canonicalJson({ a: { 'x"y': '\udc00' } })).toThrow('$.a.x"y: string holds a lone surrogate');
    expect(() => canonicalJson({ k: undefined } as never)).toThrow('$.k: undefined is not a JSON value');
  });

  it('sorts keys by UTF-16 code units and formats numbers as ECMAScript does (RFC 8785 §3.2)', () => {
    // The sorting example of RFC 8785 §3.2.3.
    const sorting = { '\u20ac': 'Euro Sign', '\r': 'Carriage Return', '\ufb33': 'Hebrew Letter Dalet With Dagesh', '1': 'One', '\ud83d\ude00': 'Emoji: Grinning Face', '\u0080': 'Control', '\u00f6': 'Latin Small Letter O With Diaeresis' };
    // (Compared as text: JSON.parse would move the integer-like key "1" to the front.)
    const text = canonicalJson(sorting);
    const order = ['"\\r"', '"1"', '"\u0080"', '"\u00f6"', '"\u20ac"', '"\ud83d\ude00"', '"\ufb33"'].map((k) => text.indexOf(`${k}:`));
    expect(order.every((p, i) => p >= 0 && (i === 0 || p > order[i - 1]!))).toBe(true);
    // Number examples of RFC 8785 Appendix B.
    const numbers: [number, string][] = [[0, '0'], [-0, '0'], [1e21, '1e+21'], [1e-7, '1e-7'], [333333333.3333333, '333333333.3333333'], [4.5, '4.5'], [2e-3, '0.002'], [0.000001, '0.000001'], [9007199254740992, '9007199254740992']];
    for (const [n, s] of numbers) expect(canonicalJson(n)).toBe(s);
    expect(canonicalJson({ b: [1, 'x', null, true], a: { d: 1, c: 2 } })).toBe('{"a":{"c":2,"d":1},"b":[1,"x",null,true]}');
  });

  it('refuses what JSON cannot carry', () => {
    for (const v of [Number.NaN, Infinity, '\ud800', { a: undefined }, new Date(0), [() => 1]]) {
      expect(() => canonicalJson(v as never)).toThrow(TypeError);
    }
  });
});
