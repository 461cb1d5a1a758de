// Issue 10 findings 6 (API side), each performed as the attack against the real app:
// payloads that JSON.parse would silently change, uploads that are not what they claim, `.part`
// files left by a killed server, anonymous reads that used to sign checkpoints, and downloads
// that left no trace. The honest path of each is checked beside the attack.
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newVerifier, openCheckpoint, proofFromJson, verifyInclusion } from '../../ledger/index.js';
import { decode as decodeAccess, TYPE as ACCESS } from '../../src/api/record-access.js';
import { openApi } from '../../src/api/server.js';
import { errorOf, makeTestApi, type TestApi } from './helpers.js';
import { listFiles, onnxModelBytes, storedFiles } from './files.js';

let t: TestApi;
beforeAll(() => { t = makeTestApi({ limits: { uploadsPerWindow: 1000 }, checkpoints: { intervalMs: 0 } }); });
afterAll(() => t.dispose());

const keyOf = (role: string) => `key:${t.keys.list().find((k) => k.role === role)!.id}`;
const post = (path: string, body: string, role: 'engineer' | 'compliance' = 'engineer') => t.req(path, { method: 'POST', role, headers: { 'content-type': 'application/json' }, body });
const put = (path: string, body: Uint8Array, role: 'engineer' | 'verifier' = 'engineer') => t.req(path, { method: 'PUT', role, headers: { 'content-type': 'application/octet-stream' }, body });
const stored = () => storedFiles(t.dir);

describe('payloads that are hashed or signed are parsed strictly', () => {
  it('refuses duplicate keys, __proto__ and integers past 2^53 in an appended payload, and appends nothing', async () => {
    const size = t.home.ledger.size();
    const attacks: [string, string][] = [
      ['{"type":"note.added","payload":{"owner":"alice","owner":"mallory"}}', 'JSON_INVALID_DUPLICATE_KEY'],
      ['{"type":"note.added","type":"watermark.committed","payload":{}}', 'JSON_INVALID_DUPLICATE_KEY'],
      ['{"type":"note.added","payload":{"__proto__":{"owned":true},"x":1}}', 'JSON_INVALID_PROTO_KEY'],
      ['{"type":"note.added","payload":{"trials":9007199254740993}}', 'JSON_INVALID_UNSAFE_INTEGER'],
    ];
    for (const [body, code] of attacks) {
      const res = await post('/v1/ledger/entries', body);
      expect(res.status, body).toBe(400);
      const e = await errorOf(res);
      expect(e.code, body).toBe(code);
      expect(e.message).toMatch(/^the request body is refused: /);
    }
    // Other routes whose bodies end up in records: the same rule.
    const dup = await post('/v1/models', '{"model":{"name":"a","name":"b","digest":{"sha256":"' + 'c'.repeat(64) + '"}},"format":"onnx"}');
    expect((await errorOf(dup)).code).toBe('JSON_INVALID_DUPLICATE_KEY');
    expect(t.home.ledger.size()).toBe(size);

    const honest = await post('/v1/ledger/entries', '{"type":"note.added","payload":{"trials":9007199254740991,"ratio":0.25,"nested":{"a":[1,2]}}}');
    expect(honest.status).toBe(201);
    expect(t.home.ledger.get(size).entry.payload).toEqual({ trials: 9007199254740991, ratio: 0.25, nested: { a: [1, 2] } });
  });
});

describe('uploads must be what they claim', () => {
  it('refuses random bytes as ONNX, safetensors or model.json and leaves no file and no entry', async () => {
    const size = t.home.ledger.size();
    const before = stored();
    const junk = new Uint8Array(8192).map((_, i) => (i * 7919 + 13) & 255);
    for (const name of ['stolen.onnx', 'weights.safetensors', 'model.json']) {
      for (const path of [`/v1/uploads/models/${name}`, `/v1/uploads/suspects/${name}`]) {
        const res = await put(path, junk, path.includes('suspects') ? 'verifier' : 'engineer');
        expect(res.status, path).toBe(400);
        const e = await errorOf(res);
        expect(e.code).toBe('API_INVALID_UPLOAD');
        expect(e.message).toContain('nothing was stored');
      }
    }
    // A format the server cannot check is refused rather than trusted.
    expect((await errorOf(await put('/v1/uploads/models/m.bin?format=gguf', junk))).code).toBe('API_INVALID_UPLOAD');
    expect(stored()).toEqual(before);
    expect(readdirSync(join(t.dir, 'uploads', '.tmp'))).toEqual([]);
    expect(t.home.ledger.size()).toBe(size);

    const real = await put('/v1/uploads/models/real.onnx', onnxModelBytes());
    expect(real.status).toBe(201);
    expect(t.home.ledger.size()).toBe(size + 1);
  });

  it('removes .part files left by a server that was killed mid-upload when the next one starts', async () => {
    const tmp = join(t.dir, 'uploads', '.tmp');
    mkdirSync(tmp, { recursive: true });
    writeFileSync(join(tmp, '0b7c7a55-0000-4000-8000-000000000000.part'), 'half an upload');
    writeFileSync(join(tmp, 'keep.txt'), 'not ours to remove');
    const again = openApi(t.dir, { log: () => undefined, checkpoints: { intervalMs: 0 } });
    try {
      expect(readdirSync(tmp).sort()).toEqual(['keep.txt']);
    } finally {
      await again.close();
    }
  });
});

