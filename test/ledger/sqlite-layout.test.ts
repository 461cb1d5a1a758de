// The SQLite store's two layouts. Schema 2 (new ledgers) stores node rows from level 4 up and
// rehashes subtrees of 2-8 leaves from their leaf hashes; schema 1 ledgers, written before
// 2026-12-02 (fixtures/ledger-v1, a real file from that release), keep every level and must go on
// working: proofs against their own signed checkpoints, audits, and further appends.
import Database from 'better-sqlite3';
import { copyFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateNoteKey, hashLeaf, newVerifier, openCheckpoint, openLedger, verifyConsistency, verifyInclusion } from '../../ledger/index.js';
import { REPO } from '../helpers/paths.js';
import { refMth, refPath } from '../helpers/reference-tree.js';

const V1 = join(REPO, 'fixtures/ledger-v1/ledger.db');
const V1_KEY = 'fixture.example/ledger-v1+f0ed54ec+AR3fpAHmAaYw2bm6FOaYbidX3U4vdDvF0i/1WTy3bXEx';
const fresh = () => join(mkdtempSync(join(tmpdir(), 'hm-layout-')), 'ledger.db');
const copyOfV1 = () => {
  const to = fresh();
  copyFileSync(V1, to);
  return to;
};
const raw = <T>(path: string, fn: (db: Database.Database) => T): T => {
  const db = new Database(path);
  try {
    return fn(db);
  } finally {
    db.close();
  }
};
const levelCounts = (path: string) =>
  raw(path, (db) => Object.fromEntries((db.prepare('SELECT level, count(*) AS n FROM nodes GROUP BY level').all() as { level: number; n: number }[]).map((r) => [r.level, r.n])));
const expectedCounts = (size: number, from: number) => {
  const out: Record<number, number> = {};
  for (let l = from; Math.floor(size / 2 ** l) > 0; l++) out[l] = Math.floor(size / 2 ** l);
  return out;
};

describe('schema 2: node rows from level 4 up', () => {
  it('a new ledger writes exactly the perfect subtrees of 16 or more leaves, and its proofs match the reference', () => {
    const path = fresh();
    const l = openLedger(path, { create: true, signerKey: generateNoteKey('layout/log').signerKey });
    const stored = [...l.appendBatch(Array.from({ length: 45 }, (_, i) => ({ type: 'n.x', payload: { i } })))];
    for (let i = 45; i < 83; i++) stored.push(l.append({ type: 'n.x', payload: { i } }));
    const leaves = stored.map((s) => s.bytes);
    for (const n of [1, 2, 3, 7, 8, 15, 16, 17, 31, 64, 83]) {
      for (const m of [0, Math.floor(n / 2), n - 1]) expect(l.inclusionProof(m, n).hashes).toEqual(refPath(m, leaves.slice(0, n)));
      expect(l.root(n)).toEqual(refMth(leaves.slice(0, n)));
    }
    // Subtree reads at the rehashed levels give the same hashes as the reference.
    expect(l.subtreeHashes(3, 2, 3)).toEqual([2, 3, 4].map((j) => refMth(leaves.slice(8 * j, 8 * j + 8))));
    l.close();
    expect(raw(path, (db) => db.prepare("SELECT value FROM meta WHERE key = 'schema'").pluck().get())).toBe('2');
    expect(levelCounts(path)).toEqual(expectedCounts(83, 4));
  });

  it('a missing leaf under a rehashed subtree is reported, never invented', async () => {
    const path = fresh();
    const l = openLedger(path, { create: true, signerKey: generateNoteKey('layout/log').signerKey });
    l.appendBatch(Array.from({ length: 40 }, (_, i) => ({ type: 'n.x', payload: { i } })));
    l.close();
    raw(path, (db) => db.prepare('DELETE FROM entries WHERE idx = 34').run());
    const l2 = openLedger(path);
    expect(() => l2.inclusionProof(39, 40)).toThrow(expect.objectContaining({ code: 'LEDGER_TAMPERED' }));
    expect(() => l2.subtreeHashes(1, 16, 2)).toThrow(expect.objectContaining({ code: 'LEDGER_TAMPERED' }));
    expect((await l2.audit()).ok).toBe(false);
    l2.close();
  });

  it('a layout version flipped by hand in either direction is caught, never silently trusted', async () => {
    // Schema 2 file relabelled 1: the reader wants rows at levels 1-3 that were never written.
    const path = fresh();
    const l = openLedger(path, { create: true, signerKey: generateNoteKey('layout/log').signerKey });
    l.appendBatch(Array.from({ length: 40 }, (_, i) => ({ type: 'n.x', payload: { i } })));
    l.checkpoint();
    l.close();
    raw(path, (db) => db.prepare("UPDATE meta SET value = '1' WHERE key = 'schema'").run());
    const relabelled = openLedger(path);
    expect(() => relabelled.inclusionProof(5, 40)).toThrow(expect.objectContaining({ code: 'LEDGER_TAMPERED' }));
    const r1 = await relabelled.audit();
    expect(r1.ok).toBe(false);
    expect(r1.problems.some((p) => p.kind === 'node' && p.level === 1 && /missing/.test(p.message))).toBe(true);
    relabelled.close();
    // Schema 1 file relabelled 2: its low rows become rows this layout never writes.
    const v1 = copyOfV1();
    raw(v1, (db) => db.prepare("UPDATE meta SET value = '2' WHERE key = 'schema'").run());
    const l2 = openLedger(v1);
    const r2 = await l2.audit();
    expect(r2.ok).toBe(false);
    expect(r2.problems.some((p) => p.kind === 'node' && p.level === 2 && /keeps no rows below level 4/.test(p.message))).toBe(true);
    l2.close();
  });

  it('refuses a schema version it does not know, with one readable line', () => {
    const path = fresh();
    openLedger(path, { create: true, signerKey: generateNoteKey('layout/log').signerKey }).close();
    raw(path, (db) => db.prepare("UPDATE meta SET value = '3' WHERE key = 'schema'").run());
    expect(() => openLedger(path)).toThrow(expect.objectContaining({ code: 'LEDGER_UNSUPPORTED_VERSION', message: expect.stringMatching(/^ledger schema version 3 is not supported \(this reader knows 1 and 2\); upgrade hallmark$/) }));
  });
});

