/**
 * One training step over a batch that fit.ts has written into `images` / `labels`: the in-process
 * runner here, the data-parallel one in fit-parallel.ts. Both minimise the mean categorical
 * cross-entropy over the batch and the extra samples, plus the extra loss term.
 */
import * as tf from '@tensorflow/tfjs';
import { tensorOfShared } from './kernel-util.js';
import { trainingFlag } from './training-mode.js';

export interface StepContext {
  readonly epoch: number;
  /** Step index over the whole run, from 0. */
  readonly step: number;
  readonly model: tf.LayersModel;
}

export interface StepHooks {
  readonly extraBatch?: (ctx: StepContext) => { x: tf.Tensor; y: tf.Tensor } | undefined;
  readonly extraLoss?: (ctx: StepContext) => tf.Scalar;
}

export interface StepOutcome {
  /** Total loss of the batch (data loss plus any extra loss). */
  readonly loss: number;
  readonly extraLoss?: number;
}

export interface StepRunner {
  /** Room for one batch, written by the caller before each step. */
  readonly images: Float32Array;
  readonly labels: Int32Array;
  /**
   * With soft targets (LocalSetup.softTargets): room for the batch's target distributions,
   * numClasses per sample, written by the caller instead of relying on `labels`.
   */
  readonly soft: Float32Array | undefined;
  /** Threads computing gradients (1: this thread). */
  readonly workers: number;
  step(size: number, ctx: StepContext): Promise<StepOutcome>;
  close(): Promise<void>;
}

export interface LocalSetup {
  readonly model: tf.LayersModel;
  readonly optimizer: tf.Optimizer;
  readonly batchSize: number;
  readonly imageShape: readonly [number, number, number];
  readonly numClasses: number;
  readonly hooks: StepHooks;
  /** The batches carry target distributions (StepRunner.soft) rather than one-hot labels. */
  readonly softTargets?: boolean;
}

export function localRunner(s: LocalSetup): StepRunner {
  const [h, w, c] = s.imageShape;
  const images = new Float32Array(s.batchSize * h * w * c);
  const labels = new Int32Array(s.batchSize);
  const soft = s.softTargets ? new Float32Array(s.batchSize * s.numClasses) : undefined;
  const vars = s.model.trainableWeights.map((v) => v.read() as tf.Variable);
  const training = trainingFlag(s.model);
  return {
    images,
    labels,
    soft,
    workers: 1,
    close: async () => {},
    step: async (size, ctx) => {
      let extraValue: number | undefined;
      const loss = tf.tidy(() => {
        let x: tf.Tensor = tensorOfShared(images.subarray(0, size * h * w * c), [size, h, w, c]);
        // oneHot gives int32: cast first, or concat would truncate soft extra targets to integers.
        let y: tf.Tensor = soft
          ? tensorOfShared(soft.subarray(0, size * s.numClasses), [size, s.numClasses])
          : tf.cast(tf.oneHot(tensorOfShared<tf.Rank.R1>(labels.subarray(0, size), [size], 'int32'), s.numClasses), 'float32');
        const extra = s.hooks.extraBatch?.(ctx);
        if (extra) {
          x = tf.concat([x, extra.x]);
          y = tf.concat([y, tf.cast(extra.y, 'float32')]);
        }
        const cost = s.optimizer.minimize(
          () => {
            const predictions = s.model.apply(x, { training }) as tf.Tensor;
            const dataLoss = tf.mean(tf.metrics.categoricalCrossentropy(y, predictions)) as tf.Scalar;
            if (!s.hooks.extraLoss) return dataLoss;
            const term = s.hooks.extraLoss(ctx);
            extraValue = term.dataSync()[0];
            return tf.add(dataLoss, term) as tf.Scalar;
          },
          true,
          vars,
        );
        return cost!.dataSync()[0]!;
      });
      return { loss, ...(extraValue === undefined ? {} : { extraLoss: extraValue }) };
    },
  };
}
