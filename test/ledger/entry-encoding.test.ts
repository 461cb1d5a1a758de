// The append path encodes entries with a fixed template around the canonical payload and hashes
// them with node:crypto. Both must be byte-identical to the general RFC 8785 serializer (checked
// against the `canonicalize` reference package) and to a JavaScript SHA-256 (@noble/hashes).
import { sha256 } from '@noble/hashes/sha2.js';
import canonicalize from 'canonicalize';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { planAppend, type LogEnd } from '../../ledger/append-plan.js';
import { entryText } from '../../ledger/entry.js';
import { decodeEntry, encodeEntry, hashChildren, hashLeaf, type Entry, type EntryInput, type JsonObject } from '../../ledger/index.js';
import { rootFromBorder } from '../../ledger/sqlite-ledger.js';

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

// RFC 9162 §2.1.1 written out, on @noble/hashes: the tree the append plan must build.
function mth(leaves: Uint8Array[]): Uint8Array {
  if (leaves.length === 1) return leaves[0]!;
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return sha256(Uint8Array.of(1, ...mth(leaves.slice(0, k)), ...mth(leaves.slice(k))));
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** Plans `batches` one after another, as a store would, and checks every entry against the reference. */
function checkPlans(batches: EntryInput[][]): void {
  const leaves: Uint8Array[] = [];
  let end: LogEnd = { size: 0, lastLeaf: null, border: [] };
  const all: { bytes: Uint8Array; leafHash: Uint8Array; prev: string | null; entry: Entry }[] = [];
  for (const inputs of batches) {
    const plan = planAppend(end, inputs, '2026-12-03T07:00:00.000Z', 1);
    for (const s of plan.stored) {
      all.push({ bytes: s.bytes, leafHash: s.leafHash, prev: s.entry.prev, entry: s.entry });
      leaves.push(sha256(Uint8Array.of(0, ...s.bytes)));
    }
    // Every stored node is the reference hash of the perfect subtree it names.
    for (const n of plan.nodes) expect(hex(n.hash)).toBe(hex(mth(leaves.slice(n.index << n.level, (n.index + 1) << n.level))));
    expect(hex(rootFromBorder(plan.end.border.map((b) => b.hash)))).toBe(hex(mth(leaves)));
    end = plan.end;
  }
  // Checked after every batch is planned: a later entry or hash written over an earlier one's
  // buffer would show here.
  all.forEach((s, i) => {
    expect(new TextDecoder().decode(s.bytes)).toBe(canonicalize(s.entry));
    expect(hex(s.leafHash)).toBe(hex(leaves[i]!));
    expect(s.prev).toBe(i === 0 ? null : hex(leaves[i - 1]!));
  });
}

describe('the append plan (one batch in shared buffers)', () => {
  const inputArb = fc.record({
    type: fc.constantFrom('model.registered', 'a.b'),
    payload: fc.dictionary(fc.string({ unit: 'binary' }), fc.jsonValue({ maxDepth: 3 })) as fc.Arbitrary<JsonObject>,
  }) as fc.Arbitrary<EntryInput>;

  it('gives each entry the bytes, leaf hash and prev of its own encoding, and the RFC 9162 tree', () => {
    fc.assert(fc.property(fc.array(fc.array(inputArb, { minLength: 1, maxLength: 40 }), { minLength: 1, maxLength: 4 }), checkPlans), { numRuns: 150 });
  });

  it('spreads a large batch over several buffers without overwriting an entry (multi-byte text across the boundaries)', () => {
    // 700 entries of about 1.2 KB, a third of it 2-4 byte UTF-8: several 256 KiB buffers.
    const big = Array.from({ length: 700 }, (_, i) => ({ type: 'model.registered', payload: { i, text: `${'é€𝄞'.repeat(100 + (i % 37))}${'a'.repeat(600)}` } }));
    checkPlans([big.slice(0, 1), big.slice(1)]);
  });

  it('refuses an entry over 1 MiB by its UTF-8 bytes, not its length in characters', () => {
    const start: LogEnd = { size: 0, lastLeaf: null, border: [] };
    const ok = { type: 'a.b', payload: { s: 'x' } };
    // 400,000 characters of 3 bytes each: 1.2 MB.
    expect(() => planAppend(start, [ok, { type: 'a.b', payload: { s: '€'.repeat(400_000) } }], '2026-12-03T07:00:00.000Z')).toThrow(/over the limit of 1048576/);
    const long = { type: 'a.b', payload: { s: 'x'.repeat(1 << 20) } };
    const bytes = Buffer.byteLength(entryText({ v: 1, index: 0, type: 'a.b', time: '2026-12-03T07:00:00.000Z', actor: 'local', prev: null, payload: long.payload }));
    expect(() => planAppend(start, [long], '2026-12-03T07:00:00.000Z')).toThrow(`entry is ${bytes} bytes, over the limit of 1048576`);
    // Just under: 349,000 three-byte characters.
    expect(planAppend(start, [ok, { type: 'a.b', payload: { s: '€'.repeat(349_000) } }], '2026-12-03T07:00:00.000Z').stored).toHaveLength(2);
  });
});
