/**
 * A small custom training loop (not model.fit) so that watermark embedding can plug in what
 * Keras-style fit cannot: an extra loss term computed from the model's weights (a weight-watermark
 * regulariser) and extra samples appended to every batch (a trigger set).
 *
 * On the wasm and cpu backends it trains data-parallel: `workers` threads (default: the number of
 * cores) each compute the gradient of a slice of every batch on their own backend, and this thread
 * averages them through shared memory and applies the optimizer (fit-parallel.ts). The result is
 * single-thread training with the same batches up to the order of float sums, and the same seed and
 * worker count give the same weights.
 */
import { availableParallelism } from 'node:os';
import { sha256 } from '@noble/hashes/sha2.js';
import * as tf from '@tensorflow/tfjs';
import { createPrng } from '../core/prng.js';
import { TrainError } from './errors.js';
import { startParallel } from './fit-parallel.js';
import { localRunner, type StepContext, type StepRunner } from './fit-step.js';

/** Images in NHWC order with integer class labels, as the dataset readers return them. */
export interface LabelledImages {
  readonly images: Float32Array;
  readonly labels: ArrayLike<number>;
  readonly count: number;
  readonly shape: readonly [number, number, number, number];
}

export type { StepContext } from './fit-step.js';

export interface FitProgress {
  readonly epoch: number;
  readonly epochs: number;
  /** Batch within the epoch, from 1. */
  readonly batch: number;
  readonly batches: number;
  /** Total loss of this batch (data loss plus any extra loss). */
  readonly loss: number;
  /** The extra loss term alone, when one is plugged in. */
  readonly extraLoss?: number;
  /** Dataset samples per second since the epoch started (extra samples not counted). */
  readonly samplesPerSecond: number;
}

export interface FitOptions {
  readonly model: tf.LayersModel;
  readonly optimizer: tf.Optimizer;
  readonly data: LabelledImages;
  readonly numClasses: number;
  /**
   * Soft targets (knowledge distillation): per sample a distribution over the classes, count x
   * numClasses values, each row summing to 1. The loss is then the cross-entropy against these
   * rows instead of one-hot `labels` (which must still hold each sample's class, e.g. the argmax).
   */
  readonly softTargets?: Float32Array;
  readonly epochs: number;
  readonly batchSize: number;
  /** Seeds the per-epoch shuffle; the same seed gives the same batches. */
  readonly seed: number;
  /** Stop after this many steps in all (benchmarks); default: every batch of every epoch. */
  readonly maxSteps?: number;
  /** Samples appended to every batch (caller-owned tensors, not disposed here); y is one-hot. */
  readonly extraBatch?: (ctx: StepContext) => { x: tf.Tensor; y: tf.Tensor } | undefined;
  /** A scalar added to the loss, computed inside the gradient scope from the model's weights. */
  readonly extraLoss?: (ctx: StepContext) => tf.Scalar;
  readonly onProgress?: (progress: FitProgress) => void;
  readonly signal?: AbortSignal;
  /**
   * Threads that compute gradients. Default: the number of cores on the wasm and cpu backends, 1 on
   * the others (native TensorFlow and WebGPU parallelise inside one op). 1 trains on this thread.
   */
  readonly workers?: number;
  /**
   * With several workers and plain Adam or SGD: the workers apply the update, each to its share of
   * the weights (default), or this thread does. The weights are the same to the bit; "main" is the
   * reference the tests compare with.
   */
  readonly optimizerOn?: 'workers' | 'main';
}

export interface FitResult {
  readonly steps: number;
  readonly samples: number;
  readonly seconds: number;
  readonly samplesPerSecond: number;
  /** Mean batch loss of each epoch. */
  readonly epochLoss: readonly number[];
  /** Threads that computed gradients (1: this thread alone). */
  readonly workers: number;
  /** Why training ran on this thread although more workers were asked for, if it did. */
  readonly parallelFallback?: string;
}

