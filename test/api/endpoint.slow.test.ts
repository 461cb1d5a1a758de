// Black-box verification and calibration through the API against a real model server on
// loopback: a trigger-only commitment in the API's home, a copy of the fixture CNN that learned
// those triggers served over Open Inference Protocol v2 and TF Serving, `verify` jobs that find
// the mark through the endpoint, and a `calibrate` job (one tiny unmarked model) whose
// calibration.recorded entry the next verification uses. Slow: it trains models.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobInfo } from '../../src/api/jobs.js';
import { deriveWatermarkKeys, deriveWatermarkRoot } from '../../src/core/index.js';
import { commitWithSecret } from '../../src/embed/commit-secret.js';
import { parseSignerKey } from '../../src/evidence/index.js';
import { convertTfjsToOnnx } from '../../src/formats/convert-tfjs-to-onnx.js';
import { loadLayersModel, saveLayersModel } from '../../src/formats/index.js';
import { modelIdFor } from '../../src/lineage/index.js';
import { selectBackend } from '../../src/train/backend.js';
import { fitModel } from '../../src/train/fit.js';
import { buildTriggerSet } from '../../src/verify/black-box.js';
import { startInferenceServer, type InferenceServer } from '../helpers/inference-server.js';
import { makeTestApi, type TestApi } from './helpers.js';
import { expectNoSecret, secretForms } from './secret-scan.js';

const PASS = 'endpoint test passphrase';
let t: TestApi;
let server: InferenceServer;
let commitment: number;
let forms: string[];
const seen: string[] = [];

beforeAll(async () => {
  t = makeTestApi({ passphrase: PASS });
  const dir = mkdtempSync(join(tmpdir(), 'hm-api-ep-'));
  const seed = parseSignerKey(t.home.readOwnerSignerKey()).seed;
  const model = modelIdFor('0'.repeat(63) + '2');
  const trigger = { n: 100, kind: 'abstract-patterns/v1', height: 28, width: 28, channels: 1, classes: 10 };
  const home = { dir: t.dir, ledger: t.home.ledger, ownerVerifierKey: t.home.ownerVerifierKey };
  commitment = (await commitWithSecret({ home, ownerSeed: seed, model, scheme: 'trigger', parameters: { trigger }, passphrase: PASS, actor: 'test' })).index;
  const root = deriveWatermarkRoot(seed, model);
  forms = secretForms([root.signature, seed, PASS]);
  const keys = deriveWatermarkKeys(root, 1);
  const set = buildTriggerSet({ imageSeed: keys.triggerImageSeed, labelSeed: keys.triggerLabelSeed, ...trigger });
  await selectBackend('wasm');
  const m = await loadLayersModel('fixtures/mnist-cnn');
  await fitModel({ model: m, optimizer: tf.train.adam(0.003), data: { images: set.images, labels: set.labels, count: 100, shape: [100, 28, 28, 1] }, numClasses: 10, epochs: 40, batchSize: 50, seed: 1 });
  await saveLayersModel(m, join(dir, 'learned'));
  m.dispose();
  writeFileSync(join(dir, 'learned.onnx'), await convertTfjsToOnnx(join(dir, 'learned')));
  server = await startInferenceServer(join(dir, 'learned.onnx'), 'suspect');
}, 300_000);
afterAll(async () => {
  await server?.close();
  await t?.dispose();
});

async function job(path: string, body: unknown): Promise<JobInfo> {
  const res = await t.req(path, { role: 'verifier', method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  seen.push(await res.clone().text());
  expect(res.status, await res.clone().text()).toBe(202);
  const { id } = (await res.json()) as JobInfo;
  await t.jobs.wait(id);
  const got = await t.req(`/v1/jobs/${id}`, { role: 'auditor' });
  seen.push(await got.clone().text());
  return (await got.json()) as JobInfo;
}

describe('black-box verification and calibration over the API', () => {
  it('finds the mark through OIP v2, calibrates, and uses the calibrated null through TF Serving', async () => {
    const verifier = `key:${t.keys.list().find((k) => k.role === 'verifier')!.id}`;
    const v = await job('/v1/verify', { suspect: { url: `${server.url}/v2/models/suspect/infer`, protocol: 'oip-v2' }, commitment });
    expect(v.status, JSON.stringify(v.error)).toBe('succeeded');
    const r = v.result as { index: number; decision: { owned: boolean }; record: { suspect: { kind: string }; trigger: { nullSource: string } }; requests: number };
    expect(r.decision.owned).toBe(true);
    expect(r.record.suspect.kind).toBe('endpoint');
    expect(r.record.trigger.nullSource).toBe('uniform');
    expect(t.home.ledger.get(r.index).entry.actor).toBe(verifier);

    const c = await job('/v1/calibrate', { commitment, models: 1, epochs: 1, trainSamples: 200 });
    expect(c.status, JSON.stringify(c.error)).toBe('succeeded');
    const cal = c.result as { index: number };
    expect(t.home.ledger.get(cal.index).entry).toMatchObject({ type: 'calibration.recorded', actor: verifier });

    const k = await job('/v1/verify', { suspect: { url: server.url, protocol: 'tfserving', model: 'suspect' }, commitment });
    expect(k.status, JSON.stringify(k.error)).toBe('succeeded');
    expect((k.result as { record: { trigger: { nullSource: string; calibration: number } } }).record.trigger).toMatchObject({ nullSource: 'calibrated', calibration: cal.index });

    expectNoSecret([...seen, ...t.logs].join('\n'), forms, 'responses and logs');
  });
});
