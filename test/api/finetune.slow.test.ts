// Fine-tuning over HTTP: the fixture CNN uploaded as ONNX, converted to TF.js in the job, marked
// with both watermarks on a small MNIST subset while the server keeps answering, progress seen
// while it runs, the marked TF.js model downloaded, converted back to ONNX by the test and
// verified through the API (white-box and black-box). Lineage runs from the upload through
// format.convert and watermark.embed. Slow: it trains.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobInfo } from '../../src/api/jobs.js';
import { convertTfjsToOnnx } from '../../src/formats/convert-tfjs-to-onnx.js';
import { makeTestApi, type TestApi } from './helpers.js';

const PASS = 'fine-tune test passphrase';
let t: TestApi;
beforeAll(() => { t = makeTestApi({ passphrase: PASS }); });
afterAll(() => t.dispose());

const json = (role: 'engineer' | 'verifier', path: string, body: unknown) => t.req(path, { role, method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

describe('fine-tuning through the API', () => {
  it('marks an uploaded ONNX model by fine-tuning, reports progress, and the download verifies as ours', async () => {
    const onnx = await convertTfjsToOnnx('fixtures/mnist-cnn');
    const up = await t.req('/v1/uploads/models/cnn.onnx', { role: 'engineer', method: 'PUT', headers: { 'content-type': 'application/octet-stream' }, body: onnx });
    const modelId = ((await up.json()) as { id: string }).id;
    const res = await json('engineer', '/v1/embed', { modelId, scheme: 'both', epochs: 3, trainLimit: 512, testLimit: 200, bits: 64, triggers: 20, backend: 'wasm' });
    expect(res.status).toBe(202);
    const { id } = (await res.json()) as JobInfo;

    const phases = new Set<string>();
    let answered = 0;
    for (;;) {
      const j = (await (await t.req(`/v1/jobs/${id}`, { role: 'auditor' })).json()) as JobInfo;
      if (j.progress && typeof j.progress.phase === 'string') phases.add(j.progress.phase);
      if (j.status === 'succeeded' || j.status === 'failed') break;
      if ((await t.req('/v1/ledger/checkpoint')).status === 200 && j.status === 'running') answered++;
      await new Promise((r) => setTimeout(r, 50));
    }
    const done = (await (await t.req(`/v1/jobs/${id}`, { role: 'auditor' })).json()) as JobInfo;
    expect(done.status, JSON.stringify(done.error)).toBe('succeeded');
    expect(answered).toBeGreaterThan(0);
    expect(phases.has('train'), [...phases].join(',')).toBe(true);
    const r = done.result as { ok: boolean; input: { id: string; convertedFrom: string }; output: { id: string; format: string; files: { name: string; download: string }[] }; weight: { ber: number }; trigger: { accuracy: number } };
    expect(r.input.convertedFrom).toBe(modelId);
    expect(r.output.format).toBe('tfjs-layers');

    // Lineage: marked <- watermark.embed <- converted <- format.convert <- upload.
    const lineage = JSON.stringify(await (await t.req(`/v1/models/${r.output.id}/lineage`, { role: 'auditor' })).json());
    expect(lineage).toContain(modelId);
    expect(lineage).toContain('format.convert');

    const dir = mkdtempSync(join(tmpdir(), 'hm-api-ft-'));
    for (const f of r.output.files) {
      const dl = await t.req(f.download, { role: 'engineer' });
      expect(dl.status, f.name).toBe(200);
      writeFileSync(join(dir, f.name), Buffer.from(await dl.arrayBuffer()));
    }
    expect(r.output.files.map((f) => f.name)).toContain('model.json');
    const suspect = await convertTfjsToOnnx(dir);
    const su = (await (await t.req('/v1/uploads/suspects/copy.onnx', { role: 'verifier', method: 'PUT', headers: { 'content-type': 'application/octet-stream' }, body: suspect })).json()) as { upload: string; name: string };
    const v = await json('verifier', '/v1/verify', { suspect: { upload: su.upload, name: su.name } });
    const vj = await t.jobs.wait(((await v.json()) as JobInfo).id);
    expect(vj.status, JSON.stringify(vj.error)).toBe('succeeded');
    const vr = vj.result as { decision: { owned: boolean }; record: { method: string } };
    expect(vr.record.method).toBe('both');
    expect(vr.decision.owned).toBe(true);
  });
});
