// The ledger contract, run against every store (SQLite file, PostgreSQL schema): canonical
// chained entries, atomic batches, typed errors, checkpoints that chain and are never signed
// over a rewritten history, and bounds on every index.
import { describe, expect, it } from 'vitest';
import { decodeEntry, encodeEntry, generateNoteKey, hashLeaf, newVerifier, openCheckpoint, toHex, verifyConsistency, verifyInclusion } from '../../ledger/index.js';
import { STORES } from './stores.js';

const key = generateNoteKey('test.example/log');

describe.each(STORES)('ledger contract: $name store', (store) => {
  const create = () => store.open(store.fresh(), { signerKey: key.signerKey, create: true });

  it('refuses to open a missing ledger unless asked to create it', () => {
    expect(() => store.open(store.fresh())).toThrow(expect.objectContaining({ code: 'LEDGER_NOT_FOUND' }));
  });

  it('appends canonical, chained entries that survive reopening', () => {
    const loc = store.fresh();
    let t = 0;
    const l = store.open(loc, { signerKey: key.signerKey, create: true, clock: () => new Date(1_700_000_000_000 + t++ * 1000) });
    const a = l.append({ type: 'model.registered', actor: 'cli', payload: { z: 1, a: [true, null, 'x'] } });
    const [b, c] = l.appendBatch([{ type: 'dataset.registered', payload: {} }, { type: 'note.added', payload: { text: 'é' } }]);
    l.close();
    const r = store.open(loc);
    expect(r.size()).toBe(3);
    expect(new TextDecoder().decode(r.get(0).bytes)).toBe(
      '{"actor":"cli","index":0,"payload":{"a":[true,null,"x"],"z":1},"prev":null,"time":"2023-11-14T22:13:20.000Z","type":"model.registered","v":1}',
    );
    expect(r.get(0).leafHash).toEqual(hashLeaf(r.get(0).bytes));
    expect(r.get(1).entry.prev).toBe(toHex(a.leafHash));
    expect(r.get(2).entry.prev).toBe(toHex(b!.leafHash));
    expect(r.get(2).leafHash).toEqual(c!.leafHash);
    expect(r.list({ type: 'dataset.registered' }).map((e) => e.index)).toEqual([1]);
    expect(r.list({ from: 1, limit: 1 }).map((e) => e.index)).toEqual([1]);
    expect(() => r.checkpoint()).toThrow(expect.objectContaining({ code: 'LEDGER_BAD_KEY' }));
    r.close();
  });

  it('rejects bad entries with typed errors and writes nothing', () => {
    const l = create();
    for (const bad of [
      { type: 'NoDots', payload: {} },
      { type: 'a.b', payload: [] },
      { type: 'a.b', payload: { x: Number.NaN } },
      { type: 'a.b', actor: 'has space', payload: {} },
      { type: 'a.b', payload: { big: 'x'.repeat(1 << 21) } },
      { type: 'a.b', payload: { d: new Date(0) } },
      { type: 'a.b', payload: { f: () => 1 } },
    ]) {
      expect(() => l.appendBatch([{ type: 'ok.one', payload: {} }, bad as never])).toThrow(expect.objectContaining({ code: 'LEDGER_BAD_ENTRY' }));
    }
    expect(l.size()).toBe(0);
    expect(() => l.appendBatch('x' as never)).toThrow(TypeError);
    l.close();
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
    const l = create();
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
    expect(l.root()).toEqual(o2.root);
    expect(l.checkpointCovering(3)?.size).toBe(10);
    expect(l.checkpointCovering(12)?.size).toBe(17);
    expect(l.checkpointCovering(17)).toBeUndefined();
    expect(l.latestCheckpoint()?.size).toBe(17);
    expect(l.checkpoints().map((c) => c.size)).toEqual([0, 10, 17]);
    l.close();
  });

  it('never signs a checkpoint inconsistent with the last one', async () => {
    const loc = store.fresh();
    const l = store.open(loc, { signerKey: key.signerKey, create: true });
    l.appendBatch(Array.from({ length: 8 }, (_, i) => ({ type: 'n.x', payload: { i } })));
    l.checkpoint();
    l.append({ type: 'n.x', payload: { i: 8 } });
    l.close();
    // Rewrite history behind the log's back: change entry 2 and patch its hashes as a forger would.
    const db = await store.raw(loc);
    const row = (await db.get<{ data: Buffer }>('SELECT data FROM entries WHERE idx = 2'))!;
    const forged = Buffer.from(row.data.toString().replace('"i":2', '"i":9'));
    await db.run('UPDATE entries SET data = ?, leaf_hash = ? WHERE idx = 2', forged, Buffer.from(hashLeaf(forged)));
    await db.run('DELETE FROM nodes');
    await db.close();
    const l2 = store.open(loc, { signerKey: key.signerKey });
    // Rebuilt nodes would be needed for a proof; the missing ones are reported, not invented.
    expect(() => l2.checkpoint()).toThrow(expect.objectContaining({ code: expect.stringMatching(/LEDGER_(TAMPERED|INCONSISTENT)/) }));
    expect(l2.checkpoints()).toHaveLength(1);
    l2.close();
  });

  it('refuses a signer key that is not the log key', () => {
    const loc = store.fresh();
    store.open(loc, { signerKey: key.signerKey, create: true }).close();
    expect(() => store.open(loc, { signerKey: generateNoteKey('x').signerKey })).toThrow(expect.objectContaining({ code: 'LEDGER_BAD_KEY' }));
  });

  it('bounds indices and sizes', () => {
    const l = create();
    l.append({ type: 'n.x', payload: {} });
    for (const f of [() => l.get(1), () => l.get(-1), () => l.get(0.5), () => l.inclusionProof(0, 2), () => l.consistencyProof(2), () => l.root(5)]) {
      expect(f).toThrow(expect.objectContaining({ code: 'LEDGER_OUT_OF_RANGE' }));
    }
    l.close();
  });
});
