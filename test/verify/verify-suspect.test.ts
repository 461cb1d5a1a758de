import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deriveWatermarkKeys, deriveWatermarkRoot } from '../../src/core/index.js';
import { embedWatermark } from '../../src/embed/index.js';
import { commitWithSecret } from '../../src/embed/commit-secret.js';
import { parseSignerKey } from '../../src/evidence/owner-key.js';
import { readVerificationRecord, VERIFICATION_RECORDED } from '../../src/evidence/verification-record.js';
import { convertTfjsToOnnx } from '../../src/formats/convert-tfjs-to-onnx.js';
import { loadLayersModel, readModelTensors, saveLayersModel, writeSafetensorsFile } from '../../src/formats/index.js';
import { initHome, openHome, ownerRecordSigner, type Home } from '../../src/home/index.js';
import { appendRecord, calibrationRecorded, splitSignature } from '../../src/records/index.js';
import { modelIdFor } from '../../src/lineage/index.js';
import { generateNoteKey } from '../../ledger/index.js';
import { selectBackend } from '../../src/train/backend.js';
import { fitModel } from '../../src/train/fit.js';
import { buildTriggerSet } from '../../src/verify/black-box.js';
import { CALIBRATION_RECORDED, CALIBRATION_SCHEMA } from '../../src/verify/calibration.js';
import { verifySuspect } from '../../src/verify/verify-suspect.js';
import { hallmark } from '../helpers/cli.js';
import { REPO } from '../helpers/paths.js';
import { startInferenceServer, type InferenceServer } from '../helpers/inference-server.js';
import { FIXTURE, naiveUpperTail } from './helpers.js';

const PASS = 'correct horse';

function hallmarkAsync(args: string[], o: { home: string; env: Record<string, string> }): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [join(REPO, 'dist/cli/main.js'), ...args], { env: { ...process.env, HALLMARK_HOME: o.home, ...o.env }, timeout: 120_000 }, (err, stdout, stderr) => {
      resolve({ status: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
    });
  });
}