describe('schema 1: a ledger written by the previous release', () => {
  const verifier = newVerifier(V1_KEY);

  it('proves every entry against its own signed checkpoints, and the two checkpoints consistent', async () => {
    const l = openLedger(copyOfV1());
    expect(l.size()).toBe(100);
    const [c37, c100] = l.checkpoints().map((c) => openCheckpoint(c.note, verifier, 'fixture.example/ledger-v1'));
    expect([c37!.size, c100!.size]).toEqual([37, 100]);
    for (let m = 0; m < 100; m++) {
      const p = l.inclusionProof(m, 100);
      expect(p.leafHash).toEqual(hashLeaf(l.get(m).bytes));
      expect(() => verifyInclusion(m, 100, p.leafHash, p.hashes, c100!.root)).not.toThrow();
    }
    expect(() => verifyConsistency(37, 100, l.consistencyProof(37, 100).hashes, c37!.root, c100!.root)).not.toThrow();
    expect(await l.audit()).toMatchObject({ ok: true, size: 100, checkpoints: 2, problems: [] });
    l.close();
  });

  it('keeps its layout when appended to: every level stored, audit clean, proofs match the reference', async () => {
    const path = copyOfV1();
    const l = openLedger(path);
    l.appendBatch(Array.from({ length: 20 }, (_, i) => ({ type: 'fixture.entry', actor: 'fixture', payload: { i: 100 + i } })));
    for (let i = 120; i < 131; i++) l.append({ type: 'fixture.entry', actor: 'fixture', payload: { i } });
    const leaves = l.list({ limit: 200 }).map((s) => s.bytes);
    expect(leaves).toHaveLength(131);
    for (const m of [0, 36, 99, 100, 118, 130]) expect(l.inclusionProof(m, 131).hashes).toEqual(refPath(m, leaves));
    expect(l.root()).toEqual(refMth(leaves));
    expect(await l.audit()).toMatchObject({ ok: true, size: 131, problems: [] });
    l.close();
    expect(raw(path, (db) => db.prepare("SELECT value FROM meta WHERE key = 'schema'").pluck().get())).toBe('1');
    expect(levelCounts(path)).toEqual(expectedCounts(131, 1));
  });

  it('still reads its low-level rows: a forged level-2 node breaks the proofs through it and the audit names it', async () => {
    const path = copyOfV1();
    raw(path, (db) => db.prepare('UPDATE nodes SET hash = zeroblob(32) WHERE level = 2 AND idx = 5').run());
    const l = openLedger(path);
    const c100 = openCheckpoint(l.latestCheckpoint()!.note, verifier);
    // Entry 16's path passes through subtree (level 2, index 5), which covers entries 20..23.
    const p = l.inclusionProof(16, 100);
    expect(() => verifyInclusion(16, 100, p.leafHash, p.hashes, c100.root)).toThrow();
    const r = await l.audit();
    expect(r.problems.map((x) => [x.kind, x.level, x.index])).toEqual([['node', 2, 5]]);
    l.close();
  });
});
