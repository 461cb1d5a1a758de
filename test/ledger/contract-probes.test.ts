// The transparency-dev probes through each store: a ledger whose stored leaf hashes are those of
// the RFC 6962 test leaves (transparency-dev/merkle testonly.LeafInputs), with its perfect-subtree
// rows rebuilt by the naive reference, must hand out exactly the published proofs and roots of
// every happy-path probe; every mutated probe is rejected against the store's own root.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromBase64, generateNoteKey, hashLeaf, verifyConsistency, verifyInclusion, type Ledger } from '../../ledger/index.js';
import { VECTORS } from '../helpers/paths.js';
import { refMth } from '../helpers/reference-tree.js';
import { STORES } from './stores.js';

// testonly/constants.go of transparency-dev/merkle: the leaves of the RFC 6962 test tree.
const LEAVES = ['', '00', '10', '2021', '3031', '40414243', '5051525354555657', '606162636465666768696a6b6c6d6e6f'].map((h) => new Uint8Array(Buffer.from(h, 'hex')));
const root = join(VECTORS, 'transparency-dev-merkle');

type Probe = Record<string, unknown> & { wantErr: boolean };
function probes(kind: string): { name: string; probe: Probe }[] {
  const out: { name: string; probe: Probe }[] = [];
  for (const d of readdirSync(join(root, kind)).filter((d) => /^\d+$/.test(d))) {
    for (const f of readdirSync(join(root, kind, d)).filter((f) => f.endsWith('.json'))) out.push({ name: `${d}/${f}`, probe: JSON.parse(readFileSync(join(root, kind, d, f), 'utf8')) });
  }
  return out;
}
const b64 = (s: unknown): Uint8Array => (typeof s === 'string' ? fromBase64(s) ?? new Uint8Array(Buffer.from(s, 'base64')) : new Uint8Array(0));
const list = (a: unknown): Uint8Array[] => (Array.isArray(a) ? a.map(b64) : []);

describe.each(STORES)('transparency-dev probes through the $name store', (store) => {
  let ledger: Ledger;
  beforeAll(async () => {
    const loc = store.fresh();
    const l = store.open(loc, { signerKey: generateNoteKey('probe/log').signerKey, create: true });
    l.appendBatch(LEAVES.map((_, i) => ({ type: 'probe.leaf', payload: { i } })));
    l.close();
    // Replace the stored hashes with the test tree's, as the store's own rows.
    const db = await store.raw(loc);
    for (let i = 0; i < LEAVES.length; i++) await db.run('UPDATE entries SET leaf_hash = ? WHERE idx = ?', Buffer.from(hashLeaf(LEAVES[i]!)), i);
    await db.run('DELETE FROM nodes');
    for (let level = 1; 2 ** level <= LEAVES.length; level++) {
      for (let i = 0; (i + 1) * 2 ** level <= LEAVES.length; i++) await db.run('INSERT INTO nodes (level, idx, hash) VALUES (?, ?, ?)', level, i, Buffer.from(refMth(LEAVES.slice(i * 2 ** level, (i + 1) * 2 ** level))));
    }
    await db.close();
    ledger = store.open(loc);
  });
  afterAll(() => ledger?.close());

  const inclusion = probes('inclusion');
  const consistency = probes('consistency');
  it('found the probes', () => {
    expect(inclusion.filter((p) => !p.probe.wantErr).length).toBeGreaterThanOrEqual(5);
    expect(consistency.filter((p) => !p.probe.wantErr).length).toBeGreaterThanOrEqual(5);
  });

  it('hands out exactly the published inclusion proofs and roots', () => {
    for (const { probe } of inclusion.filter((p) => !p.probe.wantErr)) {
      const { leafIdx, treeSize } = probe as unknown as { leafIdx: number; treeSize: number };
      const p = ledger.inclusionProof(leafIdx, treeSize);
      expect(p.leafHash).toEqual(b64(probe.leafHash));
      expect(p.hashes).toEqual(list(probe.proof));
      expect(ledger.root(treeSize)).toEqual(b64(probe.root));
    }
  });

  it('hands out exactly the published consistency proofs', () => {
    for (const { probe } of consistency.filter((p) => !p.probe.wantErr && (p.probe.size1 as number) > 0)) {
      const { size1, size2 } = probe as unknown as { size1: number; size2: number };
      expect(ledger.consistencyProof(size1, size2).hashes).toEqual(list(probe.proof));
      expect(ledger.root(size2)).toEqual(b64(probe.root2));
    }
  });

  it('rejects every mutated inclusion probe, none of which is what the store hands out', () => {
    for (const { name, probe } of inclusion.filter((p) => p.probe.wantErr)) {
      const { leafIdx, treeSize } = probe as unknown as { leafIdx: number; treeSize: number };
      expect(() => verifyInclusion(leafIdx, treeSize, b64(probe.leafHash), list(probe.proof), b64(probe.root)), name).toThrow();
      if (Number.isSafeInteger(leafIdx) && Number.isSafeInteger(treeSize) && leafIdx >= 0 && leafIdx < treeSize && treeSize <= LEAVES.length) {
        const p = ledger.inclusionProof(leafIdx, treeSize);
        const same = Buffer.compare(Buffer.from(p.leafHash), Buffer.from(b64(probe.leafHash))) === 0 && JSON.stringify(p.hashes.map((h) => Buffer.from(h).toString('hex'))) === JSON.stringify(list(probe.proof).map((h) => Buffer.from(h).toString('hex'))) && Buffer.compare(Buffer.from(ledger.root(treeSize)), Buffer.from(b64(probe.root))) === 0;
        expect(same, name).toBe(false);
      }
    }
  });

  it('rejects every mutated consistency probe ', () => {
    for (const { name, probe } of consistency.filter((p) => p.probe.wantErr)) {
      expect(() => verifyConsistency(probe.size1 as number, probe.size2 as number, list(probe.proof), b64(probe.root1), b64(probe.root2)), name).toThrow();
    }
  });
});
