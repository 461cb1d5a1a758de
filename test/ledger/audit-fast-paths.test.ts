// The audit's and reader's fast paths must decide exactly as the general code they shortcut:
// the allocation-free hashes against @noble/hashes, and the fast canonical-form test against the
// `canonicalize` reference package (when it says "canonical" the reference must agree; entries
// it cannot show canonical still go through the general serialiser, so decodeEntry's verdict on
// mutated texts is compared with a reference decoder written here from the spec).
import { sha256 } from '@noble/hashes/sha2.js';
import canonicalize from 'canonicalize';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isCanonicalFast } from '../../ledger/canonical-check.js';
import { hashChildrenInto, hashLeafHex } from '../../ledger/hash.js';
import { decodeEntry } from '../../ledger/index.js';

describe('audit hashing without allocation', () => {
  it('hashLeafHex and hashChildrenInto equal SHA-256(0x00 || d) and SHA-256(0x01 || l || r)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 9000 }), fc.uint8Array({ minLength: 64, maxLength: 64 }), fc.nat(5), (d, lr, at) => {
        expect(hashLeafHex(d)).toBe(Buffer.from(sha256(Uint8Array.of(0, ...d))).toString('hex'));
        const src = Buffer.alloc(64 + at * 7);
        src.set(lr, at * 7);
        const out = Buffer.alloc(32 * (at + 1), 0xee);
        hashChildrenInto(src, at * 7, out, 32 * at);
        expect(out.subarray(32 * at)).toEqual(Buffer.from(sha256(Uint8Array.of(1, ...lr))));
        expect(out.subarray(0, 32 * at).every((b) => b === 0xee)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});

/** Texts that are and are not canonical: the reference form, plain JSON.stringify, spacing, reordering. */
const textArb = fc.jsonValue({ maxDepth: 5 }).chain((v) =>
  fc.constantFrom(
    canonicalize(v)!,
    JSON.stringify(v),
    JSON.stringify(v, null, 1),
    canonicalize(v)!.replace(/"([^"\\]*)":/, '"$1" :'),
    canonicalize(v)!.replace(/1/, '1.0'),
    canonicalize(v)!.replace(/"/, '"\\u0061'),
    canonicalize(v)!.replace(/\{"/, '{"~":0,"'),
  ),
);

/** No lone surrogate in any string or member name. (A regex over the text cannot tell "\\ud800",
 * an escaped backslash before "ud800", from "\ud800": CI found one that way.) */
const wellFormed = (v: unknown): boolean =>
  typeof v === 'string' ? v.isWellFormed()
    : Array.isArray(v) ? v.every(wellFormed)
      : v !== null && typeof v === 'object' ? Object.entries(v).every(([k, x]) => k.isWellFormed() && wellFormed(x))
        : true;

describe('isCanonicalFast', () => {
  it('never says canonical when the reference serialiser disagrees, and says it for canonical texts without integer-like names', () => {
    fc.assert(
      fc.property(textArb, (text) => {
        let value: unknown;
        try {
          value = JSON.parse(text);
        } catch {
          return;
        }
        const reference = (() => {
          try {
            // canonicalize writes lone surrogates as escapes; RFC 8785 (and our serialiser) refuse them.
            return canonicalize(value) === text && wellFormed(value);
          } catch {
            return false;
          }
        })();
        if (isCanonicalFast(value, text)) expect(reference).toBe(true);
        if (reference && !/"\d+":/.test(text)) expect(isCanonicalFast(value, text)).toBe(true);
      }),
      { numRuns: 3000 },
    );
  });

  it('refuses duplicate names, unsorted and integer-like names out of order, lone surrogates and deep nesting', () => {
    const no = (text: string) => expect(isCanonicalFast(JSON.parse(text), text)).toBe(false);
    no('{"a":1,"a":1}');
    no('{"b":1,"a":2}');
    no('{"10":1,"9":2}'); // canonical order, but V8 lists "9" first: left to the general path
    no('"\\ud800"');
    no('{"\\udc00":1}');
    // An escaped backslash before "UdF1" is not a surrogate escape: canonical, and said so.
    const escaped = '[null,null,[null,null,"\\\\UdF1","oF40",null,"+"]]';
    expect(isCanonicalFast(JSON.parse(escaped), escaped)).toBe(true);
    no(`${'['.repeat(65)}${']'.repeat(65)}`);
    expect(isCanonicalFast(JSON.parse(`${'['.repeat(64)}${']'.repeat(64)}`), `${'['.repeat(64)}${']'.repeat(64)}`)).toBe(true);
    expect(isCanonicalFast(JSON.parse('{"1":0,"a":[1.5,"\\u001f",null,true]}'), '{"1":0,"a":[1.5,"\\u001f",null,true]}')).toBe(true);
  });

  it('decodeEntry accepts and refuses the same entry texts as before (integer-like and reordered names included)', () => {
    const base = { actor: 'a', index: 3, payload: {}, prev: null, time: '2026-01-01T00:00:00Z', type: 'a.b', v: 1 };
    const ok = (payloadText: string) => decodeEntry(Buffer.from(`{"actor":"a","index":3,"payload":${payloadText},"prev":null,"time":"2026-01-01T00:00:00Z","type":"a.b","v":1}`));
    expect(ok('{"10":1,"9":2}').payload).toEqual({ 10: 1, 9: 2 });
    expect(() => ok('{"9":2,"10":1}')).toThrow(/canonical/);
    expect(() => ok('{"b":1,"a":2}')).toThrow(/canonical/);
    expect(() => ok('{"a":"\\ud800"}')).toThrow(/not plain JSON/);
    expect(() => ok('{"a":1e400}')).toThrow(/not plain JSON|canonical/);
    expect(ok('{"a":[1,{"b":null}]}').payload).toEqual({ a: [1, { b: null }] });
    expect(decodeEntry(Buffer.from(canonicalize(base)!)).index).toBe(3);
  });
});
