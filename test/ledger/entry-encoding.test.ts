// The append path encodes entries with a fixed template around the canonical payload and hashes
// them with node:crypto. Both must be byte-identical to the general RFC 8785 serializer (checked
// against the `canonicalize` reference package) and to a JavaScript SHA-256 (@noble/hashes).
import { sha256 } from '@noble/hashes/sha2.js';
import canonicalize from 'canonicalize';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeEntry, encodeEntry, hashChildren, hashLeaf, type Entry, type JsonObject } from '../../ledger/index.js';

const entryArb = fc.record({
  v: fc.constant(1 as const),
  index: fc.nat(),
  type: fc.constantFrom('model.registered', 'a.b', 'x-y.z-1.w'),
  time: fc.date({ min: new Date(0), max: new Date(4e12), noInvalidDate: true }).map((d) => d.toISOString()),
  actor: fc.stringMatching(/^[\x21-\x7e]{1,20}$/),
  prev: fc.option(fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => Buffer.from(b).toString('hex')), { nil: null }),
  payload: fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 4 })) as fc.Arbitrary<JsonObject>,
});

describe('entry encoding', () => {
  it('is the RFC 8785 form of the whole entry, and decodes back', () => {
    fc.assert(
      fc.property(entryArb, (e: Entry) => {
        const bytes = encodeEntry(e);
        expect(new TextDecoder().decode(bytes)).toBe(canonicalize(e));
        expect(decodeEntry(bytes)).toEqual(JSON.parse(canonicalize(e)!));
      }),
      { numRuns: 1000 },
    );
  });
});

describe('tree hashing on node:crypto', () => {
  it('equals SHA-256(0x00 || d) and SHA-256(0x01 || l || r) computed by @noble/hashes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 9000 }), fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ maxLength: 40 }), (d, l, r) => {
        expect(hashLeaf(d)).toEqual(sha256(Uint8Array.of(0, ...d)));
        expect(hashChildren(l, r)).toEqual(sha256(Uint8Array.of(1, ...l, ...r)));
      }),
      { numRuns: 500 },
    );
  });
});
