// The store's proofs and roots against the naive RFC reference, for every index and size up to
// a bound, plus random larger shapes; and the verifiers accept exactly what the store produces.
// Run against every store.
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { generateNoteKey, rootFromInclusionProof, verifyConsistency, verifyInclusion, hashLeaf, type Ledger } from '../../ledger/index.js';
import { refMth, refPath, refProof } from '../helpers/reference-tree.js';
import { STORES, type StoreUnderTest } from './stores.js';

// Every (m, n) pair up to N costs O(N^2) proof calls; on PostgreSQL each is a query (about 1 ms on
// a quiet machine, tens on a loaded one), so its bound is lower. Same checks, same code path.
const BOUNDS = { sqlite: { n: 70, runs: 300 }, postgres: { n: 40, runs: 100 } } as const;
const opened: Ledger[] = [];
afterAll(() => opened.forEach((l) => l.close()));

function buildLedger(store: StoreUnderTest, n: number): { ledger: Ledger; leaves: Uint8Array[] } {
  const ledger = store.open(store.fresh(), { signerKey: generateNoteKey('test/log').signerKey, create: true, clock: () => new Date(0) });
  opened.push(ledger);
  const stored = ledger.appendBatch(Array.from({ length: n }, (_, i) => ({ type: 'test.entry', payload: { i } })));
  return { ledger, leaves: stored.map((s) => s.bytes) };
}

describe.each(STORES)('Merkle tree against the RFC 9162 reference: $name store', { timeout: 600_000 }, (store) => {
  const N = BOUNDS[store.name].n;
  const { ledger, leaves } = buildLedger(store, N);
  it('roots match for every size', () => {
    for (let n = 0; n <= N; n++) expect(ledger.root(n)).toEqual(refMth(leaves.slice(0, n)));
  });
  it('inclusion proofs match PATH(m, D[n]) and verify, for every (m, n)', () => {
    for (let n = 1; n <= N; n++) {
      const root = refMth(leaves.slice(0, n));
      for (let m = 0; m < n; m++) {
        const p = ledger.inclusionProof(m, n);
        expect(p.hashes).toEqual(refPath(m, leaves.slice(0, n)));
        expect(p.leafHash).toEqual(hashLeaf(leaves[m]!));
        expect(() => verifyInclusion(m, n, p.leafHash, p.hashes, root)).not.toThrow();
      }
    }
  });
  it('consistency proofs match PROOF(m, D[n]) and verify, for every 0 < m <= n', () => {
    for (let n = 1; n <= N; n++) {
      const root2 = refMth(leaves.slice(0, n));
      for (let m = 1; m <= n; m++) {
        const p = ledger.consistencyProof(m, n);
        expect(p.hashes).toEqual(refProof(m, leaves.slice(0, n)));
        expect(() => verifyConsistency(m, n, p.hashes, refMth(leaves.slice(0, m)), root2)).not.toThrow();
      }
    }
  });
  it('a proof for the wrong leaf or the wrong root is rejected', () => {
    const p = ledger.inclusionProof(5, 40);
    expect(() => verifyInclusion(5, 40, hashLeaf(leaves[6]!), p.hashes, ledger.root(40))).toThrow();
    expect(() => verifyInclusion(5, 40, p.leafHash, p.hashes, ledger.root(41))).toThrow();
    expect(() => verifyInclusion(6, 40, p.leafHash, p.hashes, ledger.root(40))).toThrow();
    expect(rootFromInclusionProof(5, 40, p.leafHash, p.hashes)).toEqual(ledger.root(40));
  });

  describe('property: random shapes up to 600 leaves, appended in random batches', () => {
    const { ledger: big, leaves: all } = buildLedger(store, 0);
    // Batches of random sizes exercise the border carried from one append to the next.
    let seed = 7;
    while (all.length < 600) {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      const k = Math.min(600 - all.length, 1 + (seed % 37));
      const batch = k === 1 ? [big.append({ type: 'test.entry', payload: { i: all.length } })] : big.appendBatch(Array.from({ length: k }, (_, i) => ({ type: 'test.entry', payload: { i: all.length + i } })));
      all.push(...batch.map((s) => s.bytes));
    }
    it('inclusion and consistency verify against the reference roots; a flipped bit never does', () => {
      fc.assert(
        fc.property(fc.integer({ min: 1, max: 600 }), fc.nat(), fc.nat(), fc.nat(), (n, a, b, bit) => {
          const m = a % n;
          const root = refMth(all.slice(0, n));
          const p = big.inclusionProof(m, n);
          verifyInclusion(m, n, p.leafHash, p.hashes, root);
          const k = 1 + (b % n);
          const c = big.consistencyProof(k, n);
          verifyConsistency(k, n, c.hashes, refMth(all.slice(0, k)), root);
          if (p.hashes.length > 0) {
            const h = p.hashes.map((x) => Uint8Array.from(x));
            const i = bit % (h.length * 256);
            h[Math.floor(i / 256)]![(i % 256) >> 3]! ^= 1 << (i & 7);
            expect(() => verifyInclusion(m, n, p.leafHash, h, root)).toThrow();
          }
        }),
        { numRuns: BOUNDS[store.name].runs },
      );
    });
  });
});
