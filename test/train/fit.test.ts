import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadMnist, type MnistSplit } from '../../src/formats/mnist.js';
import { selectBackend } from '../../src/train/backend.js';
import { TrainError } from '../../src/train/errors.js';
import { evaluateAccuracy, predictClasses } from '../../src/train/evaluate.js';
import { fitModel, type FitProgress, type LabelledImages } from '../../src/train/fit.js';
import { tinyModel } from '../helpers/tiny-model.js';


function head(split: MnistSplit, n: number): LabelledImages {
  return { images: split.images.subarray(0, n * 784), labels: split.labels.subarray(0, n), count: n, shape: [n, 28, 28, 1] };
}

const weightsOf = (m: tf.LayersModel) => m.getWeights().map((w) => Array.from(w.dataSync()));

describe('fitModel', () => {
  let train: LabelledImages;
  let test: LabelledImages;
  beforeAll(async () => {
    await selectBackend('wasm');
    const ds = await loadMnist({ seed: 0 });
    train = head(ds.train, 512);
    test = head(ds.test, 300);
  });

  it('learns real digits and reports progress for every batch', async () => {
    const model = tinyModel(1);
    const before = evaluateAccuracy(model, test);
    const events: FitProgress[] = [];
    const result = await fitModel({
      model, optimizer: tf.train.adam(0.01), data: train, numClasses: 10, epochs: 3, batchSize: 64, seed: 1,
      onProgress: (p) => events.push(p),
    });
    expect(events.length).toBe(3 * 8);
    expect(events[0]).toMatchObject({ epoch: 1, epochs: 3, batch: 1, batches: 8 });
    expect(events.every((e) => e.samplesPerSecond > 0 && Number.isFinite(e.loss))).toBe(true);
    expect(result.steps).toBe(24);
    expect(result.samples).toBe(3 * 512);
    expect(result.epochLoss[2]!).toBeLessThan(result.epochLoss[0]!);
    const after = evaluateAccuracy(model, test);
    expect(after).toBeGreaterThan(0.6);
    expect(after).toBeGreaterThan(before + 0.3);
  });

  it('gives the same weights for the same seeds and different ones for another shuffle seed', async () => {
    const run = async (shuffleSeed: number) => {
      const model = tinyModel(5);
      await fitModel({ model, optimizer: tf.train.sgd(0.1), data: train, numClasses: 10, epochs: 1, batchSize: 32, seed: shuffleSeed, maxSteps: 5 });
      return weightsOf(model);
    };
    const a = await run(1);
    expect(await run(1)).toEqual(a);
    expect(await run(2)).not.toEqual(a);
  });

  it('adds the extra loss term to the gradient and reports it', async () => {
    const kernelNorm = async (lambda: number) => {
      const model = tinyModel(3);
      const extras: number[] = [];
      await fitModel({
        model, optimizer: tf.train.sgd(0.05), data: train, numClasses: 10, epochs: 1, batchSize: 64, seed: 1, maxSteps: 6,
        extraLoss: ({ model: m }) => tf.mul(lambda, tf.sum(tf.square(m.layers[0]!.trainableWeights[0]!.read()))) as tf.Scalar,
        onProgress: (p) => extras.push(p.extraLoss ?? NaN),
      });
      const norm = tf.tidy(() => tf.norm(model.layers[0]!.getWeights()[0]!).dataSync()[0]!);
      return { norm, extras };
    };
    const plain = await kernelNorm(0);
    const decayed = await kernelNorm(2);
    expect(plain.extras.every((e) => e === 0)).toBe(true);
    expect(decayed.extras[0]!).toBeGreaterThan(0);
    expect(decayed.norm).toBeLessThan(plain.norm * 0.5);
  });

  it('mixes extra samples into every batch until the model answers them', async () => {
    const n = 8;
    const triggerImages = tf.tidy(() => tf.randomUniform([n, 28, 28, 1], 0, 1, 'float32', 7));
    const triggerLabels = Int32Array.from({ length: n }, (_, i) => (i * 3 + 1) % 10);
    const y = tf.oneHot(tf.tensor1d(triggerLabels, 'int32'), 10);
    const trigger: LabelledImages = { images: triggerImages.dataSync() as Float32Array, labels: triggerLabels, count: n, shape: [n, 28, 28, 1] };
    const model = tinyModel(9);
    let calls = 0;
    await fitModel({
      model, optimizer: tf.train.adam(0.01), data: train, numClasses: 10, epochs: 4, batchSize: 64, seed: 1,
      extraBatch: () => { calls++; return { x: triggerImages, y }; },
    });
    expect(calls).toBe(4 * 8);
    expect(triggerImages.isDisposed).toBe(false);
    expect(evaluateAccuracy(model, trigger)).toBeGreaterThanOrEqual(7 / 8);
    expect(Array.from(predictClasses(model, trigger))).not.toEqual(new Array(n).fill(predictClasses(model, trigger)[0]));
    tf.dispose([triggerImages, y]);
  });

  it('leaks no tensors across a run', async () => {
    const model = tinyModel(4);
    const optimizer = tf.train.sgd(0.1);
    await fitModel({ model, optimizer, data: train, numClasses: 10, epochs: 1, batchSize: 64, seed: 1, maxSteps: 1 });
    const before = tf.memory().numTensors;
    await fitModel({ model, optimizer, data: train, numClasses: 10, epochs: 1, batchSize: 64, seed: 1, maxSteps: 3 });
    expect(tf.memory().numTensors).toBe(before);
  });

  it('rejects bad options and bad labels', async () => {
    const model = tinyModel(2);
    const base = { model, optimizer: tf.train.sgd(0.1), data: train, numClasses: 10, epochs: 1, batchSize: 8, seed: 1 };
    await expect(fitModel({ ...base, batchSize: 0 })).rejects.toThrow(RangeError);
    await expect(fitModel({ ...base, data: { ...train, count: 3 } })).rejects.toThrow(RangeError);
    const badLabels = { ...train, labels: Uint8Array.from(train.labels as Uint8Array, (l, i) => (i === 5 ? 12 : l)) };
    await expect(fitModel({ ...base, data: badLabels })).rejects.toMatchObject({ code: 'TRAIN_BAD_DATA' });
    await expect(fitModel({ ...base, data: badLabels })).rejects.toBeInstanceOf(TrainError);
    await expect(fitModel({ ...base, signal: AbortSignal.abort() })).rejects.toThrow(/abort/i);
  });
});
