// Shared by the conversion tests: small vision models with seeded weights, saved as real TF.js
// Layers folders, and runners for tfjs (cpu backend) and onnxruntime-node on MNIST test images.
import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';
import { loadMnist } from '../../src/formats/mnist.js';
import { saveLayersModel } from '../../src/formats/tfjs-io.js';

export { tf, ort };

let ready: Promise<boolean> | undefined;
export const tfReady = () => (ready ??= tf.setBackend('cpu'));

const init = (seed: number) => tf.initializers.glorotUniform({ seed });

/** Gives every BatchNormalization layer seeded, non-trivial statistics (else BN is the identity). */
function randomizeBatchNorm(model: tf.LayersModel, seed: number): void {
  let s = seed;
  for (const l of model.layers) {
    if (l.getClassName() !== 'BatchNormalization') continue;
    l.setWeights(l.getWeights().map((w) => {
      const u = tf.randomUniform(w.shape, 0, 1, 'float32', s++);
      // gamma, beta, moving_mean in [-1, 1] + 0.5 shifts; moving_variance in [0.5, 1.5].
      return w.name.includes('variance') ? u.add(0.5) : u.mul(2).sub(1);
    }));
  }
}

/** conv-pool-conv-pool-dense-dense. */
export function buildCnn(seed = 1): tf.LayersModel {
  const m = tf.sequential({ name: 'cnn' });
  m.add(tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 8, kernelSize: 3, activation: 'relu', kernelInitializer: init(seed), biasInitializer: tf.initializers.randomUniform({ minval: -0.1, maxval: 0.1, seed: seed + 1 }) }));
  m.add(tf.layers.maxPooling2d({ poolSize: 2 }));
  m.add(tf.layers.conv2d({ filters: 16, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: init(seed + 2) }));
  m.add(tf.layers.maxPooling2d({ poolSize: 2 }));
  m.add(tf.layers.flatten());
  m.add(tf.layers.dense({ units: 32, activation: 'relu', kernelInitializer: init(seed + 3), biasInitializer: tf.initializers.randomUniform({ minval: -0.1, maxval: 0.1, seed: seed + 4 }) }));
  m.add(tf.layers.dense({ units: 10, activation: 'softmax', kernelInitializer: init(seed + 5) }));
  return m;
}

/** BatchNormalization (4-D and 2-D), Dropout, AveragePooling (valid and same), strides, tanh/sigmoid. */
export function buildBnModel(seed = 11): tf.LayersModel {
  const m = tf.sequential({ name: 'bn' });
  m.add(tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 6, kernelSize: 5, padding: 'same', useBias: false, kernelInitializer: init(seed) }));
  m.add(tf.layers.batchNormalization());
  m.add(tf.layers.activation({ activation: 'relu' }));
  m.add(tf.layers.averagePooling2d({ poolSize: 2 }));
  m.add(tf.layers.conv2d({ filters: 8, kernelSize: 3, strides: 2, kernelInitializer: init(seed + 1) }));
  m.add(tf.layers.reLU());
  m.add(tf.layers.averagePooling2d({ poolSize: 3, strides: 2, padding: 'same' }));
  m.add(tf.layers.flatten());
  m.add(tf.layers.dropout({ rate: 0.5 }));
  m.add(tf.layers.dense({ units: 24, activation: 'tanh', kernelInitializer: init(seed + 2) }));
  m.add(tf.layers.batchNormalization({ epsilon: 0.01 }));
  m.add(tf.layers.dense({ units: 10, activation: 'sigmoid', kernelInitializer: init(seed + 3) }));
  randomizeBatchNorm(m, seed + 100);
  return m;
}

