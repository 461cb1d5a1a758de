import * as tf from '@tensorflow/tfjs';
import type { LabelledImages } from './fit.js';

/** Predicted class of every image, in batches so that memory stays bounded. */
export function predictClasses(model: tf.LayersModel, data: Omit<LabelledImages, 'labels'>, batchSize = 500): Int32Array {
  const [n, h, w, c] = data.shape;
  const out = new Int32Array(n);
  for (let from = 0; from < n; from += batchSize) {
    const size = Math.min(batchSize, n - from);
    const classes = tf.tidy(() => {
      const x = tf.tensor4d(data.images.subarray(from * h * w * c, (from + size) * h * w * c), [size, h, w, c]);
      return tf.argMax(model.predict(x) as tf.Tensor, -1).dataSync();
    });
    out.set(classes, from);
  }
  return out;
}

/** The model's output rows (its class probabilities for a softmax model), n x classes. */
export function predictScores(model: tf.LayersModel, data: Omit<LabelledImages, 'labels'>, batchSize = 500): Float32Array {
  const [n, h, w, c] = data.shape;
  let out: Float32Array | undefined;
  for (let from = 0; from < n; from += batchSize) {
    const size = Math.min(batchSize, n - from);
    const rows = tf.tidy(() => {
      const x = tf.tensor4d(data.images.subarray(from * h * w * c, (from + size) * h * w * c), [size, h, w, c]);
      return (model.predict(x) as tf.Tensor).dataSync() as Float32Array;
    });
    out ??= new Float32Array(n * (rows.length / size));
    out.set(rows, from * (rows.length / size));
  }
  return out ?? new Float32Array(0);
}

/** Fraction of images whose predicted class is their label. */
export function evaluateAccuracy(model: tf.LayersModel, data: LabelledImages, batchSize = 500): number {
  const predicted = predictClasses(model, data, batchSize);
  let correct = 0;
  for (let i = 0; i < data.count; i++) if (predicted[i] === data.labels[i]) correct++;
  return data.count === 0 ? 0 : correct / data.count;
}
