import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consistencyFromJson, fromBase64, newVerifier, openCheckpoint, proofFromJson, verifyConsistency, verifyInclusion, hashLeaf } from '../../ledger/index.js';
import { errorOf, makeTestApi, type TestApi } from './helpers.js';

let t: TestApi;
beforeAll(() => {
  t = makeTestApi();
  t.home.ledger.appendBatch(Array.from({ length: 10 }, (_, i) => ({ type: 'note.added', actor: 'test', payload: { i } })));
  t.checkpoints.signIfGrown(); // what the server's timer does for appends that bypass the API
});
afterAll(() => t.dispose());

describe('ledger routes', () => {
  it('serves a signed checkpoint that verifies with the served public key', async () => {
    const key = (await (await t.req('/v1/ledger/pubkey')).json()) as { verifierKey: string; origin: string };
    expect(key.verifierKey).toBe(t.home.ledger.verifierKey);
    const res = await t.req('/v1/ledger/checkpoint');
    expect(res.status).toBe(200);
    const cp = (await res.json()) as { origin: string; size: number; root: string; checkpoint: string };
    const opened = openCheckpoint(cp.checkpoint, newVerifier(key.verifierKey), key.origin);
    expect(opened.size).toBe(cp.size);
    expect(cp.size).toBe(t.home.ledger.size());
    expect(Buffer.from(opened.root).toString('base64')).toBe(cp.root);
  });

  it('serves entries whose canonical bytes hash to the leaf hash', async () => {
    const res = await t.req('/v1/ledger/entries/3');
    const body = (await res.json()) as { index: number; leafHash: string; entry: { payload: { i: number } } };
    expect(body.index).toBe(3);
    expect(body.entry.payload.i).toBe(3);
    expect(body.leafHash).toBe(Buffer.from(hashLeaf(t.home.ledger.get(3).bytes)).toString('hex'));
    const missing = await t.req('/v1/ledger/entries/999');
    expect(missing.status).toBe(404);
    expect((await errorOf(missing)).code).toBe('LEDGER_OUT_OF_RANGE');
  });

  it('serves inclusion proofs that verify against the signed checkpoint', async () => {
    const size = t.home.ledger.size();
    for (const index of [0, 4, size - 1]) {
      const res = await t.req(`/v1/ledger/proof/inclusion?index=${index}`);
      expect(res.status).toBe(200);
      const json = await res.json();
      expect(Object.keys(json as object).sort()).toEqual(['checkpoint', 'hashes', 'index', 'leafHash', 'treeSize']);
      const p = proofFromJson(json);
      const cp = openCheckpoint(p.checkpoint!, newVerifier(t.home.ledger.verifierKey));
      expect(p.treeSize).toBe(cp.size);
      expect(() => verifyInclusion(p.index, p.treeSize, p.leafHash, p.hashes, cp.root)).not.toThrow();
    }
  });

  it('serves consistency proofs between a stored checkpoint and the current tree', async () => {
    const old = (await (await t.req('/v1/ledger/checkpoint')).json()) as { size: number; root: string };
    t.home.ledger.append({ type: 'note.added', actor: 'test', payload: { later: true } });
    t.checkpoints.signIfGrown();
    const res = await t.req(`/v1/ledger/proof/consistency?from=${old.size}`);
    const p = consistencyFromJson(await res.json());
    const cp = openCheckpoint(p.checkpoint!, newVerifier(t.home.ledger.verifierKey));
    expect(cp.size).toBe(old.size + 1);
    expect(() => verifyConsistency(p.from, p.to, p.hashes, fromBase64(old.root)!, cp.root)).not.toThrow();
    // A proof at an old size uses that size's stored checkpoint.
    const atOld = await t.req(`/v1/ledger/proof/inclusion?index=0&size=${old.size}`);
    expect(proofFromJson(await atOld.json()).treeSize).toBe(old.size);
    const noCp = await t.req('/v1/ledger/proof/inclusion?index=0&size=2');
    expect(noCp.status).toBe(404);
    expect((await errorOf(noCp)).code).toBe('LEDGER_OUT_OF_RANGE');
  });

  it('refuses malformed numbers with a readable 400', async () => {
    for (const q of ['index=-1', 'index=1e3', 'index=', 'index=abc', 'index=99999999999999999999', '']) {
      const res = await t.req(`/v1/ledger/proof/inclusion?${q}`);
      expect(res.status, q).toBe(400);
      const e = await errorOf(res);
      expect(e.code).toBe('API_INVALID_REQUEST');
      expect(e.message).toMatch(/^invalid request: query\.index: /);
    }
  });

  it('appends entries as the calling key', async () => {
    const before = t.home.ledger.size();
    const res = await t.req('/v1/ledger/entries', { method: 'POST', role: 'engineer', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ type: 'note.added', payload: { hello: 'world' } }) });
    expect(res.status).toBe(201);
    const body = (await res.json()) as { index: number; entry: { actor: string } };
    expect(body.index).toBe(before);
    const engineer = t.keys.list().find((k) => k.role === 'engineer')!;
    expect(body.entry.actor).toBe(`key:${engineer.id}`);
  });

  it('keeps server-written and checked entry types off the generic append route', async () => {
    const before = t.home.ledger.size();
    for (const type of ['model.registered', 'dataset.registered', 'lineage.derived']) {
      const res = await t.req('/v1/ledger/entries', { method: 'POST', role: 'admin', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ type, payload: {} }) });
      expect(res.status, type).toBe(400);
      expect((await errorOf(res)).message).toMatch(new RegExp(`entry type "${type.replace('.', '\\.')}" cannot be appended here`));
    }
    // Protected record types (src/records): only the code that computes them writes them.
    for (const type of ['api.key-created', 'watermark.committed', 'verification.recorded', 'calibration.recorded']) {
      const res = await t.req('/v1/ledger/entries', { method: 'POST', role: 'admin', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ type, payload: {} }) });
      expect(res.status, type).toBe(403);
      expect(await errorOf(res)).toMatchObject({ code: 'RECORD_PROTECTED' });
    }
    expect(t.home.ledger.size()).toBe(before);
  });

  it('sets secure headers and never answers with a stack trace', async () => {
    const res = await t.req('/v1/ledger/checkpoint');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
    const nf = await t.req('/v1/nothing');
    expect(nf.status).toBe(404);
    expect((await errorOf(nf)).code).toBe('API_NOT_FOUND');
  });
});
