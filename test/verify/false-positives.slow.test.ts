// False positives: verification must never accuse an innocent model. Two families of nulls:
//  (a) 20 independently trained unmarked models (the fixture architecture, own init and shuffle
//      seeds, a short training on mnist) checked for one owner's weight + trigger marks;
//  (b) our marked model checked with the marks of 20 other owner keys.
// Zero ownership claims at alpha = 1e-6 in both, and the observed p-values are printed.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sha256 } from '@noble/hashes/sha2.js';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deriveWatermarkKeys, deriveWatermarkRoot } from '../../src/core/index.js';
import { embedWatermark } from '../../src/embed/index.js';
import { loadLayersModel } from '../../src/formats/index.js';
import { loadMnist } from '../../src/formats/mnist.js';
import { homeTrust, initHome, openHome, ownerRecordSigner, type Home } from '../../src/home/index.js';
import { selectBackend } from '../../src/train/backend.js';
import { predictClasses } from '../../src/train/evaluate.js';
import { fitModel } from '../../src/train/fit.js';
import { buildMnistCnn } from '../../src/train/mnist-cnn.js';
import { assessTriggerPredictions, buildTriggerSet } from '../../src/verify/black-box.js';
import { modelTensors } from '../../src/verify/calibration.js';
import { decideOwnership } from '../../src/verify/decision.js';
import { loadMark, type MarkKeys } from '../../src/verify/mark-secrets.js';
import { verifyWeightMark } from '../../src/verify/white-box.js';
import { FIXTURE } from './helpers.js';

const ALPHA = 1e-6;
const seedOf = (s: string) => sha256(new TextEncoder().encode(s));

function marksFor(ownerSeed: Uint8Array, modelId: string): MarkKeys {
  const k = deriveWatermarkKeys(deriveWatermarkRoot(ownerSeed, modelId), 256);
  return {
    weight: { bits: k.bits, projectionSeed: k.projectionSeed, features: 1568, shape: [1568, 64], layout: 'IO' },
    trigger: { imageSeed: k.triggerImageSeed, labelSeed: k.triggerLabelSeed, n: 100, classes: 10, height: 28, width: 28, channels: 1 },
  };
}

function check(model: tf.LayersModel, mark: MarkKeys) {
  const w = verifyWeightMark(modelTensors(model), mark.weight!);
  const set = buildTriggerSet(mark.trigger!);
  const t = assessTriggerPredictions(set, predictClasses(model, { images: set.images, count: set.n, shape: [set.n, 28, 28, 1] }), 'tfjs');
  const d = decideOwnership([{ name: 'weight', log10PValue: w.log10CorrectedPValue }, { name: 'trigger', log10PValue: t.log10PValue }], ALPHA);
  return { weightP: w.correctedPValue, ber: w.best.ber, triggerP: t.pValue, matches: t.matches, familyP: d.familyPValue, owned: d.owned };
}

const summary = (name: string, xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return `${name}: min ${s[0]!.toPrecision(3)}, median ${s[Math.floor(s.length / 2)]!.toPrecision(3)}, max ${s.at(-1)!.toPrecision(3)}; all ${s.map((v) => v.toPrecision(2)).join(' ')}`;
};

describe('false positives', () => {
  const homeDir = join(mkdtempSync(join(tmpdir(), 'hallmark-fp-')), 'home');
  let home: Home;
  beforeAll(async () => {
    await selectBackend('wasm');
    initHome(homeDir);
    home = openHome(homeDir);
  });
  afterAll(() => home?.close());

  it('20 independently trained unmarked models: no claim of ownership', async () => {
    const mark = marksFor(seedOf('hallmark/test/fp/owner'), 'model:sha256:' + 'cd'.repeat(32));
    const mnist = await loadMnist({ seed: 0 });
    const n = 960;
    const data = { images: mnist.train.images.subarray(0, n * 784), labels: mnist.train.labels.subarray(0, n), count: n, shape: [n, 28, 28, 1] as const };
    const results = [];
    for (let k = 0; k < 20; k++) {
      const model = buildMnistCnn(5000 + 10 * k);
      await fitModel({ model, optimizer: tf.train.adam(1e-3), data, numClasses: 10, epochs: 1, batchSize: 32, seed: 5000 + k });
      results.push(check(model, mark));
      model.dispose();
    }
    console.log(`unmarked models (20):\n  ${summary('weight p (Bonferroni)', results.map((r) => r.weightP))}\n  ${summary('trigger p', results.map((r) => r.triggerP))}\n  ${summary('family p', results.map((r) => r.familyP))}\n  trigger matches ${results.map((r) => r.matches).join(' ')}`);
    expect(results.filter((r) => r.owned)).toEqual([]);
  });

  it('our marked model checked with 20 other owner keys: no claim; with ours: owned', async () => {
    const ownerSeed = ownerRecordSigner(home).seed;
    const s = await embedWatermark({
      home: { dir: homeDir, ledger: home.ledger, ownerVerifierKey: home.ownerVerifierKey }, ownerSeed, model: FIXTURE, out: join(homeDir, '..', 'marked'),
      dataset: 'mnist', scheme: 'both', passphrase: 'fp', backend: 'wasm', epochs: 2, seed: 1,
    });
    const ours = await loadMark({ dir: homeDir, ledger: home.ledger }, 'fp', s.ledger.committed, homeTrust(home));
    const model = await loadLayersModel(join(homeDir, '..', 'marked'));
    const own = check(model, ours);
    expect(own.owned).toBe(true);
    const others = [];
    for (let k = 0; k < 20; k++) others.push(check(model, marksFor(seedOf(`hallmark/test/fp/other/${k}`), s.input.id)));
    model.dispose();
    console.log(`other owner keys (20) on our marked model (ours: weight p ${own.weightP.toExponential(2)}, trigger p ${own.triggerP.toExponential(2)}):\n  ${summary('weight p (Bonferroni)', others.map((r) => r.weightP))}\n  ${summary('trigger p', others.map((r) => r.triggerP))}`);
    expect(others.filter((r) => r.owned)).toEqual([]);
  });
});
