import * as tf from '@tensorflow/tfjs';

/**
 * The fixture architecture: conv16-pool-conv32-pool-dense64-dense10 on 28x28x1 inputs, with
 * seeded Glorot-uniform kernels and zero biases so that the same seed gives the same weights.
 */
export function buildMnistCnn(seed: number): tf.Sequential {
  const init = (offset: number) => tf.initializers.glorotUniform({ seed: seed + offset });
  return tf.sequential({
    name: 'mnist_cnn',
    layers: [
      tf.layers.conv2d({ name: 'conv1', inputShape: [28, 28, 1], filters: 16, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: init(1) }),
      tf.layers.maxPooling2d({ name: 'pool1', poolSize: 2 }),
      tf.layers.conv2d({ name: 'conv2', filters: 32, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: init(2) }),
      tf.layers.maxPooling2d({ name: 'pool2', poolSize: 2 }),
      tf.layers.flatten({ name: 'flatten' }),
      tf.layers.dense({ name: 'dense1', units: 64, activation: 'relu', kernelInitializer: init(3) }),
      tf.layers.dense({ name: 'dense2', units: 10, activation: 'softmax', kernelInitializer: init(4) }),
    ],
  });
}
