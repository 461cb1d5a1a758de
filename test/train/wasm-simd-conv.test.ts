import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../src/train/backend.js';
import { type ConvCase as Case, type Pad, randomConvCases, uniform } from '../helpers/kernel-data.js';
import { convModuleBytes, GROUPS, POSITIONS, simdConv, simdConvApplies } from '../../src/train/wasm-simd-conv.js';



/** conv2d(x, W) on the current backend, and the gradients of sum(conv2d * R) with respect to x and W. */
function convAndGrads(c: Case, seed: number): Float32Array[] {
  return tf.tidy(() => {
    const [b, h, w, cin] = c.x;
    const x = tf.tensor4d(uniform(b * h * w * cin, seed), c.x);
    const filterShape: [number, number, number, number] = [c.k[0], c.k[1], cin, c.cout];
    const W = tf.tensor4d(uniform(filterShape.reduce((a, d) => a * d), seed + 1), filterShape);
    const y = tf.conv2d(x, W, c.strides, c.pad);
    const R = tf.tensor(uniform(y.size, seed + 2), y.shape);
    const [dx, dw] = tf.grads((a: tf.Tensor4D, f: tf.Tensor4D) => tf.sum(tf.mul(tf.conv2d(a, f, c.strides, c.pad), R)))([x, W]);
    return [y, dx!, dw!].map((t) => t.dataSync() as Float32Array);
  });
}

/** The largest difference from the cpu backend relative to the largest magnitude, over y, dx and dW. */
async function relativeErrorAgainstCpu(c: Case, seed: number): Promise<number> {
  await tf.setBackend('cpu');
  const expected = convAndGrads(c, seed);
  await tf.setBackend('wasm');
  const actual = convAndGrads(c, seed);
  let worst = 0;
  expected.forEach((e, k) => {
    expect(actual[k]!.length).toBe(e.length);
    let scale = 1e-6;
    let diff = 0;
    for (let i = 0; i < e.length; i++) {
      scale = Math.max(scale, Math.abs(e[i]!));
      diff = Math.max(diff, Math.abs(actual[k]![i]! - e[i]!));
    }
    worst = Math.max(worst, diff / scale);
  });
  return worst;
}

const infoOf = (c: Case) => tf.backend_util.computeConv2DInfo(c.x, [c.k[0], c.k[1], c.x[3], c.cout], c.strides, 1, c.pad);

describe('wasm Conv2D in WebAssembly SIMD tiles', () => {
  beforeAll(async () => {
    expect((await selectBackend('wasm')).name).toBe('wasm');
  });

  const cases: Case[] = [
    { x: [4, 14, 14, 16], k: [3, 3], cout: 32, strides: [1, 1], pad: 'same' }, // fixture conv2 (and its filter gradient)
    { x: [4, 14, 14, 32], k: [3, 3], cout: 16, strides: [1, 1], pad: 'same' }, // the input gradient's convolution
    { x: [2, 9, 9, 24], k: [1, 1], cout: 48, strides: [1, 1], pad: 'valid' }, // pointwise, 9 = 2 tiles of 4 + a tail of 1
    { x: [2, 11, 10, 4], k: [3, 3], cout: 8, strides: [2, 2], pad: 'same' }, // strided, padding on one side only
    { x: [2, 12, 7, 3], k: [3, 2], cout: 16, strides: [2, 1], pad: 'valid' }, // odd channels, rows past the last window
    { x: [1, 7, 7, 6], k: [5, 5], cout: 8, strides: [1, 1], pad: 2 }, // 7 = a tile of 4 + a tail of 3
    { x: [3, 3, 3, 2], k: [3, 3], cout: 8, strides: [1, 1], pad: 'valid' }, // one output position: the tail alone
    { x: [4, 28, 28, 1], k: [3, 3], cout: 16, strides: [1, 1], pad: 'same' }, // fixture conv1: filter rows unrolled
    { x: [2, 10, 9, 3], k: [3, 4], cout: 8, strides: [2, 2], pad: 'same' }, // an RGB row of 12 floats: unrolled too
  ];
  for (const c of cases) {
    it(`matches the cpu backend (output and both gradients) for x=[${c.x}] k=${c.k} cout=${c.cout} s=${c.strides} pad=${c.pad}`, async () => {
      expect(simdConvApplies(infoOf(c))).toBe(true);
      expect(await relativeErrorAgainstCpu(c, 3)).toBeLessThan(1e-5);
    });
  }

  it('matches the cpu backend on random shapes, strides and paddings', async () => {
    await fc.assert(
      fc.asyncProperty(
        randomConvCases(fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 4 }).map((g) => 4 * GROUPS * g), 11),
        async ({ c, seed }) => {
          expect(await relativeErrorAgainstCpu(c, seed)).toBeLessThan(1e-5);
        },
      ),
      { numRuns: 60, seed: 17 },
    );
  });

  it('runs as SIMD here, through the registered Conv2D, and allocates only its output', async () => {
    // Without this, every case above could pass on XNNPACK alone.
    const c: Case = { x: [2, 6, 6, 4], k: [3, 3], cout: 8, strides: [1, 1], pad: 'same' };
    const info = infoOf(c);
    expect(WebAssembly.validate(convModuleBytes({ cin: 4, cout: 8, kh: 3, kw: 3, oh: 6, ow: 6, sh: 1, sw: 1, hs: 8, ws: 8 }))).toBe(true);
    await tf.setBackend('wasm');
    const backend = tf.backend() as BackendWasm;
    const x = tf.tensor4d(uniform(288, 1), c.x);
    const W = tf.tensor4d(uniform(288, 2), [3, 3, 4, 8]);
    const before = backend.numDataIds();
    const y = simdConv(backend, x, W, info);
    expect(y).toBeDefined();
    expect(backend.numDataIds()).toBe(before + 1); // the padded copy is freed
    // The registered kernel gives the same values, to the bit.
    const direct = backend.typedArrayFromHeap(y!) as Float32Array;
    const viaKernel = tf.conv2d(x, W, 1, 'same');
    expect(Array.from(viaKernel.dataSync())).toEqual(Array.from(direct));
    backend.disposeData(y!.dataId, true);
    tf.dispose([x, W, viaKernel]);
    expect(POSITIONS * GROUPS + GROUPS + 1).toBeLessThanOrEqual(16); // the tile fits x64's vector registers
  });

  it('leaves the shapes it does not speed up to XNNPACK', () => {
    expect(simdConvApplies(infoOf({ x: [2, 28, 28, 1], k: [3, 3], cout: 16, strides: [1, 1], pad: 'same' }))).toBe(true); // grey, unrolled
    expect(simdConvApplies(infoOf({ x: [2, 28, 28, 1], k: [1, 13], cout: 16, strides: [1, 1], pad: 'same' }))).toBe(false); // one channel, a long row
    expect(simdConvApplies(infoOf({ x: [2, 8, 8, 4], k: [3, 3], cout: 12, strides: [1, 1], pad: 'same' }))).toBe(false); // 12 outputs
    expect(simdConvApplies(tf.backend_util.computeConv2DInfo([1, 9, 9, 4], [3, 3, 4, 8], 1, 2, 'valid'))).toBe(false); // dilated
  });

  it('leaks no tensors', async () => {
    await tf.setBackend('wasm');
    const before = tf.memory().numTensors;
    convAndGrads({ x: [2, 8, 8, 4], k: [3, 3], cout: 8, strides: [2, 2], pad: 'same' }, 9);
    expect(tf.memory().numTensors).toBe(before);
  });
});
