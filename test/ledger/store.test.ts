import Database from 'better-sqlite3';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeEntry, encodeEntry, generateNoteKey, hashLeaf, newVerifier, openCheckpoint, openLedger, toHex, verifyConsistency, verifyInclusion } from '../../ledger/index.js';

const tmp = () => join(mkdtempSync(join(tmpdir(), 'hm-store-')), 'ledger.db');
const key = generateNoteKey('test.example/log');

describe('SQLite ledger', () => {
  it('refuses to open a missing database unless asked to create it', () => {
    expect(() => openLedger(tmp())).toThrow(expect.objectContaining({ code: 'LEDGER_NOT_FOUND' }));
  });

  it('appends canonical, chained entries that survive reopening', () => {
    const path = tmp();
    let t = 0;
    const l = openLedger(path, { signerKey: key.signerKey, create: true, clock: () => new Date(1_700_000_000_000 + t++ * 1000) });
    const a = l.append({ type: 'model.registered', actor: 'cli', payload: { z: 1, a: [true, null, 'x'] } });
    const [b, c] = l.appendBatch([{ type: 'dataset.registered', payload: {} }, { type: 'note.added', payload: { text: 'é' } }]);
    l.close();
    const r = openLedger(path);
    expect(r.size()).toBe(3);
    expect(new TextDecoder().decode(r.get(0).bytes)).toBe(
      '{"actor":"cli","index":0,"payload":{"a":[true,null,"x"],"z":1},"prev":null,"time":"2023-11-14T22:13:20.000Z","type":"model.registered","v":1}',
    );
    expect(r.get(1).entry.prev).toBe(toHex(a.leafHash));
    expect(r.get(2).entry.prev).toBe(toHex(b!.leafHash));
    expect(r.get(2).leafHash).toEqual(c!.leafHash);
    expect(r.list({ type: 'dataset.registered' }).map((e) => e.index)).toEqual([1]);
    expect(() => r.checkpoint()).toThrow(expect.objectContaining({ code: 'LEDGER_BAD_KEY' }));
    r.close();
  });

  it('rejects bad entries with typed errors and writes nothing', () => {
    const l = openLedger(':memory:', { signerKey: key.signerKey, create: true });
    for (const bad of [
      { type: 'NoDots', payload: {} },
      { type: 'a.b', payload: [] },
      { type: 'a.b', payload: { x: Number.NaN } },
      { type: 'a.b', actor: 'has space', payload: {} },
      { type: 'a.b', payload: { big: 'x'.repeat(1 << 21) } },
    ]) {
      expect(() => l.appendBatch([{ type: 'ok.one', payload: {} }, bad as never])).toThrow(expect.objectContaining({ code: 'LEDGER_BAD_ENTRY' }));
    }
    expect(l.size()).toBe(0);
  });

  it('readers reject unknown entry versions and non-canonical bytes', () => {
    const e = { v: 1 as const, index: 0, type: 'a.b', time: '2026-01-01T00:00:00.000Z', actor: 'x', prev: null, payload: {} };
    expect(decodeEntry(encodeEntry(e))).toEqual(e);
    const v2 = new TextEncoder().encode(JSON.stringify({ ...e, v: 2 }));
    expect(() => decodeEntry(v2)).toThrow(expect.objectContaining({ code: 'LEDGER_UNSUPPORTED_VERSION' }));
    const spaced = new TextEncoder().encode(JSON.stringify(e, null, 1));
    expect(() => decodeEntry(spaced)).toThrow(/canonical/);
  });

  it('signs checkpoints that verify and chain consistently', () => {
    const l = openLedger(':memory:', { signerKey: key.signerKey, create: true });
    const c0 = l.checkpoint();
    expect(c0.size).toBe(0);
    l.appendBatch(Array.from({ length: 10 }, (_, i) => ({ type: 'n.x', payload: { i } })));
    const c1 = l.checkpoint();
    expect(l.checkpoint().note).toBe(c1.note); // unchanged tree: same checkpoint
    l.appendBatch(Array.from({ length: 7 }, (_, i) => ({ type: 'n.x', payload: { i } })));
    const c2 = l.checkpoint();
    const v = newVerifier(l.verifierKey);
    const o1 = openCheckpoint(c1.note, v, l.origin);
    const o2 = openCheckpoint(c2.note, v, l.origin);
    verifyConsistency(o1.size, o2.size, l.consistencyProof(10, 17).hashes, o1.root, o2.root);
    const p = l.inclusionProof(3, 17);
    verifyInclusion(3, 17, hashLeaf(l.get(3).bytes), p.hashes, o2.root);
    expect(l.checkpointCovering(3)?.size).toBe(10);
    expect(l.checkpointCovering(12)?.size).toBe(17);
    expect(l.checkpoints().map((c) => c.size)).toEqual([0, 10, 17]);
  });

  it('never signs a checkpoint inconsistent with the last one', () => {
    const path = tmp();
    const l = openLedger(path, { signerKey: key.signerKey, create: true });
    l.appendBatch(Array.from({ length: 8 }, (_, i) => ({ type: 'n.x', payload: { i } })));
    l.checkpoint();
    l.append({ type: 'n.x', payload: { i: 8 } });
    l.close();
    // Rewrite history behind the log's back: change entry 2 and patch its hashes as a forger would.
    const db = new Database(path);
    const row = db.prepare('SELECT data FROM entries WHERE idx = 2').get() as { data: Buffer };
    const forged = Buffer.from(row.data.toString().replace('"i":2', '"i":9'));
    db.prepare('UPDATE entries SET data = ?, leaf_hash = ? WHERE idx = 2').run(forged, hashLeaf(forged));
    db.prepare('DELETE FROM nodes').run();
    db.close();
    const l2 = openLedger(path, { signerKey: key.signerKey });
    // Rebuilt nodes would be needed for a proof; the missing ones are reported, not invented.
    expect(() => l2.checkpoint()).toThrow(expect.objectContaining({ code: expect.stringMatching(/LEDGER_(TAMPERED|INCONSISTENT)/) }));
    expect(l2.checkpoints()).toHaveLength(1);
    l2.close();
  });

  it('refuses a signer key that is not the log key', () => {
    const path = tmp();
    openLedger(path, { signerKey: key.signerKey, create: true }).close();
    expect(() => openLedger(path, { signerKey: generateNoteKey('x').signerKey })).toThrow(expect.objectContaining({ code: 'LEDGER_BAD_KEY' }));
  });

  it('bounds indices and sizes', () => {
    const l = openLedger(':memory:', { signerKey: key.signerKey, create: true });
    l.append({ type: 'n.x', payload: {} });
    for (const f of [() => l.get(1), () => l.get(-1), () => l.get(0.5), () => l.inclusionProof(0, 2), () => l.consistencyProof(2), () => l.root(5)]) {
      expect(f).toThrow(expect.objectContaining({ code: 'LEDGER_OUT_OF_RANGE' }));
    }
  });
});
