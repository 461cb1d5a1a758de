// Embedding and verification over HTTP, for real: the fixture MNIST CNN as ONNX is uploaded,
// marked by an `embed` job (training-free weight mark), downloaded, uploaded back as a suspect
// and verified by a `verify` job (owned), the unmarked original too (not owned), and the
// owned verification is exported as evidence. Every ledger entry the jobs append carries the
// submitting key, and no response, job record or log line carries the watermark secret.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobInfo } from '../../src/api/jobs.js';
import { deriveWatermarkRoot } from '../../src/core/index.js';
import { parseSignerKey } from '../../src/evidence/index.js';
import { convertTfjsToOnnx } from '../../src/formats/convert-tfjs-to-onnx.js';
import { errorOf, makeTestApi, type TestApi } from './helpers.js';
import { expectNoSecret, secretForms } from './secret-scan.js';

const PASS = 'api test passphrase';
let t: TestApi;
let onnx: Uint8Array;
const seen: string[] = [];
beforeAll(async () => {
  t = makeTestApi({ passphrase: PASS });
  onnx = await convertTfjsToOnnx('fixtures/mnist-cnn');
});
afterAll(() => t.dispose());

type Role = 'engineer' | 'verifier' | 'legal' | 'auditor';
const keyId = (role: string) => t.keys.list().find((k) => k.role === role)!.id;
async function call(path: string, role: Role, init: RequestInit = {}): Promise<Response> {
  const res = await t.req(path, { role, ...init });
  seen.push(await res.clone().text());
  return res;
}
const postJson = (path: string, role: Role, body: unknown) => call(path, role, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
const putBytes = (path: string, role: Role, body: Uint8Array) => call(path, role, { method: 'PUT', headers: { 'content-type': 'application/octet-stream' }, body });
async function finished(res: Response): Promise<JobInfo> {
  expect(res.status, await res.clone().text()).toBe(202);
  const { id } = (await res.json()) as JobInfo;
  await t.jobs.wait(id);
  return (await (await call(`/v1/jobs/${id}`, 'auditor')).json()) as JobInfo;
}

describe('embed, verify and evidence through the API', () => {
  it('marks an uploaded model, finds the mark in the downloaded copy and not in the original', async () => {
    const up = await putBytes('/v1/uploads/models/mnist-cnn.onnx', 'engineer', onnx);
    expect(up.status).toBe(201);
    const modelId = ((await up.json()) as { id: string }).id;

    const embed = await finished(await postJson('/v1/embed', 'engineer', { modelId, trainingFree: true, scheme: 'weight' }));
    expect(embed.status, JSON.stringify(embed.error)).toBe('succeeded');
    expect(embed.progress).not.toBeNull();
    const result = embed.result as { checkpointSize: number; ok: boolean; weight: { ber: number }; output: { id: string; files: { name: string; download: string }[] }; ledger: { committed: number; model: number; derivation: number } };
    expect(result.ok).toBe(true);
    expect(result.weight.ber).toBe(0);
    // The commitment is in a signed checkpoint as soon as the job is done.
    expect(t.home.ledger.checkpointCovering(result.ledger.committed)).toBeDefined();
    expect(JSON.stringify(result)).not.toContain(t.dir);
    expect((embed.result as { input: { uploadedAs: string } }).input.uploadedAs).toBe(modelId);
    const engineer = `key:${keyId('engineer')}`;
    for (const i of [result.ledger.committed, result.ledger.model, result.ledger.derivation]) expect(t.home.ledger.get(i).entry.actor).toBe(engineer);

    const file = result.output.files.find((f) => f.name === 'marked.onnx')!;
    const dl = await t.req(file.download, { role: 'auditor' });
    expect(dl.status).toBe(200);
    const marked = new Uint8Array(await dl.arrayBuffer());
    // The download is on record: who (the auditor's key), what (this job's marked.onnx), when.
    const access = t.home.ledger.get(t.home.ledger.size() - 1).entry;
    expect(access.type).toBe('access.recorded');
    expect(access.actor).toBe(`key:${keyId('auditor')}`);
    expect(access.payload).toMatchObject({ resource: { kind: 'model', id: embed.id, file: 'marked.onnx', size: marked.length } });
    expect(Buffer.from(marked).equals(Buffer.from(onnx))).toBe(false);
    expect((await call(`/v1/embed/${embed.id}/files/..%2F..%2Fowner.key`, 'engineer')).status).toBe(400);
    expect((await call(`/v1/embed/${embed.id}/files/nothing.onnx`, 'engineer')).status).toBe(404);

    const sus = await putBytes('/v1/uploads/suspects/found-online.onnx', 'verifier', marked);
    expect(sus.status).toBe(201);
    const suspect = (await sus.json()) as { upload: string; name: string; index: number };
    expect(suspect.upload).toBe(createHash('sha256').update(marked).digest('hex'));
    expect(t.home.ledger.get(suspect.index).entry.actor).toBe(`key:${keyId('verifier')}`);
    const v = await finished(await postJson('/v1/verify', 'verifier', { suspect: { upload: suspect.upload, name: suspect.name } }));
    expect(v.status, JSON.stringify(v.error)).toBe('succeeded');
    const vr = v.result as { index: number; decision: { owned: boolean }; record: { model: string; suspect: { kind: string } } };
    expect(vr.decision.owned).toBe(true);
    expect(vr.record.model).toBe(result.output.id);
    expect(t.home.ledger.get(vr.index).entry).toMatchObject({ type: 'verification.recorded', actor: `key:${keyId('verifier')}` });

    const orig = (await (await putBytes('/v1/uploads/suspects/original.onnx', 'verifier', onnx)).json()) as { upload: string; name: string };
    const u = await finished(await postJson('/v1/verify', 'verifier', { suspect: { upload: orig.upload, name: orig.name } }));
    expect((u.result as { decision: { owned: boolean } }).decision.owned).toBe(false);

    // A weight-only mark has nothing to test through an endpoint: a typed job failure.
    const ep = await finished(await postJson('/v1/verify', 'verifier', { suspect: { url: 'http://127.0.0.1:9/v2/models/m/infer', protocol: 'oip-v2' } }));
    expect(ep.status).toBe('failed');
    expect(ep.error?.code).toBe('VERIFY_UNSUPPORTED');

    const ev = await finished(await postJson('/v1/evidence', 'legal', { verification: vr.index }));
    expect(ev.status, JSON.stringify(ev.error)).toBe('succeeded');

    const seed = parseSignerKey(t.home.readOwnerSignerKey()).seed;
    const root = deriveWatermarkRoot(seed, modelId);
    expectNoSecret([...seen, ...t.logs].join('\n'), secretForms([root.signature, seed, PASS]), 'responses and logs');
  }, 180_000); // training-free embed now also measures fidelity (2 x 256 inputs) and the layer-input moment

  it('refuses unsafe endpoints, unknown uploads and models registered only by digest', async () => {
    const bad = [
      [{ url: 'file:///etc/passwd', protocol: 'oip-v2' }, 400],
      [{ url: 'gopher://127.0.0.1:70/', protocol: 'tfserving' }, 400],
      [{ url: 'http://user:pw@127.0.0.1:8500/', protocol: 'tfserving' }, 400],
      [{ url: 'not a url', protocol: 'tfserving' }, 400],
      [{ upload: 'a'.repeat(64), name: 'x.onnx' }, 404],
      [{ upload: 'a'.repeat(64), name: '../../owner.key' }, 400],
    ] as const;
    const size = t.home.ledger.size();
    for (const [suspect, status] of bad) {
      const r = await postJson('/v1/verify', 'verifier', { suspect });
      expect(r.status, JSON.stringify(suspect)).toBe(status);
      await errorOf(r);
    }
    const digestOnly = await postJson('/v1/models', 'engineer', { model: { name: 'remote', digest: { sha256: 'b'.repeat(64) } }, format: 'onnx' });
    const id = ((await digestOnly.json()) as { id: string }).id;
    const e = await postJson('/v1/embed', 'engineer', { modelId: id, trainingFree: true });
    expect(e.status).toBe(400);
    expect((await errorOf(e)).message).toMatch(/upload its file/);
    expect(t.home.ledger.size()).toBe(size + 1);
  });

  it('takes the fidelity limits and calibration inputs the CLI takes: a limit past reach fails the job with its figures and writes nothing; a malformed calibration is a 400', async () => {
    // The first test uploaded these bytes already (201 then, 409 now): the id is the file's digest.
    const up = await putBytes('/v1/uploads/models/mnist-limits.onnx', 'engineer', onnx);
    expect([201, 409]).toContain(up.status);
    const modelId = `model:sha256:${createHash('sha256').update(onnx).digest('hex')}`;
    const size = t.home.ledger.size();
    for (const calibration of [{ ranges: { input: [1, -1] } }, { dims: { input: [1, 0, 28] } }, { signals: { input: 'speech' } }, { count: 0 }, { fixed: { sr: 'x' } }, { extra: 1 }]) {
      const r = await postJson('/v1/embed', 'engineer', { modelId, trainingFree: true, scheme: 'weight', calibration });
      expect(r.status, JSON.stringify(calibration)).toBe(400);
      await errorOf(r);
    }
    expect((await postJson('/v1/embed', 'engineer', { modelId, trainingFree: true, limits: { maxAbsChange: -1 } })).status).toBe(400);
    expect(t.home.ledger.size()).toBe(size);

    const job = await finished(await postJson('/v1/embed', 'engineer', { modelId, trainingFree: true, scheme: 'weight', limits: { maxAbsChange: 1e-12, minTop1Agreement: 1 }, calibration: { count: 16, ranges: { input: [0, 1] } } }));
    expect(job.status).toBe('failed');
    expect(job.error!.code).toBe('FIDELITY_LIMIT_EXCEEDED');
    expect(job.error!.message).toMatch(/on 16 synthetic inputs .*max .*change/);
    expect(job.error!.message).toMatch(/nothing was written/);
    expect(job.result).toBeNull();
  }, 180_000);

  it('pins endpoint hosts when told to, and rate-limits verification per key', async () => {
    const p = makeTestApi({ passphrase: PASS, endpointHosts: ['127.0.0.1:8500'], limits: { verificationsPerWindow: 2 } });
    try {
      const post = (suspect: unknown) => p.req('/v1/verify', { role: 'verifier', method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ suspect }) });
      const other = await post({ url: 'http://169.254.169.254/latest/meta-data/', protocol: 'tfserving' });
      expect(other.status).toBe(403);
      expect((await errorOf(other)).message).toMatch(/allow-list/);
      const ok = await post({ url: 'http://127.0.0.1:8500/v1/models/m:predict', protocol: 'tfserving' });
      expect(ok.status).toBe(202);
      const limited = await post({ url: 'http://127.0.0.1:8500/v1/models/m:predict', protocol: 'tfserving' });
      expect(limited.status).toBe(429);
      expect((await errorOf(limited)).code).toBe('API_RATE_LIMITED');
      await p.jobs.wait(((await ok.json()) as JobInfo).id);
    } finally {
      await p.dispose();
    }
  });
});