/** A functional model with two residual blocks joined by Add. */
export function buildResidual(seed = 21): tf.LayersModel {
  const x = tf.input({ shape: [28, 28, 1], name: 'image' });
  const stem = tf.layers.conv2d({ filters: 8, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: init(seed), name: 'stem' }).apply(x) as tf.SymbolicTensor;
  let h = stem;
  for (let b = 0; b < 2; b++) {
    const c1 = tf.layers.conv2d({ filters: 8, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: init(seed + 10 * b + 1), name: `block${b}_conv1` }).apply(h) as tf.SymbolicTensor;
    const c2 = tf.layers.conv2d({ filters: 8, kernelSize: 3, padding: 'same', kernelInitializer: init(seed + 10 * b + 2), name: `block${b}_conv2` }).apply(c1) as tf.SymbolicTensor;
    const bn = tf.layers.batchNormalization({ name: `block${b}_bn` }).apply(c2) as tf.SymbolicTensor;
    const sum = tf.layers.add({ name: `block${b}_add` }).apply([bn, h]) as tf.SymbolicTensor;
    h = tf.layers.activation({ activation: 'relu', name: `block${b}_relu` }).apply(sum) as tf.SymbolicTensor;
    h = tf.layers.maxPooling2d({ poolSize: 2, padding: 'same', name: `block${b}_pool` }).apply(h) as tf.SymbolicTensor;
  }
  const flat = tf.layers.flatten({ name: 'flat' }).apply(h) as tf.SymbolicTensor;
  const out = tf.layers.dense({ units: 10, kernelInitializer: init(seed + 99), name: 'logits' }).apply(flat) as tf.SymbolicTensor;
  const m = tf.model({ inputs: x, outputs: out, name: 'residual' });
  randomizeBatchNorm(m, seed + 200);
  return m;
}

/** Saves a model as a TF.js Layers folder (model.json + shards) with the formats writer. */
export async function saveTfjs(model: tf.LayersModel, dir: string): Promise<string> {
  await saveLayersModel(model, dir);
  return dir;
}

/** The first n images of the built-in MNIST test split, NHWC. */
export async function mnistImages(n: number): Promise<{ data: Float32Array; shape: [number, number, number, number] }> {
  const { test } = await loadMnist({ seed: 0 });
  return { data: test.images.slice(0, n * 784), shape: [n, 28, 28, 1] };
}

export function predictTfjs(model: tf.LayersModel, data: Float32Array, shape: number[]): Float32Array {
  return tf.tidy(() => (model.predict(tf.tensor(data, shape)) as tf.Tensor).dataSync() as Float32Array);
}

export async function predictOnnx(bytes: Uint8Array, data: Float32Array, shape: number[]): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(bytes);
  try {
    const out = await session.run({ [session.inputNames[0]!]: new ort.Tensor('float32', data, shape) });
    return out[session.outputNames[0]!]!.data as Float32Array;
  } finally {
    await session.release();
  }
}

export function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) throw new Error(`output lengths differ: ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** The largest range (max - min over the batch) of any output unit: near 0 means constant outputs. */
export function spread(out: Float32Array, units: number): number {
  let best = 0;
  for (let u = 0; u < units; u++) {
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = u; i < out.length; i += units) {
      lo = Math.min(lo, out[i]!);
      hi = Math.max(hi, out[i]!);
    }
    best = Math.max(best, hi - lo);
  }
  return best;
}

/** Reshape, a Dense on a rank-3 tensor (MatMul on the last axis), a Softmax layer. */
export function buildReshapeModel(seed = 31): tf.LayersModel {
  const m = tf.sequential({ name: 'reshape' });
  m.add(tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 4, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: init(seed) }));
  m.add(tf.layers.reshape({ targetShape: [196, 16] }));
  m.add(tf.layers.dense({ units: 8, activation: 'relu', kernelInitializer: init(seed + 1), biasInitializer: tf.initializers.randomUniform({ minval: -0.1, maxval: 0.1, seed: seed + 2 }) }));
  m.add(tf.layers.flatten());
  m.add(tf.layers.dense({ units: 10, kernelInitializer: init(seed + 3) }));
  m.add(tf.layers.softmax());
  return m;
}

/** Strided convolution into GlobalAveragePooling2D. */
export function buildGapModel(seed = 41): tf.LayersModel {
  const m = tf.sequential({ name: 'gap' });
  m.add(tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 6, kernelSize: 3, strides: 2, activation: 'relu', kernelInitializer: init(seed), biasInitializer: tf.initializers.randomUniform({ minval: -0.2, maxval: 0.2, seed: seed + 1 }) }));
  m.add(tf.layers.globalAveragePooling2d({}));
  m.add(tf.layers.dense({ units: 10, activation: 'softmax', kernelInitializer: init(seed + 2) }));
  return m;
}