export async function fitModel(options: FitOptions): Promise<FitResult> {
  const { data, epochs, batchSize } = options;
  checkOptions(options);
  const [, h, w, c] = data.shape;
  const sampleSize = h * w * c;
  const batches = Math.ceil(data.count / batchSize);
  const maxSteps = options.maxSteps ?? epochs * batches;
  options.signal?.throwIfAborted();
  const started = performance.now();
  const { runner, fallback } = await openRunner(options, [h, w, c]);
  const order = new Uint32Array(data.count);
  const prng = createPrng(sha256(new TextEncoder().encode(`hallmark/fit-shuffle/v1/${options.seed}`)));
  const epochLoss: number[] = [];
  let step = 0;
  let samples = 0;

  try {
    for (let epoch = 1; epoch <= epochs && step < maxSteps; epoch++) {
      for (let i = 0; i < order.length; i++) order[i] = i;
      for (let i = order.length - 1; i > 0; i--) {
        const j = prng.nextInt(i + 1);
        [order[i], order[j]] = [order[j]!, order[i]!];
      }
      const epochStart = performance.now();
      let epochSamples = 0;
      let lossSum = 0;
      let batch = 0;
      while (batch < batches && step < maxSteps) {
        options.signal?.throwIfAborted();
        const from = batch * batchSize;
        const size = Math.min(batchSize, data.count - from);
        for (let k = 0; k < size; k++) {
          const src = order[from + k]!;
          runner.images.set(data.images.subarray(src * sampleSize, (src + 1) * sampleSize), k * sampleSize);
          runner.labels[k] = data.labels[src]!;
        }
        if (runner.soft) {
          const nc = options.numClasses;
          for (let k = 0; k < size; k++) runner.soft.set(options.softTargets!.subarray(order[from + k]! * nc, (order[from + k]! + 1) * nc), k * nc);
        }
        const ctx: StepContext = { epoch, step, model: options.model };
        const { loss, extraLoss } = await runner.step(size, ctx);
        if (!Number.isFinite(loss)) {
          throw new TrainError('TRAIN_BAD_DATA', `training diverged: loss is ${loss} at epoch ${epoch}, batch ${batch + 1}`);
        }
        batch++;
        step++;
        epochSamples += size;
        samples += size;
        lossSum += loss;
        const seconds = (performance.now() - epochStart) / 1000;
        options.onProgress?.({
          epoch,
          epochs,
          batch,
          batches,
          loss,
          ...(extraLoss === undefined ? {} : { extraLoss }),
          samplesPerSecond: seconds > 0 ? epochSamples / seconds : 0,
        });
      }
      epochLoss.push(lossSum / batch);
      // Let timers, signals and progress output through between epochs.
      await new Promise((resolve) => setImmediate(resolve));
    }
  } finally {
    await runner.close();
  }
  const seconds = (performance.now() - started) / 1000;
  return {
    steps: step, samples, seconds, samplesPerSecond: seconds > 0 ? samples / seconds : 0, epochLoss,
    workers: runner.workers, ...(fallback === undefined ? {} : { parallelFallback: fallback }),
  };
}

/** The data-parallel runner when more than one worker is asked for and can start, else this thread's. */
async function openRunner(o: FitOptions, imageShape: [number, number, number]): Promise<{ runner: StepRunner; fallback?: string }> {
  const backend = tf.getBackend();
  const parallelBackend = backend === 'wasm' || backend === 'cpu';
  const requested = o.workers ?? (parallelBackend ? availableParallelism() : 1);
  const workers = Math.min(requested, o.batchSize);
  const hooks = { ...(o.extraBatch ? { extraBatch: o.extraBatch } : {}), ...(o.extraLoss ? { extraLoss: o.extraLoss } : {}) };
  const setup = { model: o.model, optimizer: o.optimizer, batchSize: o.batchSize, imageShape, numClasses: o.numClasses, hooks, ...(o.softTargets ? { softTargets: true } : {}) };
  if (workers <= 1) return { runner: localRunner(setup) };
  let fallback: string;
  if (!parallelBackend) {
    fallback = `the ${backend} backend trains on one thread here`;
  } else {
    const parallel = await startParallel({ ...setup, backend, workers, ...(o.optimizerOn ? { optimizerOn: o.optimizerOn } : {}) });
    if (typeof parallel !== 'string') return { runner: parallel };
    fallback = parallel;
  }
  if (o.workers !== undefined) {
    throw new TrainError('TRAIN_BACKEND_UNAVAILABLE', `cannot train on ${o.workers} workers: ${fallback}`);
  }
  return { runner: localRunner(setup), fallback };
}

function checkOptions(o: FitOptions): void {
  const positive = (name: string, v: number) => {
    if (!Number.isInteger(v) || v < 1) throw new RangeError(`fitModel: ${name} must be a positive integer, got ${v}`);
  };
  positive('epochs', o.epochs);
  positive('batchSize', o.batchSize);
  positive('numClasses', o.numClasses);
  if (o.maxSteps !== undefined) positive('maxSteps', o.maxSteps);
  if (o.workers !== undefined) positive('workers', o.workers);
  const [n, h, w, c] = o.data.shape;
  if (n !== o.data.count || o.data.images.length !== n * h * w * c || o.data.labels.length !== n || n < 1) {
    throw new RangeError(`fitModel: data holds ${o.data.images.length} values and ${o.data.labels.length} labels, not shape [${o.data.shape}]`);
  }
  for (let i = 0; i < n; i++) {
    const label = o.data.labels[i]!;
    if (!Number.isInteger(label) || label < 0 || label >= o.numClasses) {
      throw new TrainError('TRAIN_BAD_DATA', `label ${label} of sample ${i} is outside 0..${o.numClasses - 1}`);
    }
  }
  if (o.softTargets) checkSoftTargets(o.softTargets, n, o.numClasses);
}

/** Every row a distribution: finite, non-negative, summing to 1 (within float32 rounding). */
function checkSoftTargets(t: Float32Array, n: number, nc: number): void {
  if (t.length !== n * nc) throw new RangeError(`fitModel: softTargets holds ${t.length} values, not ${n} x ${nc}`);
  for (let i = 0; i < n; i++) {
    let sum = 0;
    for (let j = i * nc; j < (i + 1) * nc; j++) {
      const v = t[j]!;
      if (!(v >= 0 && v <= 1)) throw new TrainError('TRAIN_BAD_DATA', `soft target ${j - i * nc} of sample ${i} is ${v}, not a probability`);
      sum += v;
    }
    if (Math.abs(sum - 1) > 1e-3) throw new TrainError('TRAIN_BAD_DATA', `the soft targets of sample ${i} sum to ${sum}, not 1`);
  }
}
