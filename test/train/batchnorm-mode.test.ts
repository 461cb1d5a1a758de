// Fine-tuning keeps BatchNormalization in inference mode (src/train/training-mode.ts): the moving
// statistics a pretrained model learnt survive a fine-tune on small batches, its gamma and beta
// still train, and the answers are those of inference mode throughout, on one thread and on two.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadMnist } from '../../src/formats/mnist.js';
import { selectBackend } from '../../src/train/backend.js';
import { fitModel, type LabelledImages } from '../../src/train/fit.js';
import { trainingFlag } from '../../src/train/training-mode.js';

function bnModel(): tf.LayersModel {
  const m = tf.sequential();
  m.add(tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 4, kernelSize: 3, strides: 2, kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }));
  m.add(tf.layers.batchNormalization({ name: 'bn' }));
  m.add(tf.layers.reLU());
  m.add(tf.layers.flatten());
  m.add(tf.layers.dense({ units: 10, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }));
  // "Pretrained" statistics, far from what a batch of digits gives.
  const bn = m.getLayer('bn');
  const [gamma, beta] = bn.getWeights();
  bn.setWeights([gamma!, beta!, tf.fill([4], 0.3), tf.fill([4], 2.5)]);
  return m;
}

const values = (m: tf.LayersModel, name: string) => m.getLayer(name).getWeights().map((w) => Array.from(w.dataSync()));

describe('BatchNormalization while fine-tuning', () => {
  let data: LabelledImages;
  beforeAll(async () => {
    await selectBackend('wasm');
    const ds = await loadMnist({ seed: 0 });
    data = { images: ds.train.images.subarray(0, 96 * 784), labels: ds.train.labels.subarray(0, 96), count: 96, shape: [96, 28, 28, 1] };
  });

  it('a model with BatchNormalization trains in inference mode; one without in training mode', () => {
    expect(trainingFlag(bnModel())).toBe(false);
    const plain = tf.sequential({ layers: [tf.layers.dense({ inputShape: [4], units: 2 })] });
    expect(trainingFlag(plain)).toBe(true);
    // Nested: a model used as a layer of another.
    const outer = tf.sequential({ layers: [bnModel() as unknown as tf.layers.Layer] });
    expect(trainingFlag(outer)).toBe(false);
  });

  const trained: Record<number, number[][]> = {};
  for (const workers of [1, 2]) {
    it(`moving mean and variance are kept, gamma and beta train (${workers} worker${workers > 1 ? 's' : ''})`, async () => {
      const model = bnModel();
      const [gamma0, beta0, mean0, var0] = values(model, 'bn');
      await fitModel({ model, optimizer: tf.train.sgd(0.05), data, numClasses: 10, epochs: 1, batchSize: 16, seed: 1, workers });
      const [gamma1, beta1, mean1, var1] = values(model, 'bn');
      expect(mean1).toEqual(mean0);
      expect(var1).toEqual(var0);
      expect(gamma1).not.toEqual(gamma0);
      expect(beta1).not.toEqual(beta0);
      trained[workers] = [gamma1!, beta1!];
    });
  }

  it('the workers compute the same gradients as one thread (they too normalise with the stored statistics)', () => {
    // Workers never send statistics back, so only their gradients show which mode they ran in:
    // batch statistics would give other gradients than the single thread's.
    const diff = Math.max(...trained[1]!.flatMap((w, k) => w.map((v, i) => Math.abs(v - trained[2]![k]![i]!))));
    expect(diff).toBeLessThan(1e-4);
  });
});
