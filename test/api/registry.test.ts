import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorOf, makeTestApi, type TestApi } from './helpers.js';
import { listFiles, onnxModelBytes, storedFiles } from './files.js';
import { blobsFor } from '../../src/api/blob-files.js';

let t: TestApi;
beforeAll(() => { t = makeTestApi({ limits: { uploadsPerWindow: 4 } }); });
afterAll(() => t.dispose());

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const upload = (path: string, body: Uint8Array, role: 'engineer' | 'admin' = 'engineer') =>
  t.req(path, { method: 'PUT', role, headers: { 'content-type': 'application/octet-stream' }, body });
const postJson = (path: string, body: unknown) => t.req(path, { method: 'POST', role: 'engineer', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

describe('models and datasets', () => {
  it('stores an uploaded model under its SHA-256 and registers it as the calling key', async () => {
    const bytes = onnxModelBytes(18_750); // about 300 kB
    const res = await upload('/v1/uploads/models/net.onnx?name=mnist-cnn', bytes);
    expect(res.status).toBe(201);
    const out = (await res.json()) as { id: string; index: number; record: { format: string; model: { name: string; digest: { sha256: string } } }; stored: { path: string; size: number } };
    expect(out.id).toBe(`model:sha256:${sha(bytes)}`);
    expect(out.record.format).toBe('onnx');
    expect(out.record.model.name).toBe('mnist-cnn');
    expect(out.stored).toEqual({ path: `uploads/models/${sha(bytes)}/net.onnx`, size: bytes.length });
    // In the blob store, sealed: the same bytes come back, none of them are on the disk.
    const blobs = await blobsFor(t.dir);
    expect(await blobs.resolve(out.stored.path)).toEqual({ sha256: sha(bytes), size: bytes.length });
    expect(Buffer.from(await blobs.get(sha(bytes))).equals(Buffer.from(bytes))).toBe(true);
    const rest = Buffer.concat(listFiles(t.dir).map((f) => readFileSync(join(t.dir, f))));
    expect(rest.includes(Buffer.from(bytes).subarray(0, 4096))).toBe(false);
    const e = t.home.ledger.get(out.index).entry;
    expect(e.type).toBe('model.registered');
    expect(e.actor).toBe(`key:${t.keys.list().find((k) => k.role === 'engineer')!.id}`);

    const got = await t.req(`/v1/models/${out.id}`, { role: 'legal' });
    expect(got.status).toBe(200);
    expect(((await got.json()) as { index: number }).index).toBe(out.index);

    // The same bytes again: refused, and nothing more is written.
    const files = storedFiles(t.dir);
    const size = t.home.ledger.size();
    const again = await upload('/v1/uploads/models/copy.onnx', bytes);
    expect(again.status).toBe(409);
    expect((await errorOf(again)).code).toBe('LINEAGE_EXISTS');
    expect(storedFiles(t.dir)).toEqual(files);
    expect(t.home.ledger.size()).toBe(size);
  });

  it('registers by digest and URI, with lineage back to base models and datasets', async () => {
    const d = 'a'.repeat(64);
    const ds = await postJson('/v1/datasets', { dataset: { name: 'mnist-train', digest: { sha256: d }, uri: 'https://example.org/mnist' }, items: 60000 });
    expect(ds.status).toBe(201);
    const dsId = ((await ds.json()) as { id: string }).id;
    expect(dsId).toBe(`dataset:sha256:${d}`);
    const base = await postJson('/v1/models', { model: { name: 'base', digest: { sha256: 'b'.repeat(64) } }, format: 'tfjs-layers' });
    const baseId = ((await base.json()) as { id: string }).id;
    const child = await postJson('/v1/models', { model: { name: 'marked', digest: { sha256: 'c'.repeat(64) } }, format: 'onnx', derivedFrom: { operation: 'fine-tune', baseModels: [baseId], datasets: [dsId] } });
    expect(child.status).toBe(201);
    const childOut = (await child.json()) as { id: string; derivation: { index: number } };
    expect(t.home.ledger.get(childOut.derivation.index).entry.type).toBe('lineage.derived');

    const lin = (await (await t.req(`/v1/models/${childOut.id}/lineage`, { role: 'compliance' })).json()) as {
      id: string; derivations: { operation: string; datasets: { id: string }[]; baseModels: { id: string }[] }[];
    };
    expect(lin.id).toBe(childOut.id);
    expect(lin.derivations).toHaveLength(1);
    expect(lin.derivations[0]!.operation).toBe('fine-tune');
    expect(lin.derivations[0]!.datasets.map((x) => x.id)).toEqual([dsId]);
    expect(lin.derivations[0]!.baseModels.map((x) => x.id)).toEqual([baseId]);

    const missing = await t.req(`/v1/models/model:sha256:${'d'.repeat(64)}`, { role: 'auditor' });
    expect(missing.status).toBe(404);
    expect((await errorOf(missing)).code).toBe('LINEAGE_NOT_FOUND');
    const badId = await t.req('/v1/models/not-an-id', { role: 'auditor' });
    expect(badId.status).toBe(400);
  });

  it('uploads a dataset file with its item count', async () => {
    const bytes = randomBytes(5000);
    const res = await upload('/v1/uploads/datasets/train.bin?items=50', bytes);
    expect(res.status).toBe(201);
    const out = (await res.json()) as { id: string; record: { items: number } };
    expect(out.id).toBe(`dataset:sha256:${sha(bytes)}`);
    expect(out.record.items).toBe(50);
    const noItems = await upload('/v1/uploads/datasets/other.bin', randomBytes(10));
    expect(noItems.status).toBe(400);
    expect((await errorOf(noItems)).message).toMatch(/query\.items/);
  });

  it('rate-limits uploads per key', async () => {
    // Four uploads per window: three were made above by the engineer key (the 409 counts too).
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) statuses.push((await upload(`/v1/uploads/models/m${i}.onnx`, onnxModelBytes())).status);
    expect(statuses).toContain(429);
    const limited = await upload('/v1/uploads/models/last.onnx', onnxModelBytes());
    expect(limited.status).toBe(429);
    expect((await errorOf(limited)).code).toBe('API_RATE_LIMITED');
    expect(limited.headers.get('retry-after')).toMatch(/^\d+$/);
    // Another key has its own budget.
    expect((await upload('/v1/uploads/models/admin.onnx', onnxModelBytes(), 'admin')).status).toBe(201);
  });
});
