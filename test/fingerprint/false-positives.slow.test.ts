// Fingerprints must never accuse an innocent model. One fingerprint of the fixture (the command's
// defaults: 3 surrogates, 3 references, n = 300), its null calibrated on 5 fresh reference
// models, then two families of innocent models, each checked as `verify --fingerprint` checks:
//  (a) 20 independently trained models (own init and shuffle seeds, a short training on mnist,
//      the same recipe as test/verify/false-positives.slow.test.ts);
//  (b) 20 models fine-tuned (FTAL-style, different data slices and seeds) from ONE base model that
//      was trained independently of ours: derived models, but not derived from us.
// Zero ownership claims at alpha = 1e-6 in both; the observed p-values are printed. Then (c) the
// twin of a distilled student (the robustness bench's attack): the student's own seed, images and
// training, but the true labels. It must not be claimed; the hard- and soft-label students are
// printed beside it (docs/fingerprints.md, "The student's twin"). And (d) 3 models trained as long
// as the task allows (all 8,000 images, 10 epochs): strong innocent models agree with a set far
// more than weak ones (a null of weak references alone claimed two of three).
// FP_MODELS=k runs k models per family instead of 20 (development only).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { distill } from '../../src/attacks/index.js';
import { assessFingerprint, createFingerprint, loadFingerprint, runFingerprintCalibration, setImages, type LoadedFingerprint } from '../../src/fingerprint/index.js';
import { loadLayersModel } from '../../src/formats/index.js';
import { loadMnist } from '../../src/formats/mnist.js';
import { initHome, openHome, ownerRecordSigner, type Home } from '../../src/home/index.js';
import { selectBackend } from '../../src/train/backend.js';
import { predictClasses } from '../../src/train/evaluate.js';
import { fitModel } from '../../src/train/fit.js';
import { buildMnistCnn } from '../../src/train/mnist-cnn.js';
import { FIXTURE } from '../verify/helpers.js';

const ALPHA = 1e-6;
const PASS = 'fp-fingerprint';
const MODELS = Number(process.env.FP_MODELS ?? 20);

const summary = (name: string, xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return `${name}: min ${s[0]!.toPrecision(3)}, median ${s[Math.floor(s.length / 2)]!.toPrecision(3)}, max ${s.at(-1)!.toPrecision(3)}; all ${s.map((v) => v.toPrecision(2)).join(' ')}`;
};

