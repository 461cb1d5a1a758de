// Data-parallel fitModel: the same training as one thread up to float summation order, the same
// weights for the same seed and worker count, and failures that surface as typed errors.
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadMnist } from '../../src/formats/mnist.js';
import { selectBackend } from '../../src/train/backend.js';
import { fitModel, type FitOptions, type LabelledImages } from '../../src/train/fit.js';
import { closeTrainingWorkers, prewarmTrainingWorkers, trainingWorkerCount } from '../../src/train/worker-pool.js';
import { flatWeights as flat, tinyModel } from '../helpers/tiny-model.js';


const maxAbsDiff = (a: Float32Array, b: Float32Array) => a.reduce((d, v, i) => Math.max(d, Math.abs(v - b[i]!)), 0);

describe('fitModel on worker threads', () => {
  let train: LabelledImages;
  beforeAll(async () => {
    await selectBackend('wasm');
    const ds = await loadMnist({ seed: 0 });
    // 300 samples: batches of 64 leave a partial last batch of 44.
    train = { images: ds.train.images.subarray(0, 300 * 784), labels: ds.train.labels.subarray(0, 300), count: 300, shape: [300, 28, 28, 1] };
  });
  afterAll(async () => {
    await closeTrainingWorkers();
  });

  const run = async (workers: number, extra: Partial<FitOptions> = {}, optimizer: () => tf.Optimizer = () => tf.train.adam(0.01)) => {
    const model = tinyModel(7);
    const opt = optimizer();
    const result = await fitModel({ model, optimizer: opt, data: train, numClasses: 10, epochs: 2, batchSize: 64, seed: 3, workers, ...extra });
    const weights = flat(model);
    model.dispose();
    opt.dispose();
    return { result, weights };
  };

  it('gives single-thread training up to float summation order (Adam, SGD, 2 and 3 workers)', async () => {
    const one = await run(1);
    expect(one.result.workers).toBe(1);
    for (const n of [2, 3]) {
      const many = await run(n);
      expect(many.result.workers).toBe(n);
      expect(many.result.parallelFallback).toBeUndefined();
      expect(many.result.steps).toBe(one.result.steps);
      expect(maxAbsDiff(many.weights, one.weights)).toBeLessThan(2e-4);
      expect(many.result.epochLoss[1]!).toBeCloseTo(one.result.epochLoss[1]!, 4);
    }
    const sgd = () => tf.train.sgd(0.1);
    expect(maxAbsDiff((await run(2, {}, sgd)).weights, (await run(1, {}, sgd)).weights)).toBeLessThan(1e-5);
  });

  it('is deterministic for a seed and worker count, and the seed matters', async () => {
    const a = await run(2);
    const b = await run(2);
    expect(Array.from(b.weights)).toEqual(Array.from(a.weights));
    const c = await run(2, { seed: 4 });
    expect(maxAbsDiff(c.weights, a.weights)).toBeGreaterThan(1e-3);
  });

  // The workers apply plain Adam and SGD themselves, each to its share of the weights, after all
  // gradient rows and this thread's own part are in: the same loop as the main thread's, so the
  // weights must be the main thread's to the bit, with and without this thread's own gradient.
  it('applies Adam and SGD in the workers with the weights the main thread gives, to the bit', async () => {
    const xT = tf.tidy(() => tf.randomUniform([80, 28, 28, 1], 0, 1, 'float32', 5));
    const yT = tf.tidy(() => tf.oneHot(tf.tensor1d(Array.from({ length: 80 }, (_, i) => (i * 3) % 10), 'int32'), 10));
    const hooks: Partial<FitOptions> = {
      extraBatch: ({ step }) => (step % 2 === 0 ? { x: xT, y: yT } : undefined),
      extraLoss: ({ model }) => tf.mul(0.5, tf.sum(tf.square(model.layers[0]!.trainableWeights[0]!.read()))) as tf.Scalar,
    };
    const cases: [number, Partial<FitOptions>, () => tf.Optimizer][] = [
      [2, {}, () => tf.train.adam(0.01)],
      [3, {}, () => tf.train.adam(0.01)],
      [2, hooks, () => tf.train.adam(0.01)],
      [2, {}, () => tf.train.sgd(0.1)],
      [3, hooks, () => tf.train.sgd(0.1)],
    ];
    for (const [n, extra, opt] of cases) {
      const main = await run(n, { ...extra, optimizerOn: 'main' }, opt);
      const workers = await run(n, { ...extra, optimizerOn: 'workers' }, opt);
      expect(Array.from(workers.weights)).toEqual(Array.from(main.weights));
      expect(workers.result.epochLoss).toEqual(main.result.epochLoss);
    }
    tf.dispose([xT, yT]);
  });

  it('a hook that throws mid-fit fails the fit, and the workers serve the next one', async () => {
    let calls = 0;
    const failing = run(2, { extraLoss: ({ model }) => {
      if (++calls === 3) throw new Error('hook failed');
      return tf.sum(model.layers[0]!.trainableWeights[0]!.read()) as tf.Scalar;
    } });
    await expect(failing).rejects.toThrow('hook failed');
    const again = await run(2);
    const reference = await run(2, { optimizerOn: 'main' });
    expect(Array.from(again.weights)).toEqual(Array.from(reference.weights));
  });

  // 6 extra samples join the workers' shared batch; 80 (more than a batch) stay on the main thread.
  it.each([
    { n: 6, soft: false },
    { n: 80, soft: true },
    { n: 80, soft: false },
    { n: 6, soft: true },
  ])('adds $n extra samples (soft targets: $soft) and the extra loss as one thread does', async ({ n, soft }) => {
    const xT = tf.tidy(() => tf.randomUniform([n, 28, 28, 1], 0, 1, 'float32', 5));
    const yT = tf.tidy(() => (soft ? tf.softmax(tf.randomNormal([n, 10], 0, 1, 'float32', 6)) : tf.oneHot(tf.tensor1d(Array.from({ length: n }, (_, i) => (i * 7) % 10), 'int32'), 10)));
    const hooks = (): Partial<FitOptions> => ({
      extraBatch: ({ step }) => (step % 2 === 0 ? { x: xT, y: yT } : undefined),
      extraLoss: ({ model }) => tf.mul(0.5, tf.sum(tf.square(model.layers[0]!.trainableWeights[0]!.read()))) as tf.Scalar,
    });
    const extras: number[][] = [[], []];
    const losses: number[][] = [[], []];
    const one = await run(1, { ...hooks(), onProgress: (p) => { extras[0]!.push(p.extraLoss!); losses[0]!.push(p.loss); } });
    const two = await run(2, { ...hooks(), onProgress: (p) => { extras[1]!.push(p.extraLoss!); losses[1]!.push(p.loss); } });
    const plain = await run(2);
    expect(maxAbsDiff(two.weights, one.weights)).toBeLessThan(2e-4);
    expect(maxAbsDiff(two.weights, plain.weights)).toBeGreaterThan(1e-3);
    extras[1]!.forEach((e, i) => expect(e).toBeCloseTo(extras[0]![i]!, 4));
    losses[1]!.forEach((l, i) => expect(l).toBeCloseTo(losses[0]![i]!, 3));
    expect(xT.isDisposed).toBe(false);
    tf.dispose([xT, yT]);
  });

  // The workers keep their replica and shared memory between fits of one architecture, and the flat
  // Adam hands its state back to the caller's optimizer: neither may leak into the next fit.
  it('starts every fit from the caller\'s weights and optimizer state, whatever the workers fitted before', async () => {
    const twoFits = async (workers: number, seed: number) => {
      const model = tinyModel(seed);
      const opt = tf.train.adam(0.01);
      const base = { model, optimizer: opt, data: train, numClasses: 10, epochs: 1, batchSize: 64, workers };
      await fitModel({ ...base, seed: 1 });
      await fitModel({ ...base, seed: 2 });
      expect(opt.iterations).toBe(10);
      const weights = flat(model);
      model.dispose();
      opt.dispose();
      return weights;
    };
    const other = tf.sequential({ layers: [tf.layers.flatten({ inputShape: [28, 28, 1] }), tf.layers.dense({ units: 10, activation: 'softmax' })] });
    for (const seed of [20, 30]) {
      const parallel = await twoFits(2, seed);
      await fitModel({ model: other, optimizer: tf.train.sgd(0.1), data: train, numClasses: 10, epochs: 1, batchSize: 64, seed: 1, workers: 2 });
      expect(maxAbsDiff(parallel, await twoFits(1, seed))).toBeLessThan(2e-4);
    }
    other.dispose();
  });

  it('trains on a prewarmed team, with the same result, and prewarms only when no team is idle', async () => {
    const before = await run(2);
    await closeTrainingWorkers();
    expect(trainingWorkerCount()).toBe(0);
    prewarmTrainingWorkers('wasm', 2);
    expect(trainingWorkerCount()).toBe(2);
    prewarmTrainingWorkers('wasm', 2);
    expect(trainingWorkerCount()).toBe(2);
    const after = await run(2);
    expect(trainingWorkerCount()).toBe(2);
    expect(Array.from(after.weights)).toEqual(Array.from(before.weights));
  });

  it('stops on abort, and the workers serve the next fit', async () => {
    const stop = new AbortController();
    const model = tinyModel(1);
    const failed = fitModel({
      model, optimizer: tf.train.sgd(0.1), data: train, numClasses: 10, epochs: 5, batchSize: 32, seed: 1, workers: 2,
      onProgress: (p) => { if (p.batch === 3) stop.abort(new Error('enough')); }, signal: stop.signal,
    });
    await expect(failed).rejects.toThrow('enough');
    const again = await run(2);
    expect(again.result.workers).toBe(2);
    model.dispose();
  });

  it('refuses a model the workers cannot rebuild with a typed error when workers were asked for', async () => {
    class Doubler extends tf.layers.Layer {
      static className = 'HallmarkTestDoubler';
      override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
        return tf.mul(Array.isArray(inputs) ? inputs[0]! : inputs, 2);
      }
    }
    tf.serialization.registerClass(Doubler);
    const model = tf.sequential({ layers: [tf.layers.flatten({ inputShape: [28, 28, 1] }), new Doubler({}), tf.layers.dense({ units: 10, activation: 'softmax' })] });
    const base = { model, optimizer: tf.train.sgd(0.1), data: train, numClasses: 10, epochs: 1, batchSize: 32, seed: 1, maxSteps: 2 };
    await expect(fitModel({ ...base, workers: 2 })).rejects.toMatchObject({ code: 'TRAIN_BACKEND_UNAVAILABLE', message: expect.stringContaining('HallmarkTestDoubler') });
    const single = await fitModel({ ...base, workers: 1 });
    expect(single.steps).toBe(2);
  });

  it('leaks no tensors on the main thread, also when the hooks make tensors every step', async () => {
    await run(2);
    const before = tf.memory().numTensors;
    await run(2);
    expect(tf.memory().numTensors).toBe(before);
    // As embedding does: a window gathered from caller-owned triggers on every step. The window
    // is freed after its step; the caller's tensors are not touched.
    const xT = tf.tidy(() => tf.randomUniform([20, 28, 28, 1], 0, 1, 'float32', 9));
    const yT = tf.oneHot(tf.tensor1d(Array.from({ length: 20 }, (_, i) => i % 10), 'int32'), 10);
    const window = ({ step }: { step: number }) => {
      const idx = tf.tensor1d([step % 20, (step + 1) % 20, (step + 2) % 20], 'int32');
      return { x: tf.gather(xT, idx), y: tf.gather(yT, idx) };
    };
    for (const workers of [1, 2]) {
      const [tooMany] = [tf.tidy(() => tf.zeros([70, 28, 28, 1]))]; // more than a batch: stays on the main thread
      const big = ({ step }: { step: number }) => (step % 2 ? window({ step }) : { x: tf.add(tooMany, 0), y: tf.oneHot(tf.fill([70], 3, 'int32') as tf.Tensor1D, 10) });
      const held = tf.memory().numTensors;
      await run(workers, { extraBatch: window });
      await run(workers, { extraBatch: big });
      expect(tf.memory().numTensors).toBe(held);
      tooMany.dispose();
    }
    expect(xT.isDisposed || yT.isDisposed).toBe(false);
    tf.dispose([xT, yT]);
  });
});
