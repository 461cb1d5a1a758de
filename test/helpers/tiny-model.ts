// The small MNIST classifier the training tests train (one strided conv, a pool, a dense softmax),
// and its weights as one flat array for exact comparisons.
import * as tf from '@tensorflow/tfjs';

export function tinyModel(seed: number): tf.Sequential {
  return tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 4, kernelSize: 3, strides: 2, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed }) }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 10, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 1 }) }),
    ],
  });
}

export const flatWeights = (m: tf.LayersModel): Float32Array => Float32Array.from(m.getWeights().flatMap((w) => Array.from(w.dataSync())));
