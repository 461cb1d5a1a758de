// Soft targets (knowledge distillation): softened teacher probabilities, and fitModel training on
// target distributions on one thread and on worker threads.
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HallmarkError } from '../../ledger/index.js';
import { loadMnist } from '../../src/formats/mnist.js';
import { selectBackend } from '../../src/train/backend.js';
import { fitModel, type LabelledImages } from '../../src/train/fit.js';
import { softenScores } from '../../src/train/soft-targets.js';
import { closeTrainingWorkers } from '../../src/train/worker-pool.js';
import { flatWeights as flat, tinyModel } from '../helpers/tiny-model.js';


const code = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    return e instanceof HallmarkError ? e.code : (e as Error).name;
  }
  return 'none';
};

describe('softenScores', () => {
  const p = Float32Array.from([0.7, 0.2, 0.1, 0, 0.98, 0.02]);

  it('keeps the distribution at T = 1 and flattens it as T grows, in closed form', () => {
    const one = softenScores(p, 3, 1);
    for (let i = 0; i < 6; i++) expect(one[i]).toBeCloseTo(p[i]!, 6);
    const t4 = softenScores(p, 3, 4);
    // p^(1/4) / sum, written out for the first row.
    const r = [0.7, 0.2, 0.1].map((v) => v ** 0.25);
    const s = r.reduce((a, b) => a + b, 0);
    for (let j = 0; j < 3; j++) expect(t4[j]).toBeCloseTo(r[j]! / s, 6);
    expect(t4[0]! < 0.7 && t4[2]! > 0.1).toBe(true);
    for (const row of [0, 1]) expect(t4[row * 3]! + t4[row * 3 + 1]! + t4[row * 3 + 2]!).toBeCloseTo(1, 6);
    expect(t4[3]).toBe(0); // a class the teacher gives 0 stays 0 at any temperature
  });

  it('refuses scores that are not probabilities (NaN, negative, above 1, an all-zero row)', () => {
    for (const bad of [[NaN, 0.5, 0.5], [-0.1, 0.6, 0.5], [1.5, 0, 0], [0, 0, 0]]) {
      expect(code(() => softenScores(Float32Array.from(bad), 3, 2))).toBe('TRAIN_BAD_DATA');
    }
  });
});

describe('fitModel with soft targets', () => {
  let train: LabelledImages;
  beforeAll(async () => {
    await selectBackend('wasm');
    const ds = await loadMnist({ seed: 0 });
    train = { images: ds.train.images.subarray(0, 200 * 784), labels: ds.train.labels.subarray(0, 200), count: 200, shape: [200, 28, 28, 1] };
  });
  afterAll(async () => {
    await closeTrainingWorkers();
  });

  const run = async (workers: number, softTargets?: Float32Array) => {
    const model = tinyModel(11);
    const opt = tf.train.adam(0.01);
    await fitModel({ model, optimizer: opt, data: train, numClasses: 10, epochs: 1, batchSize: 64, seed: 5, workers, ...(softTargets ? { softTargets } : {}) });
    const w = flat(model);
    model.dispose();
    opt.dispose();
    return w;
  };
  const oneHot = () => {
    const t = new Float32Array(train.count * 10);
    for (let i = 0; i < train.count; i++) t[i * 10 + train.labels[i]!] = 1;
    return t;
  };
  // The label's class keeps 0.7, the rest is spread over the others: what a teacher's soft answer looks like.
  const smoothed = () => {
    const t = new Float32Array(train.count * 10).fill(0.3 / 9);
    for (let i = 0; i < train.count; i++) t[i * 10 + train.labels[i]!] = 0.7;
    return t;
  };

  for (const workers of [1, 2]) {
    it(`trains on the rows given, and one-hot rows are the labels to the bit (${workers} worker${workers > 1 ? 's' : ''})`, async () => {
      const labels = await run(workers);
      expect(await run(workers, oneHot())).toEqual(labels);
      const soft = await run(workers, smoothed());
      expect(soft).not.toEqual(labels);
      // Shuffled with the samples: rows follow their sample through the epoch's order.
      const shuffledRows = oneHot();
      shuffledRows.copyWithin(0, 10, 20); // sample 0 gets sample 1's row
      expect(await run(workers, shuffledRows)).not.toEqual(labels);
    });
  }

  it('refuses rows that are not distributions, and the wrong number of values, before training', async () => {
    const model = tinyModel(11);
    const fit = (softTargets: Float32Array) => fitModel({ model, optimizer: tf.train.adam(0.01), data: train, numClasses: 10, epochs: 1, batchSize: 64, seed: 5, workers: 1, softTargets });
    const before = flat(model);
    const half = oneHot();
    half[15] = 0.5; // sample 1 sums to 1.5
    await expect(fit(half)).rejects.toMatchObject({ code: 'TRAIN_BAD_DATA' });
    const neg = smoothed();
    neg[3] = -0.01;
    await expect(fit(neg)).rejects.toMatchObject({ code: 'TRAIN_BAD_DATA' });
    await expect(fit(new Float32Array(train.count * 10 - 10))).rejects.toThrow(/softTargets holds/);
    expect(flat(model)).toEqual(before);
    model.dispose();
  });
});
