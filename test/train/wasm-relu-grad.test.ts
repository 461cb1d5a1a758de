// ReLU's gradient fused into one wasm SIMD kernel (src/train/wasm-simd-relu.ts): the same bits as
// tfjs's dy * cast(step(x)) on the cpu backend, for every shape (the SIMD pass and the scalar tail),
// with NaN, infinities and signed zeros in x and in dy; used on wasm, not used elsewhere.
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../src/train/backend.js';
import { RELU_GRAD, reluGradModuleBytes } from '../../src/train/wasm-simd-relu.js';
import { uniform } from '../helpers/kernel-data.js';

const size = (s: readonly number[]) => s.reduce((a, d) => a * d, 1);
const SPECIAL = [NaN, Infinity, -Infinity, 0, -0, 1e-45, -1e-45, 3.4e38];

/** Values of a tensor with special values mixed in (every `every`-th value), seeded. */
function values(n: number, seed: number, every: number): Float32Array {
  const v = uniform(n, seed).map((u) => u * 2 - 1);
  for (let i = seed % every; i < n; i += every) v[i] = SPECIAL[(i + seed) % SPECIAL.length]!;
  return v;
}

/** Each value as text that tells -0 from 0 (NaN equals NaN). */
const bits = (v: ArrayLike<number>) => Array.from(v, (x) => (Object.is(x, -0) ? '-0' : String(x)));

/** dx of sum(relu(x) * dy) on the current backend, and the kernels that ran. */
async function reluGrad(shape: number[], seed: number, every: number) {
  const n = size(shape);
  const x = tf.tensor(values(n, seed, every), shape);
  const dy = tf.tensor(values(n, seed + 1, every + 1), shape);
  const kernels: string[] = [];
  const info = await tf.profile(() => {
    const g = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.relu(t), dy)))(x);
    return g;
  });
  kernels.push(...info.kernels.map((k) => k.name));
  const g = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.relu(t), dy)))(x);
  const out = bits(g.dataSync());
  tf.dispose([x, dy, g, info.result as tf.Tensor]);
  return { out, kernels };
}

/** The reference: tfjs's own formula on the cpu backend. */
async function reference(shape: number[], seed: number, every: number): Promise<string[]> {
  await tf.setBackend('cpu');
  const n = size(shape);
  const out = tf.tidy(() => {
    const x = tf.tensor(values(n, seed, every), shape);
    const dy = tf.tensor(values(n, seed + 1, every + 1), shape);
    return bits(tf.mul(dy, tf.cast(tf.step(x), 'float32')).dataSync());
  });
  await tf.setBackend('wasm');
  return out;
}

describe('ReLU gradient (fused wasm SIMD kernel)', () => {
  beforeAll(async () => {
    expect((await selectBackend('wasm')).name).toBe('wasm');
  });

  const cases: [number[], number][] = [
    [[32, 28, 28, 16], 7], // the fixture's conv1 at batch 32
    [[32, 64], 5], // dense1
    [[3, 5], 3], // 15 values: three vectors and a scalar tail of 3
    [[1], 2], // only the tail
    [[7], 1], // every value special: NaN and infinity in the scalar tail
    [[2, 3, 3, 4], 4],
  ];
  for (const [shape, every] of cases) {
    it(`[${shape}] gives tfjs's dy * step(x) on the cpu backend to the bit, NaN, infinities and -0 included`, async () => {
      const expected = await reference(shape, 11, every);
      const { out, kernels } = await reluGrad(shape, 11, every);
      expect(out).toEqual(expected);
      expect(kernels).toContain(RELU_GRAD);
      expect(kernels).not.toContain('Step');
    });
  }

  it('random shapes and values (fast-check)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 1, maxLength: 4 }), fc.integer({ min: 0, max: 1000 }), fc.integer({ min: 2, max: 9 }), async (shape, seed, every) => {
        const expected = await reference(shape, seed, every);
        expect((await reluGrad(shape, seed, every)).out).toEqual(expected);
      }),
      { numRuns: 40 },
    );
  });

  it('runs as WebAssembly SIMD in the backend\'s heap here, and the cpu backend keeps tfjs\'s own kernels', async () => {
    expect(WebAssembly.validate(reluGradModuleBytes())).toBe(true);
    expect(tf.getKernel(RELU_GRAD, 'wasm')).toBeDefined();
    expect(tf.getKernel(RELU_GRAD, 'cpu')).toBeUndefined();
    await tf.setBackend('cpu');
    const x = tf.tensor1d([-1, 2]);
    const info = await tf.profile(() => tf.grad((t: tf.Tensor) => tf.sum(tf.relu(t)))(x));
    expect(info.kernels.map((k) => k.name)).toContain('Step');
    expect(Array.from((info.result as tf.Tensor).dataSync())).toEqual([0, 1]);
    tf.dispose([x, info.result as tf.Tensor]);
    await tf.setBackend('wasm');
    expect((tf.backend() as BackendWasm).wasm).toBeDefined();
  });

  it('refuses a dy whose shape differs from x, and leaks no tensors', async () => {
    const before = tf.memory().numTensors;
    const a = tf.zeros([2, 4]);
    const b = tf.zeros([4, 2]);
    expect(() => tf.engine().runKernel(RELU_GRAD, { dy: a, x: b })).toThrow(/differ/);
    tf.dispose([a, b]);
    await reluGrad([4, 5], 3, 3);
    expect(tf.memory().numTensors).toBe(before);
  });
});
