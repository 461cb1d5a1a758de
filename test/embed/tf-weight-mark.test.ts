// The tfjs regulariser must be the core's formula (uchida.ts, checked there against the paper's
// definition): same value, and autodiff's gradient equal to the closed-form one spread over the
// output channels (kernel-layout.ts expandOverOutputChannels with scale 1/outputs).
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { createPrng, expandOverOutputChannels, generateProjection, meanOverOutputChannels, watermarkLoss } from '../../src/core/index.js';
import { chooseKernel, createWeightMarkLoss, listKernels, measureWeightMark } from '../../src/embed/index.js';
import { buildMnistCnn } from '../../src/train/mnist-cnn.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

function seeded(tag: number): Uint8Array {
  return Uint8Array.from({ length: 32 }, (_, i) => (i * 7 + tag) & 0xff);
}

describe('tfjs weight-mark regulariser', () => {
  for (const layer of ['conv2', 'dense1', 'dense2'] as const) {
    it(`equals core's loss and gradient on ${layer}`, () => {
      const model = buildMnistCnn(3);
      const k = listKernels(model).find((c) => c.layer === layer)!;
      const bitsRng = createPrng(seeded(1));
      const bits = Uint8Array.from({ length: 64 }, () => bitsRng.nextInt(2));
      const x = generateProjection(seeded(2), 64, k.features);
      const lambda = 0.7;
      const loss = createWeightMarkLoss(model, k, x, bits, lambda);
      const variable = model.getLayer(layer).weights.find((w) => w.originalName === k.weight)!.read() as tf.Variable;
      const { value, grads } = tf.variableGrads(loss, [variable]);
      const kernel = Float32Array.from(variable.dataSync() as Float32Array);
      const want = watermarkLoss(x, meanOverOutputChannels(kernel, k.shape, k.layout), bits, lambda);
      expect(value.dataSync()[0]).toBeCloseTo(want.loss, 5);
      const outputs = k.shape.at(-1)!;
      const wantGrad = expandOverOutputChannels(want.gradient, k.shape, k.layout, 1 / outputs);
      const got = grads[variable.name]!.dataSync() as Float32Array;
      let maxErr = 0;
      let maxRef = 0;
      for (let i = 0; i < got.length; i++) {
        maxErr = Math.max(maxErr, Math.abs(got[i]! - wantGrad[i]!));
        maxRef = Math.max(maxRef, Math.abs(wantGrad[i]!));
      }
      expect(maxRef).toBeGreaterThan(0);
      expect(maxErr / maxRef).toBeLessThan(1e-4);
      loss.dispose();
      model.dispose();
    });
  }

  it('a Conv1D kernel [k, in, out] is a KIO candidate whose regulariser equals the core loss, and minimising it writes the bits', () => {
    const input = tf.input({ shape: [64, 8] });
    const h = tf.layers.conv1d({ filters: 16, kernelSize: 5, activation: 'relu', name: 'c1' }).apply(input) as tf.SymbolicTensor;
    const y = tf.layers.dense({ units: 2, name: 'd' }).apply(tf.layers.flatten().apply(h) as tf.SymbolicTensor) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: y });
    const k = listKernels(model).find((c) => c.layer === 'c1')!;
    expect(k).toMatchObject({ layout: 'KIO', shape: [5, 8, 16], features: 40 });
    const rng = createPrng(seeded(8));
    const bits = Uint8Array.from({ length: 16 }, () => rng.nextInt(2));
    const x = generateProjection(seeded(9), 16, k.features);
    const loss = createWeightMarkLoss(model, k, x, bits, 1);
    const variable = model.getLayer('c1').weights.find((w) => w.originalName === k.weight)!.read() as tf.Variable;
    const kernel = Float32Array.from(variable.dataSync() as Float32Array);
    expect(loss().dataSync()[0]).toBeCloseTo(watermarkLoss(x, meanOverOutputChannels(kernel, k.shape, 'KIO'), bits, 1).loss, 5);
    const opt = tf.train.adam(0.01);
    for (let i = 0; i < 80; i++) tf.tidy(() => opt.minimize(loss));
    expect(measureWeightMark(model, k, x, bits).ber).toBe(0);
    loss.dispose();
    model.dispose();
  });

  it('drives the bits into the kernel when minimised alone', () => {
    const model = buildMnistCnn(4);
    const k = chooseKernel(model, 64, 'conv2');
    const rng = createPrng(seeded(5));
    const bits = Uint8Array.from({ length: 64 }, () => rng.nextInt(2));
    const x = generateProjection(seeded(6), 64, k.features);
    expect(measureWeightMark(model, k, x, bits).ber).toBeGreaterThan(0.2);
    const loss = createWeightMarkLoss(model, k, x, bits, 1);
    const opt = tf.train.adam(0.01);
    for (let i = 0; i < 60; i++) tf.tidy(() => opt.minimize(loss));
    expect(measureWeightMark(model, k, x, bits).ber).toBe(0);
    loss.dispose();
    model.dispose();
  });
});

describe('chooseKernel', () => {
  it('takes the first kernel with at least 2T features, else the widest, else the named one', () => {
    const model = buildMnistCnn(1);
    expect(listKernels(model).map((k) => [k.layer, k.layout, k.features])).toEqual([
      ['conv1', 'HWIO', 9], ['conv2', 'HWIO', 144], ['dense1', 'IO', 1568], ['dense2', 'IO', 64],
    ]);
    expect(chooseKernel(model, 256).layer).toBe('dense1');
    expect(chooseKernel(model, 64).layer).toBe('conv2');
    expect(chooseKernel(model, 4096).layer).toBe('dense1');
    expect(chooseKernel(model, 256, 'conv1').layer).toBe('conv1');
    expect(() => chooseKernel(model, 256, 'nope')).toThrow(expect.objectContaining({ code: 'EMBED_LAYER_NOT_FOUND' }));
    model.dispose();
  });
});