describe('checkpoints are signed by the server, never by an anonymous read', () => {
  it('serves stored checkpoints to anonymous readers without signing or storing one', async () => {
    t.checkpoints.signIfGrown();
    const signed = t.home.ledger.checkpoints().length;
    const cpSize = t.home.ledger.latestCheckpoint()!.size;
    // The log grows behind the API's back (as a job's worker thread does).
    t.home.ledger.append({ type: 'note.added', actor: 'test', payload: { n: 1 } });
    for (let i = 0; i < 5; i++) {
      const res = await t.req('/v1/ledger/checkpoint');
      expect(res.status).toBe(200);
      expect(((await res.json()) as { size: number }).size).toBe(cpSize);
    }
    const uncovered = await t.req(`/v1/ledger/proof/inclusion?index=${cpSize}`);
    expect(uncovered.status).toBe(503);
    expect((await errorOf(uncovered)).code).toBe('API_NOT_YET_SIGNED');
    await t.req(`/v1/ledger/proof/consistency?from=1`);
    expect(t.home.ledger.checkpoints().length).toBe(signed);
  });

  it('signs after a write through the API, so the writer gets its inclusion proof at once', async () => {
    const res = await post('/v1/ledger/entries', '{"type":"note.added","payload":{"n":2}}');
    const { index } = (await res.json()) as { index: number };
    const p = proofFromJson(await (await t.req(`/v1/ledger/proof/inclusion?index=${index}`)).json());
    const cp = openCheckpoint(p.checkpoint!, newVerifier(t.home.ledger.verifierKey));
    expect(cp.size).toBe(index + 1);
    expect(() => verifyInclusion(p.index, p.treeSize, p.leafHash, p.hashes, cp.root)).not.toThrow();
  });

  it('signs on its own schedule when the log grew', async () => {
    const s = makeTestApi({ checkpoints: { intervalMs: 50 } });
    try {
      s.home.ledger.append({ type: 'note.added', actor: 'test', payload: {} });
      const deadline = Date.now() + 5000;
      while ((s.home.ledger.latestCheckpoint()?.size ?? 0) < s.home.ledger.size() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(s.home.ledger.latestCheckpoint()!.size).toBe(s.home.ledger.size());
    } finally {
      await s.dispose();
    }
  });
});

describe('downloads are recorded', () => {
  it('appends access.recorded (who, what, when) for a provenance download, and nothing for a refused one', async () => {
    const m = await post('/v1/models', JSON.stringify({ model: { name: 'm', digest: { sha256: 'd'.repeat(64) } }, format: 'onnx' }));
    const model = ((await m.json()) as { id: string }).id;
    const built = await post('/v1/provenance', JSON.stringify({ modelId: model }), 'compliance');
    expect(built.status).toBe(201);
    const { id, size: bytes } = (await built.json()) as { id: string; size: number };
    const size = t.home.ledger.size();
    expect((await t.req(`/v1/provenance/${id}`, { role: 'legal' })).status).toBe(403);
    expect((await t.req(`/v1/provenance/${'0'.repeat(64)}`, { role: 'auditor' })).status).toBe(404);
    expect(t.home.ledger.size()).toBe(size);
    const dl = await t.req(`/v1/provenance/${id}`, { role: 'auditor' });
    expect(dl.status).toBe(200);
    await dl.arrayBuffer();
    const e = t.home.ledger.get(size).entry;
    expect(e.type).toBe(ACCESS);
    expect(e.actor).toBe(keyOf('auditor'));
    expect(Date.parse(e.time)).toBeGreaterThan(Date.now() - 60_000);
    expect(decodeAccess(e.payload)).toEqual({ schema: 'hallmark/access.recorded/v1', resource: { kind: 'provenance', id, file: 'bundle.json', size: bytes }, route: 'GET /v1/provenance/{id}' });
  });

  it('decodes access records strictly', () => {
    const ok = { schema: 'hallmark/access.recorded/v1', resource: { kind: 'model', id: 'abcdef01-2345', file: 'marked.onnx', size: 1 }, route: 'GET /v1/embed/{jobId}/files/{name}' };
    expect(decodeAccess(ok)).toEqual(ok);
    for (const bad of [{ ...ok, extra: 1 }, { ...ok, resource: { ...ok.resource, kind: 'secret' } }, { ...ok, resource: { ...ok.resource, file: '../owner.key' } }, { ...ok, route: 'POST /v1/x' }, { ...ok, schema: 'v2' }]) {
      expect(() => decodeAccess(bad)).toThrow(/access.recorded payload is invalid/);
    }
  });
});