describe('verifySuspect and hallmark verify, end to end', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hallmark-verify-'));
  const homeDir = join(dir, 'home');
  let home: Home;
  let h: { dir: string; ledger: Home['ledger']; ownerVerifierKey: string };
  let server: InferenceServer | undefined;
  const onnx = join(dir, 'fixture.onnx');

  beforeAll(async () => {
    initHome(homeDir);
    home = openHome(homeDir);
    h = { dir: homeDir, ledger: home.ledger, ownerVerifierKey: home.ownerVerifierKey };
    writeFileSync(onnx, await convertTfjsToOnnx(FIXTURE));
  });
  afterAll(async () => {
    await server?.close();
    home?.close();
  });

  it('white-box: a training-free mark in an ONNX model is found in it and in a renamed safetensors copy; the original is not accused', async () => {
    const seed = parseSignerKey(home.readOwnerSignerKey()).seed;
    const s = await embedWatermark({ home: h, ownerSeed: seed, model: onnx, out: join(dir, 'marked.onnx'), trainingFree: true, scheme: 'weight', bits: 256, passphrase: PASS });
    expect(s.weight?.ber).toBe(0);
    const r = await verifySuspect({ home: h, signer: ownerRecordSigner(home), passphrase: PASS, suspect: { path: join(dir, 'marked.onnx') } });
    expect(r.decision.owned).toBe(true);
    expect(r.weight!.best.matches).toBe(256);
    expect(r.record).toMatchObject({ method: 'white-box', model: s.output.id, owned: true, alpha: 1e-6, commitment: { index: s.ledger.committed, commitment: s.commitment } });
    expect(r.record.weight!.pValue / naiveUpperTail(256, 256)).toBeCloseTo(1, 10);
    // The ledger entry is what the evidence reader accepts.
    const e = home.ledger.get(r.index);
    expect(e.entry.type).toBe(VERIFICATION_RECORDED);
    expect(readVerificationRecord(splitSignature(e.entry.payload).body).suspect).toMatchObject({ kind: 'file', descriptor: { name: 'marked.onnx' } });

    const { tensors } = await readModelTensors(join(dir, 'marked.onnx'));
    await writeSafetensorsFile(join(dir, 'thief.safetensors'), tensors.map((t, i) => ({ ...t, name: `blocks.${i}.w` })));
    const t = await verifySuspect({ home: h, signer: ownerRecordSigner(home), passphrase: PASS, suspect: { path: join(dir, 'thief.safetensors') }, alpha: 1e-9 });
    expect(t.decision.owned).toBe(true);
    expect(t.record.alpha).toBe(1e-9);

    const u = await verifySuspect({ home: h, signer: ownerRecordSigner(home), passphrase: PASS, suspect: { path: onnx } });
    expect(u.decision.owned).toBe(false);
    expect(u.weight!.correctedPValue).toBeGreaterThan(1e-6);
  });

  it('the CLI prints every number, exits 1 when not shown and 0 when owned, and refuses a wrong passphrase', () => {
    const env = { HALLMARK_PASSPHRASE: PASS };
    const no = hallmark(['verify', onnx], { home: homeDir, env });
    expect(no.status).toBe(1);
    expect(no.stdout).toMatch(/NOT SHOWN/);
    expect(no.stdout).toMatch(/Binomial\(256, 1\/2\)/);
    expect(no.stdout).toMatch(/Bonferroni/);
    const yes = hallmark(['verify', join(dir, 'marked.onnx'), '--json'], { home: homeDir, env });
    expect(yes.status).toBe(0);
    const j = JSON.parse(yes.stdout);
    expect(j.decision.owned).toBe(true);
    expect(j.record.weight.matches).toBe(256);
    const bad = hallmark(['verify', onnx], { home: homeDir, env: { HALLMARK_PASSPHRASE: 'Zq9-not-it' } });
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toMatch(/SECRET_BAD_PASSPHRASE/);
    expect(bad.stderr).not.toMatch(/Zq9/);
  });

  it('black-box through a loopback endpoint: a model that learned our triggers is owned; the calibrated null is used when recorded', async () => {
    // A trigger-only commitment for the fixture, and a copy of the fixture fine-tuned on it.
    const seed = parseSignerKey(home.readOwnerSignerKey()).seed;
    const model = modelIdFor('0'.repeat(63) + '1');
    const trigger = { n: 100, kind: 'abstract-patterns/v1', height: 28, width: 28, channels: 1, classes: 10 };
    const c = await commitWithSecret({ home: h, ownerSeed: seed, model, scheme: 'trigger', parameters: { trigger }, passphrase: PASS, actor: 'test' });
    const keys = deriveWatermarkKeys(deriveWatermarkRoot(seed, model), 1);
    const set = buildTriggerSet({ imageSeed: keys.triggerImageSeed, labelSeed: keys.triggerLabelSeed, ...trigger });
    await selectBackend('wasm');
    const m = await loadLayersModel(FIXTURE);
    await fitModel({ model: m, optimizer: tf.train.adam(0.003), data: { images: set.images, labels: set.labels, count: 100, shape: [100, 28, 28, 1] }, numClasses: 10, epochs: 25, batchSize: 50, seed: 1 });
    await saveLayersModel(m, join(dir, 'learned'));
    m.dispose();
    writeFileSync(join(dir, 'learned.onnx'), await convertTfjsToOnnx(join(dir, 'learned')));
    server = await startInferenceServer(join(dir, 'learned.onnx'), 'suspect');

    const r = await verifySuspect({ home: h, signer: ownerRecordSigner(home), passphrase: PASS, commitment: c.index, suspect: { url: `${server.url}/v2/models/suspect/infer`, protocol: 'oip-v2' } });
    expect(r.decision.owned).toBe(true);
    expect(r.trigger!.matches).toBeGreaterThan(50);
    expect(r.record).toMatchObject({ method: 'black-box', suspect: { kind: 'endpoint', protocol: 'oip-v2' }, trigger: { nullSource: 'uniform', chanceRate: 0.1 } });
    expect(r.calibration?.present).toBe(false);
    expect(r.requests).toBe(5); // metadata + 4 batches of 25

    // A calibration entry for this commitment raises chance to its highest observed rate.
    const cal = appendRecord(home.ledger, calibrationRecorded, { schema: CALIBRATION_SCHEMA, commitment: { index: c.index, commitment: c.commitment }, task: { dataset: 'mnist', architecture: 'mnist-cnn', epochs: 1, trainSamples: 256, batchSize: 64, learningRate: 0.001 }, backend: 'test', models: 3, seeds: [1, 2, 3], cleanAccuracy: [0.9, 0.9, 0.9], trigger: { n: 100, classes: 10, agreement: [0.12, 0.18, 0.07], max: 0.18, mean: 0.37 / 3 }, rule: 'chance = max(1/C, max agreement)' }, ownerRecordSigner(home), 'test');
    const k = await verifySuspect({ home: h, signer: ownerRecordSigner(home), passphrase: PASS, commitment: c.index, suspect: { url: server.url, protocol: 'tfserving', modelName: 'suspect' } });
    expect(k.trigger).toMatchObject({ nullSource: 'calibrated', chanceRate: 0.18, calibrationIndex: cal.index, matches: r.trigger!.matches });
    expect(k.trigger!.pValue / naiveUpperTail(k.trigger!.matches, 100, 18n, 100n)).toBeCloseTo(1, 8);
    expect(k.record.trigger).toMatchObject({ calibration: cal.index, nullDistribution: [0.12, 0.18, 0.07] });

    // Finding 1 of issue 10: a calibration.recorded with agreement 1 (chance 1, so p = 1 for any
    // match) appended by someone without the owner's key, unsigned or signed by their own key, is
    // ignored and reported; the genuine calibration still decides.
    const fake = { ...(JSON.parse(JSON.stringify(home.ledger.get(cal.index).entry.payload)) as Record<string, unknown>), trigger: { n: 100, classes: 10, agreement: [1, 1, 1], max: 1, mean: 1 } };
    delete fake.signature;
    const unsigned = home.ledger.append({ type: CALIBRATION_RECORDED, actor: 'key:engineer', payload: fake as never });
    const intruder = parseSignerKey(generateNoteKey('hallmark.local/owner/intruder').signerKey);
    const foreign = appendRecord(home.ledger, calibrationRecorded, fake, intruder, 'key:engineer');
    const f = await verifySuspect({ home: h, signer: ownerRecordSigner(home), passphrase: PASS, commitment: c.index, suspect: { url: server.url, protocol: 'tfserving', modelName: 'suspect' } });
    expect(f.trigger).toMatchObject({ chanceRate: 0.18, calibrationIndex: cal.index, matches: k.trigger!.matches });
    expect(f.decision.owned).toBe(true);
    expect(f.problems.map((p) => [p.index, p.code])).toEqual([[unsigned.index, 'RECORD_UNSIGNED'], [foreign.index, 'RECORD_UNTRUSTED_SIGNER']]);

    // The same through the CLI, with the request settings as flags (spawned asynchronously: the
    // server runs in this process, so a blocking spawn would starve it).
    const cli = await hallmarkAsync(['verify', '--endpoint', server.url, '--protocol', 'tfserving', '--model-name', 'suspect', '--commitment', String(c.index), '--batch-size', '50', '--max-requests', '4', '--json'], { home: homeDir, env: { HALLMARK_PASSPHRASE: PASS } });
    expect(cli.status, cli.stderr).toBe(0);
    expect(JSON.parse(cli.stdout)).toMatchObject({ requests: 2, decision: { owned: true }, record: { suspect: { kind: 'endpoint', protocol: 'tfserving' } } });
    const starved = await hallmarkAsync(['verify', '--endpoint', server.url, '--protocol', 'tfserving', '--model-name', 'suspect', '--commitment', String(c.index), '--batch-size', '10', '--max-requests', '3'], { home: homeDir, env: { HALLMARK_PASSPHRASE: PASS } });
    expect(starved.status).toBe(3);
    expect(starved.stderr).toMatch(/VERIFY_REMOTE_BUDGET/);

    // The unmarked fixture, queried locally through onnxruntime, is not accused.
    const u = await verifySuspect({ home: h, signer: ownerRecordSigner(home), passphrase: PASS, commitment: c.index, suspect: { path: onnx } });
    expect(u.decision.owned).toBe(false);
  });
});
