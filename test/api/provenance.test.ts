// Provenance over HTTP: models registered through the API, a bundle built by POST, downloaded
// by GET and checked offline with the evidence package's own verifier against the log key.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyProvenanceBundle } from '../../src/evidence/index.js';
import { errorOf, makeTestApi, type TestApi } from './helpers.js';

let t: TestApi;
beforeAll(() => { t = makeTestApi(); });
afterAll(() => t.dispose());

const hex = (s: string) => createHash('sha256').update(s).digest('hex');
const post = (path: string, body: unknown, role: 'engineer' | 'compliance' | 'legal' = 'engineer') =>
  t.req(path, { method: 'POST', role, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
const keyId = (role: string) => t.keys.list().find((k) => k.role === role)!.id;

describe('provenance routes', () => {
  it('builds a bundle for a derived model that the offline verifier accepts, and records who asked', async () => {
    const ds = await post('/v1/datasets', { dataset: { name: 'digits', digest: { sha256: hex('digits') } }, items: 100 });
    expect(ds.status).toBe(201);
    const dsId = ((await ds.json()) as { id: string }).id;
    const base = await post('/v1/models', { model: { name: 'base', digest: { sha256: hex('base') } }, format: 'onnx' });
    const baseId = ((await base.json()) as { id: string }).id;
    const marked = await post('/v1/models', { model: { name: 'tuned', digest: { sha256: hex('tuned') } }, format: 'onnx', derivedFrom: { operation: 'fine-tune', baseModels: [baseId], datasets: [dsId] } });
    expect(marked.status).toBe(201);
    const markedId = ((await marked.json()) as { id: string }).id;

    const res = await post('/v1/provenance', { modelId: markedId }, 'compliance');
    expect(res.status).toBe(201);
    const made = (await res.json()) as { id: string; size: number; entries: number; index: number; logVerifierKey: string; ownerVerifierKey: string };
    expect(made.entries).toBe(4);
    const entry = t.home.ledger.get(made.index).entry;
    expect(entry.type).toBe('api.provenance-created');
    expect(entry.actor).toBe(`key:${keyId('compliance')}`);
    expect(entry.payload).toMatchObject({ model: markedId, bundle: { sha256: made.id } });

    const dl = await t.req(`/v1/provenance/${made.id}`, { role: 'auditor' });
    expect(dl.status).toBe(200);
    expect(dl.headers.get('content-disposition')).toMatch(/^attachment; filename="provenance-/);
    const text = await dl.text();
    expect(Buffer.byteLength(text)).toBe(made.size);
    expect(hex(text)).toBe(made.id);
    // The verifier gets nothing from the server but the bundle and the log key we already hold.
    const r = await verifyProvenanceBundle(text, { logKey: t.home.ledger.verifierKey, ownerKey: t.home.ownerVerifierKey });
    expect(r.model).toBe(markedId);
    expect([...r.closure.models.keys()].sort()).toEqual([baseId, markedId].sort());
    expect([...r.closure.datasets.keys()]).toEqual([dsId]);

    // One flipped byte in the download is caught by that verifier.
    const bundle = JSON.parse(text) as { entries: { bytes: string }[] };
    const b = bundle.entries[0]!.bytes;
    bundle.entries[0]!.bytes = b.slice(0, 10) + (b[10] === 'A' ? 'B' : 'A') + b.slice(11);
    const bad = `${JSON.stringify(bundle, null, 2)}\n`;
    expect(bad).not.toBe(text);
    await expect(verifyProvenanceBundle(bad, { logKey: t.home.ledger.verifierKey })).rejects.toThrow();
  });

  it('404s an unregistered model and an unknown bundle, 400s a malformed id, writes nothing then', async () => {
    const size = t.home.ledger.size();
    const res = await post('/v1/provenance', { modelId: `model:sha256:${hex('nobody')}` }, 'compliance');
    expect(res.status).toBe(404);
    expect((await errorOf(res)).code).toBe('EVIDENCE_NOT_FOUND');
    expect((await t.req(`/v1/provenance/${hex('none')}`, { role: 'compliance' })).status).toBe(404);
    const traversal = await t.req('/v1/provenance/..%2f..%2fowner.key', { role: 'compliance' });
    expect(traversal.status).toBe(400);
    expect(await traversal.text()).not.toContain('PRIVATE');
    expect(t.home.ledger.size()).toBe(size);
  });
});