describe('fingerprint false positives', () => {
  const homeDir = join(mkdtempSync(join(tmpdir(), 'hallmark-fp-fingerprint-')), 'home');
  let home: Home;
  let fp: LoadedFingerprint;
  let calibration: { index: number; rates: number[] };
  let mnist: Awaited<ReturnType<typeof loadMnist>>;

  const check = (model: tf.LayersModel) => {
    const p = fp.opening.parameters;
    const r = assessFingerprint(fp, predictClasses(model, { images: setImages(fp.opening.set), count: p.n, shape: [p.n, p.height, p.width, p.channels] }), calibration);
    return { matches: r.matches, p: r.pValue, claimed: r.log10PValue < Math.log10(ALPHA) };
  };
  const slice = (from: number, n: number) => ({ images: mnist.train.images.subarray(from * 784, (from + n) * 784), labels: mnist.train.labels.subarray(from, from + n), count: n, shape: [n, 28, 28, 1] as const });

  beforeAll(async () => {
    await selectBackend('wasm');
    mnist = await loadMnist({ seed: 0 });
    initHome(homeDir);
    home = openHome(homeDir);
    const h = { dir: homeDir, ledger: home.ledger, ownerVerifierKey: home.ownerVerifierKey };
    const made = await createFingerprint({ home: h, passphrase: PASS, signer: ownerRecordSigner(home), model: FIXTURE, backend: 'wasm' });
    console.log(`fingerprint: ${made.seconds.total.toFixed(0)} s, ${made.qualified}/${made.tried} strict, surrogates ${made.surrogateAgreement.join(' ')}, references ${made.referenceAgreement.join(' ')}`);
    fp = await loadFingerprint(h, PASS, made.index);
    const cal = await runFingerprintCalibration(home.ledger, { fingerprint: fp, backend: 'wasm', signer: ownerRecordSigner(home) });
    calibration = { index: cal.index, rates: (cal.payload.fingerprint as { agreement: number[] }).agreement };
    console.log(`calibration on 5 fresh references: ${calibration.rates.join(' ')}`);
  }, 3 * 3600_000);
  afterAll(() => home?.close());

  it(`${MODELS} independently trained models: no claim`, async () => {
    const results = [];
    for (let k = 0; k < MODELS; k++) {
      const model = buildMnistCnn(5000 + 10 * k);
      await fitModel({ model, optimizer: tf.train.adam(1e-3), data: slice(0, 960), numClasses: 10, epochs: 1, batchSize: 32, seed: 5000 + k });
      results.push(check(model));
      model.dispose();
    }
    console.log(`independent models (${MODELS}):\n  ${summary('fingerprint p', results.map((r) => r.p))}\n  matches ${results.map((r) => r.matches).join(' ')}`);
    expect(results.filter((r) => r.claimed)).toEqual([]);
  });

  it(`${MODELS} models fine-tuned from a different base: no claim`, async () => {
    const base = buildMnistCnn(9100);
    await fitModel({ model: base, optimizer: tf.train.adam(1e-3), data: slice(0, 3000), numClasses: 10, epochs: 2, batchSize: 64, seed: 9100 });
    const results = [];
    for (let k = 0; k < MODELS; k++) {
      const model = buildMnistCnn(9100);
      model.setWeights(base.getWeights());
      await fitModel({ model, optimizer: tf.train.adam(1e-3), data: slice((k * 359) % 7200, 800), numClasses: 10, epochs: 1, batchSize: 64, seed: 9200 + k });
      results.push(check(model));
      model.dispose();
    }
    const b = check(base);
    base.dispose();
    console.log(`fine-tuned from a different base (${MODELS}; the base itself: ${b.matches} matches, p ${b.p.toPrecision(2)}):\n  ${summary('fingerprint p', results.map((r) => r.p))}\n  matches ${results.map((r) => r.matches).join(' ')}`);
    expect(b.claimed).toBe(false);
    expect(results.filter((r) => r.claimed)).toEqual([]);
  });

  it('the innocent twin of a distilled student (its seed, images and training, true labels) is not claimed; the students are printed beside it', async () => {
    // Seed 101, not 1: buildMnistCnn(1) is the fixture's own initialisation, and a model started
    // from it was claimed whatever it was trained on (docs/fingerprints.md, "The student's twin").
    const teacher = await loadLayersModel(FIXTURE);
    const q = slice(0, 4000);
    const train = async (labels: ArrayLike<number>) => {
      const m = buildMnistCnn(101);
      await fitModel({ model: m, optimizer: tf.train.adam(1e-3), numClasses: 10, epochs: 3, batchSize: 64, seed: 101, data: { ...q, labels } });
      return m;
    };
    const student = await train(predictClasses(teacher, q));
    const twin = await train(q.labels);
    const soft = await distill(teacher, q, { epochs: 3, seed: 101, temperature: 4 });
    const [s, t, d] = [check(student), check(twin), check(soft)];
    console.log(`soft-label student: ${d.matches} matches, p ${d.p.toExponential(2)}, claimed ${d.claimed}; hard-label student: ${s.matches} matches, p ${s.p.toExponential(2)}, claimed ${s.claimed}; their twin on true labels: ${t.matches} matches, p ${t.p.toExponential(2)}, claimed ${t.claimed}`);
    teacher.dispose();
    for (const m of [student, twin, soft]) m.dispose();
    expect(t.claimed).toBe(false);
  });

  it('3 independent models trained on all 8,000 images for 10 epochs: no claim', async () => {
    const results = [];
    for (let k = 0; k < 3; k++) {
      const model = buildMnistCnn(6000 + k);
      await fitModel({ model, optimizer: tf.train.adam(1e-3), data: slice(0, 8000), numClasses: 10, epochs: 10, batchSize: 64, seed: 6000 + k });
      results.push(check(model));
      model.dispose();
    }
    console.log(`strong independent models: matches ${results.map((r) => r.matches).join(' ')}, p ${results.map((r) => r.p.toExponential(1)).join(' ')}`);
    expect(results.filter((r) => r.claimed)).toEqual([]);
  });
});
