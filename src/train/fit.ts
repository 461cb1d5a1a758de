/**
 * A small custom training loop (not model.fit) so that watermark embedding can plug in what
 * Keras-style fit cannot: an extra loss term computed from the model's weights (a weight-watermark
 * regulariser) and extra samples appended to every batch (a trigger set).
 */
import { sha256 } from '@noble/hashes/sha2.js';
import * as tf from '@tensorflow/tfjs';
import { createPrng } from '../core/prng.js';
import { TrainError } from './errors.js';

/** Images in NHWC order with integer class labels, as the dataset readers return them. */
export interface LabelledImages {
  readonly images: Float32Array;
  readonly labels: ArrayLike<number>;
  readonly count: number;
  readonly shape: readonly [number, number, number, number];
}

export interface StepContext {
  readonly epoch: number;
  /** Step index over the whole run, from 0. */
  readonly step: number;
  readonly model: tf.LayersModel;
}

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
}

export interface FitResult {
  readonly steps: number;
  readonly samples: number;
  readonly seconds: number;
  readonly samplesPerSecond: number;
  /** Mean batch loss of each epoch. */
  readonly epochLoss: readonly number[];
}

export async function fitModel(options: FitOptions): Promise<FitResult> {
  const { model, optimizer, data, numClasses, epochs, batchSize } = options;
  checkOptions(options);
  const [, h, w, c] = data.shape;
  const sampleSize = h * w * c;
  const batches = Math.ceil(data.count / batchSize);
  const maxSteps = options.maxSteps ?? epochs * batches;
  const vars = model.trainableWeights.map((v) => v.read() as tf.Variable);
  const order = new Uint32Array(data.count);
  const prng = createPrng(sha256(new TextEncoder().encode(`hallmark/fit-shuffle/v1/${options.seed}`)));
  const epochLoss: number[] = [];
  const started = performance.now();
  let step = 0;
  let samples = 0;

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
      const xs = new Float32Array(size * sampleSize);
      const ys = new Int32Array(size);
      for (let k = 0; k < size; k++) {
        const src = order[from + k]!;
        xs.set(data.images.subarray(src * sampleSize, (src + 1) * sampleSize), k * sampleSize);
        ys[k] = data.labels[src]!;
      }
      const ctx: StepContext = { epoch, step, model };
      let extraValue: number | undefined;
      const loss = tf.tidy(() => {
        let x: tf.Tensor = tf.tensor4d(xs, [size, h, w, c]);
        let y: tf.Tensor = tf.oneHot(tf.tensor1d(ys, 'int32'), numClasses);
        const extra = options.extraBatch?.(ctx);
        if (extra) {
          x = tf.concat([x, extra.x]);
          y = tf.concat([y, tf.cast(extra.y, 'float32')]);
        }
        const cost = optimizer.minimize(
          () => {
            const predictions = model.apply(x, { training: true }) as tf.Tensor;
            const dataLoss = tf.mean(tf.metrics.categoricalCrossentropy(y, predictions)) as tf.Scalar;
            if (!options.extraLoss) return dataLoss;
            const term = options.extraLoss(ctx);
            extraValue = term.dataSync()[0];
            return tf.add(dataLoss, term) as tf.Scalar;
          },
          true,
          vars,
        );
        return cost!.dataSync()[0]!;
      });
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
        ...(extraValue === undefined ? {} : { extraLoss: extraValue }),
        samplesPerSecond: seconds > 0 ? epochSamples / seconds : 0,
      });
    }
    epochLoss.push(lossSum / batch);
    // Let timers, signals and progress output through between epochs.
    await new Promise((resolve) => setImmediate(resolve));
  }
  const seconds = (performance.now() - started) / 1000;
  return { steps: step, samples, seconds, samplesPerSecond: seconds > 0 ? samples / seconds : 0, epochLoss };
}

function checkOptions(o: FitOptions): void {
  const positive = (name: string, v: number) => {
    if (!Number.isInteger(v) || v < 1) throw new RangeError(`fitModel: ${name} must be a positive integer, got ${v}`);
  };
  positive('epochs', o.epochs);
  positive('batchSize', o.batchSize);
  positive('numClasses', o.numClasses);
  if (o.maxSteps !== undefined) positive('maxSteps', o.maxSteps);
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
}
