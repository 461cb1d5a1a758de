// Each training kernel Hallmark registers on wasm, checked against the cpu backend (tfjs's reference
// implementation, which we did not write) through tf.grad of sum(op(...) * R) with random R.
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../src/train/backend.js';
import { type Pad, uniform } from '../helpers/kernel-data.js';
import { rotatedFilter } from '../../src/train/kernel-util.js';
import { WASM_TRAINING_KERNELS } from '../../src/train/wasm-kernels.js';
import { biasAddModuleBytes, columnSumModuleBytes, simdBiasAdd, simdColumnSums } from '../../src/train/wasm-simd-bias.js';
import { poolGradModuleBytes, simdPoolGrad2x2 } from '../../src/train/wasm-simd-pool.js';
import { matmulAtBModuleBytes, matmulAtBtModuleBytes, simdMatMulAtB } from '../../src/train/wasm-simd-matmul.js';

type Shape4 = [number, number, number, number];

const size = (s: readonly number[]) => s.reduce((a, d) => a * d, 1);
const rand = (shape: readonly number[], seed: number, integers = false) => tf.tensor(uniform(size(shape), seed, integers), shape as number[]);

/** Gradients of sum(f(args) * R) with respect to every arg, flattened, on the current backend. */
function grads(f: (...a: tf.Tensor[]) => tf.Tensor, args: () => tf.Tensor[], seed: number): Float32Array[] {
  return tf.tidy(() => {
    const xs = args();
    const R = rand(f(...xs).shape, seed + 99);
    const g = tf.grads((...a: tf.Tensor[]) => tf.sum(tf.mul(f(...a), R)))(xs);
    return g.map((t) => t.dataSync() as Float32Array);
  });
}

async function maxDiffVsCpu(f: (...a: tf.Tensor[]) => tf.Tensor, args: () => tf.Tensor[], seed: number): Promise<number> {
  await tf.setBackend('cpu');
  const expected = grads(f, args, seed);
  await tf.setBackend('wasm');
  const actual = grads(f, args, seed);
  let d = 0;
  expected.forEach((e, k) => {
    expect(actual[k]!.length).toBe(e.length);
    for (let i = 0; i < e.length; i++) d = Math.max(d, Math.abs(actual[k]![i]! - e[i]!) / Math.max(1, Math.abs(e[i]!)));
  });
  return d;
}

// tfjs-core sizes numeric padding from the kernel's and stride's height only (conv_util), so numeric
// padding is kept to square kernels and strides, where tfjs itself is right.
const square = (pad: Pad, a: number, b: number) => (typeof pad === 'number' ? a : b);

const conv = (x: Shape4, k: [number, number], cout: number, s: [number, number], pad: Pad, seed: number) =>
  maxDiffVsCpu(
    (xx, w) => tf.conv2d(xx as tf.Tensor4D, w as tf.Tensor4D, s, pad),
    () => [rand(x, seed), rand([k[0], k[1], x[3], cout], seed + 1)],
    seed,
  );
const depthwise = (x: Shape4, k: [number, number], m: number, s: [number, number], pad: Pad, seed: number) =>
  maxDiffVsCpu(
    (xx, w) => tf.depthwiseConv2d(xx as tf.Tensor4D, w as tf.Tensor4D, s, pad),
    () => [rand(x, seed), rand([k[0], k[1], x[3], m], seed + 1)],
    seed,
  );
const pool = (kind: 'max' | 'avg', x: Shape4, f: [number, number], s: [number, number], pad: Pad, seed: number, ties = false) =>
  maxDiffVsCpu(
    (xx) => (kind === 'max' ? tf.maxPool : tf.avgPool)(xx as tf.Tensor4D, f, s, pad as 'same'),
    () => [rand(x, seed, ties)],
    seed,
  );

const shapes = fc.record({
  b: fc.integer({ min: 1, max: 3 }),
  h: fc.integer({ min: 3, max: 11 }),
  w: fc.integer({ min: 3, max: 11 }),
  c: fc.integer({ min: 1, max: 4 }),
  n: fc.integer({ min: 1, max: 3 }),
  kh: fc.integer({ min: 1, max: 3 }),
  kw: fc.integer({ min: 1, max: 3 }),
  sh: fc.integer({ min: 1, max: 3 }),
  sw: fc.integer({ min: 1, max: 3 }),
  pad: fc.constantFrom<Pad>('same', 'valid', 0, 1),
  seed: fc.integer({ min: 0, max: 1000 }),
});
type Drawn = typeof shapes extends fc.Arbitrary<infer T> ? T : never;
const draw = (r: Drawn) => ({
  x: [r.b, r.h, r.w, r.c] as Shape4,
  k: [r.kh, square(r.pad, r.kh, r.kw)] as [number, number],
  s: [r.sh, square(r.pad, r.sh, r.sw)] as [number, number],
});
const TOL = 1e-4;

describe('wasm training kernels', () => {
  beforeAll(async () => {
    expect((await selectBackend('wasm')).name).toBe('wasm');
  });

  it('are ours on the wasm backend', () => {
    expect(WASM_TRAINING_KERNELS).toEqual(expect.arrayContaining([
      'Conv2DBackpropInput', 'Conv2DBackpropFilter', 'MaxPoolGrad', 'AvgPoolGrad',
      'DepthwiseConv2dNativeBackpropInput', 'DepthwiseConv2dNativeBackpropFilter',
    ]));
    for (const name of WASM_TRAINING_KERNELS) expect(tf.getKernel(name, 'wasm')?.kernelFunc.name).not.toBe('');
  });

  describe('Conv2DBackpropInput (and Filter) through conv2d', () => {
    const cases: [Shape4, [number, number], number, [number, number], Pad][] = [
      [[4, 28, 28, 1], [3, 3], 16, [1, 1], 'same'], // fixture conv 1
      [[4, 14, 14, 16], [3, 3], 32, [1, 1], 'same'], // fixture conv 2
      [[2, 9, 9, 2], [3, 3], 5, [2, 2], 'same'],
      [[3, 10, 7, 3], [3, 2], 2, [2, 2], 'valid'], // the last rows feed no output
      [[2, 8, 8, 3], [5, 5], 4, [1, 1], 'valid'],
      [[2, 11, 6, 2], [3, 3], 3, [2, 1], 'same'],
      [[1, 7, 7, 2], [3, 3], 2, [2, 2], 1],
      [[2, 6, 6, 1], [1, 1], 3, [3, 3], 'valid'],
      [[1, 16, 16, 8], [3, 3], 8, [2, 2], 'same'], // MobileNet-style downsampling
    ];
    for (const [x, k, cout, s, pad] of cases) {
      it(`x=[${x}] k=${k} cout=${cout} s=${s} pad=${pad}`, async () => {
        expect(await conv(x, k, cout, s, pad, 3)).toBeLessThan(TOL);
      });
    }
    it('random shapes, strides and paddings', async () => {
      await fc.assert(fc.asyncProperty(shapes, async (r) => {
        const { x, k, s } = draw(r);
        expect(await conv(x, k, r.n, s, r.pad, r.seed)).toBeLessThan(TOL);
      }), { numRuns: 40, seed: 17 });
    });
    it('rotate the kernel in one pass exactly as reverse and transpose do on the cpu backend', async () => {
      for (const shape of [[3, 3, 16, 32], [3, 2, 3, 5], [1, 4, 2, 1], [5, 5, 1, 1], [2, 3, 4, 4]] as Shape4[]) {
        for (const swap of [true, false]) {
          await tf.setBackend('cpu');
          const want = tf.tidy(() => {
            const r = tf.reverse(rand(shape, 7) as tf.Tensor4D, [0, 1]);
            return (swap ? tf.transpose(r, [0, 1, 3, 2]) : r).dataSync();
          });
          await tf.setBackend('wasm');
          const got = tf.tidy(() => {
            const t = rotatedFilter(rand(shape, 7) as tf.Tensor4D, swap);
            expect(t.shape).toEqual(swap ? [shape[0], shape[1], shape[3], shape[2]] : shape);
            return t.dataSync();
          });
          expect(Array.from(got)).toEqual(Array.from(want));
        }
      }
    });
  });

  describe('DepthwiseConv2dNativeBackpropInput and Filter', () => {
    const cases: [Shape4, [number, number], number, [number, number], Pad][] = [
      [[2, 16, 16, 8], [3, 3], 1, [1, 1], 'same'], // MobileNet depthwise
      [[2, 16, 16, 8], [3, 3], 1, [2, 2], 'same'], // MobileNet depthwise, downsampling
      [[2, 9, 7, 3], [3, 3], 2, [1, 1], 'valid'], // channel multiplier 2
      [[1, 10, 10, 2], [5, 5], 3, [2, 2], 'same'],
      [[3, 8, 8, 4], [2, 3], 1, [3, 2], 'valid'],
    ];
    for (const [x, k, m, s, pad] of cases) {
      it(`x=[${x}] k=${k} m=${m} s=${s} pad=${pad}`, async () => {
        expect(await depthwise(x, k, m, s, pad, 5)).toBeLessThan(TOL);
      });
    }
    it('random shapes, multipliers, strides and paddings', async () => {
      await fc.assert(fc.asyncProperty(shapes, async (r) => {
        const { x, k } = draw(r);
        // tfjs's depthwiseConv2d takes one stride for both axes.
        const s: [number, number] = [r.sh, r.sh];
        expect(await depthwise(x, k, r.n, s, r.pad, r.seed)).toBeLessThan(TOL);
      }), { numRuns: 40, seed: 19 });
    });
  });

  describe('MaxPoolGrad and AvgPoolGrad', () => {
    const cases: [Shape4, [number, number], [number, number], Pad][] = [
      [[4, 28, 28, 16], [2, 2], [2, 2], 'valid'], // fixture pool 1
      [[4, 14, 14, 32], [2, 2], [2, 2], 'valid'], // fixture pool 2
      [[2, 9, 9, 3], [3, 3], [2, 2], 'same'], // overlapping windows
      [[2, 7, 5, 2], [3, 2], [1, 2], 'same'],
      [[1, 8, 8, 4], [3, 3], [3, 3], 1],
      [[2, 7, 7, 5], [7, 7], [1, 1], 'valid'], // global pooling
    ];
    for (const kind of ['max', 'avg'] as const) {
      for (const [x, f, s, pad] of cases) {
        it(`${kind} x=[${x}] f=${f} s=${s} pad=${pad}`, async () => {
          expect(await pool(kind, x, f, s, pad, 7)).toBeLessThan(TOL);
        });
      }
    }
    it('max sends the gradient of a tie to the first maximum, as the cpu backend does', async () => {
      // A gradient at the wrong position would be off by a whole dy value (about 0.5), not by rounding.
      for (const [x, f, s, pad] of cases) expect(await pool('max', x, f, s, pad, 8, true)).toBeLessThan(1e-6);
    });
    it('random shapes, windows, strides and paddings', async () => {
      await fc.assert(fc.asyncProperty(shapes, fc.boolean(), fc.constantFrom('max' as const, 'avg' as const), async (r, ties, kind) => {
        const { x, k, s } = draw(r);
        expect(await pool(kind, x, k, s, r.pad, r.seed, ties)).toBeLessThan(TOL);
      }), { numRuns: 60, seed: 23 });
    });
  });

  it('max sends no gradient into a window of only NaN or -Infinity, and passes Infinity through, as the cpu backend does', async () => {
    // The 2x2 stride-2 tiling fast path (SIMD with 4 or 8 channels, JavaScript with 3) and the
    // general path, on windows made of special values.
    const specials = [Number.NaN, Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY, 0.25];
    for (const channels of [3, 4, 8]) {
    const values = () => {
      const v = uniform(2 * 8 * 8 * channels, 31);
      for (let i = 0; i < v.length; i++) if (i % 5 === 0) v[i] = specials[(i / 5) % 4]!;
      const c = channels;
      for (let i = 0; i < 4; i++) v[[0, c, 8 * c, 9 * c][i]!] = i % 2 ? Number.NaN : Number.NEGATIVE_INFINITY; // one all-special window
      return [tf.tensor(v, [2, 8, 8, channels])];
    };
    for (const [f, s] of [[[2, 2], [2, 2]], [[3, 3], [2, 2]]] as [[number, number], [number, number]][]) {
      await tf.setBackend('cpu');
      const expected = grads((x) => tf.maxPool(x as tf.Tensor4D, f, s, 'valid'), values, 4)[0]!;
      await tf.setBackend('wasm');
      const actual = grads((x) => tf.maxPool(x as tf.Tensor4D, f, s, 'valid'), values, 4)[0]!;
      // Overlapping windows sum several dy values into one position, in another order than cpu's.
      expected.forEach((e, i) => expect(Math.abs(actual[i]! - e)).toBeLessThan(1e-6));
    }
    }
  });

  it('runs the 2x2 max-pool gradient as WebAssembly SIMD in the backend\'s heap, here', async () => {
    // Without this, every MaxPoolGrad test above could pass on the JavaScript fallback alone.
    await tf.setBackend('wasm');
    expect(WebAssembly.validate(poolGradModuleBytes())).toBe(true);
    expect(simdPoolGrad2x2(tf.backend() as BackendWasm)).toBeTypeOf('function');
  });

  describe('Sum and Identity', () => {
    const sumCases: [number[], number | number[], boolean][] = [
      [[64, 28, 28, 16], [0, 1, 2], false], // conv1's bias gradient
      [[5, 7, 3], [1, 0], true],
      [[9, 4], 0, false],
      [[9, 4], -2, true],
      [[3, 4, 5], [0, 2], false], // not the leading axes: the backend's own kernel
      [[3, 4, 5], -1, false],
    ];
    for (const [shape, axis, keepDims] of sumCases) {
      it(`sum of [${shape}] over ${JSON.stringify(axis)} (keepDims ${keepDims}) equals the cpu backend's`, async () => {
        const run = () => tf.tidy(() => {
          const t = tf.sum(rand(shape, 3), axis, keepDims);
          return { shape: t.shape, values: t.dataSync() as Float32Array };
        });
        await tf.setBackend('cpu');
        const expected = run();
        await tf.setBackend('wasm');
        const actual = run();
        expect(actual.shape).toEqual(expected.shape);
        actual.values.forEach((v, i) => expect(Math.abs(v - expected.values[i]!)).toBeLessThan(1e-4 * Math.max(1, Math.abs(expected.values[i]!))));
      });
    }
    for (const c of [4, 8, 20, 36, 10]) {
      it(`column sums of ${c} columns (SIMD blocks of 16 and a remainder; 10: JavaScript) equal the cpu backend's, in float64`, async () => {
        const run = () => tf.tidy(() => {
          // Large and small values together: a float32 running sum would lose the small ones.
          const big = tf.mul(tf.greater(rand([301, c], 8), 0.9), 1e8);
          return Array.from(tf.sum(tf.add(big, rand([301, c], 9)), 0).dataSync());
        });
        await tf.setBackend('cpu');
        const expected = run();
        await tf.setBackend('wasm');
        expect(run()).toEqual(expected);
      });
    }
    it('column sums and the bias add run as SIMD here', async () => {
      await tf.setBackend('wasm');
      const backend = tf.backend() as BackendWasm;
      expect(WebAssembly.validate(columnSumModuleBytes(36))).toBe(true);
      expect(WebAssembly.validate(biasAddModuleBytes(12))).toBe(true);
      const x = tf.tensor2d([1, 2, 3, 4, 10, 20, 30, 40], [2, 4]);
      const out = tf.zeros([4]);
      const at = (t: tf.Tensor) => (backend.typedArrayFromHeap(t) as Float32Array).byteOffset;
      expect(simdColumnSums(backend, at(x), at(out), 2, 4)).toBe(true);
      expect(Array.from(out.dataSync())).toEqual([11, 22, 33, 44]);
      const y = tf.zeros([2, 4]);
      expect(simdBiasAdd(backend, at(x), at(tf.tensor1d([0.5, 0.5, 0.5, 0.5])), at(y), 2, 4)).toBe(true);
      expect(Array.from(y.dataSync())).toEqual([1.5, 2.5, 3.5, 4.5, 10.5, 20.5, 30.5, 40.5]);
      expect(simdColumnSums(backend, at(x), at(out), 2, 6)).toBe(false); // not a multiple of 4: JavaScript
      tf.dispose([x, out, y]);
    });
    const addCases: [number[], number[]][] = [
      [[32, 28, 28, 16], [16]], // conv1's bias
      [[3, 5, 5, 32], [1, 1, 1, 32]],
      [[8], [8, 8]], // the bias first
      [[7, 12], [12]],
      [[5, 10], [10]], // 10 columns: the backend's own kernel
      [[4, 6], [4, 6]], // same shapes: the backend's own kernel
      [[4, 1], [4, 8]], // another broadcast: the backend's own kernel
    ];
    for (const [sa, sb] of addCases) {
      it(`add of [${sa}] and [${sb}] equals the cpu backend's, NaN and infinities included`, async () => {
        const run = () => tf.tidy(() => {
          const special = tf.tensor1d([NaN, Infinity, -Infinity, 0]).tile([Math.ceil(size(sa) / 4)]).slice(0, size(sa)).reshape(sa);
          const a = tf.where(tf.greater(rand(sa, 4), 0.8), special, rand(sa, 5));
          const t = tf.add(a, rand(sb, 6));
          return { shape: t.shape, values: Array.from(t.dataSync()) };
        });
        await tf.setBackend('cpu');
        const expected = run();
        await tf.setBackend('wasm');
        expect(run()).toEqual(expected);
      });
    }
    it('an integer sum keeps its dtype (the backend\'s own kernel)', async () => {
      await tf.setBackend('wasm');
      const t = tf.sum(tf.tensor2d([1, 2, 3, 4], [2, 2], 'int32'), 0);
      expect(t.dtype).toBe('int32');
      expect(Array.from(t.dataSync())).toEqual([4, 6]);
      t.dispose();
    });
    it('a clone shares memory yet outlives its source, and the source outlives its clone', async () => {
      await tf.setBackend('wasm');
      const before = tf.memory().numTensors;
      const a = tf.tensor1d([1, 2, 3]);
      const b = tf.clone(a);
      a.dispose();
      expect(Array.from(b.dataSync())).toEqual([1, 2, 3]);
      const c = tf.clone(b);
      c.dispose();
      expect(Array.from(b.dataSync())).toEqual([1, 2, 3]);
      b.dispose();
      const s = tf.clone(tf.tensor1d(['x', 'y'], 'string'));
      expect(s.dataSync()).toEqual(['x', 'y']);
      tf.dispose(s);
      expect(tf.memory().numTensors).toBeLessThanOrEqual(before + 1);
    });
  });

  describe('Cast', () => {
    it('to the same dtype shares memory, and either side outlives the other', async () => {
      await tf.setBackend('wasm');
      const backend = tf.backend();
      const a = tf.tensor1d([1.5, -2, 3]);
      const ids = backend.numDataIds();
      const b = tf.cast(a, 'float32');
      expect(backend.numDataIds()).toBe(ids); // no copy
      a.dispose();
      expect(Array.from(b.dataSync())).toEqual([1.5, -2, 3]);
      const c = tf.cast(b, 'float32');
      c.dispose();
      expect(Array.from(b.dataSync())).toEqual([1.5, -2, 3]);
      b.dispose();
    });
    it('to another dtype converts, as the cpu backend does', async () => {
      const run = () => tf.tidy(() => {
        const x = tf.tensor1d([1.7, -2.2, 0, 3.9, NaN, -0.4]);
        return [tf.cast(x, 'int32'), tf.cast(x, 'bool'), tf.cast(tf.cast(x, 'int32'), 'float32')].map((t) => ({ dtype: t.dtype, values: Array.from(t.dataSync()) }));
      });
      await tf.setBackend('cpu');
      const expected = run();
      await tf.setBackend('wasm');
      expect(run()).toEqual(expected);
    });
  });

  describe('Slice', () => {
    const onBoth = async <T>(run: () => T): Promise<[T, T]> => {
      await tf.setBackend('cpu');
      const expected = run();
      await tf.setBackend('wasm');
      return [expected, run()];
    };
    const sliced = (shape: number[], begin: number[], size: number[], dtype: 'float32' | 'int32' | 'bool') => () => tf.tidy(() => {
      const r = rand(shape, 5, true); // integers 0..3
      const x = dtype === 'bool' ? tf.greater(r, 1) : tf.cast(tf.mul(r, 3), dtype);
      const t = tf.slice(x, begin, size);
      return { shape: t.shape, dtype: t.dtype, values: Array.from(t.dataSync()) };
    });
    // Rows of a batch (contiguous: ours), and strided windows (the backend's own kernel).
    const cases: [number[], number[], number[]][] = [
      [[500, 28, 28, 1], [32, 0, 0, 0], [32, 28, 28, 1]], // predict's batches of 32
      [[500, 28, 28, 1], [480, 0, 0, 0], [-1, 28, 28, 1]], // the last, partial batch
      [[7, 5], [3, 0], [0, 5]], // empty
      [[4, 6, 3], [1, 2, 0], [1, 3, 3]], // contiguous inside one row
      [[4, 6, 3], [1, 2, 1], [2, 3, 2]], // strided
      [[10], [2], [5]],
    ];
    for (const [shape, begin, size] of cases) {
      for (const dtype of ['float32', 'int32', 'bool'] as const) {
        it(`slice of [${shape}] at [${begin}] size [${size}] (${dtype}) equals the cpu backend's`, async () => {
          const [expected, actual] = await onBoth(sliced(shape, begin, size, dtype));
          expect(actual).toEqual(expected);
        });
      }
    }
    it('random slices equal the cpu backend\'s (fast-check)', async () => {
      const arb = fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 4 }).chain((shape) =>
        fc.tuple(...shape.map((d) => fc.integer({ min: 0, max: d - 1 }))).chain((begin) =>
          fc.tuple(fc.constant(shape), fc.constant(begin), fc.tuple(...shape.map((d, i) => fc.integer({ min: 0, max: d - begin[i]! }))))));
      await fc.assert(fc.asyncProperty(arb, async ([shape, begin, size]) => {
        const [expected, actual] = await onBoth(sliced(shape, begin, size, 'float32'));
        expect(actual).toEqual(expected);
      }), { numRuns: 60 });
    });
    it('stays right when the output\'s allocation grows the wasm heap', async () => {
      await tf.setBackend('wasm');
      const x = tf.range(0, 4_000_000, 1, 'float32').reshape([4000, 1000]);
      const parts = Array.from({ length: 12 }, (_, k) => tf.slice(x, [k * 300, 0], [300, 1000]));
      parts.forEach((p, k) => {
        const v = p.dataSync();
        expect([v[0], v[v.length - 1]]).toEqual([k * 300_000, k * 300_000 + 299_999]);
      });
      tf.dispose([x, ...parts]);
    });
  });

  describe('BatchMatMul with transposed operands', () => {
    const cases: [number[], number[], boolean, boolean][] = [
      [[64, 1568], [1568, 64], false, false], // fixture dense1 forward
      [[64, 1568], [64, 64], true, false], // dense1 kernel gradient
      [[64, 64], [1568, 64], false, true], // dense1 input gradient
      [[3, 5, 4], [3, 6, 5], true, true], // batched, both transposed
      [[2, 4, 7], [2, 4, 3], true, false], // batched, A transposed
      // Computed as (op(B)^T op(A)^T)^T, which moves fewer values:
      [[256, 1568], [256, 1], true, false], // the watermark loss's gradient, X^T dy
      [[32, 64], [1568, 64], false, true], // a worker's dense1 input gradient (batch 32)
      [[3, 2, 50], [1, 40, 50], false, true], // a broadcast batch (forward only: tfjs has no gradient for it)
      // Small products (up to SMALL_PRODUCT multiply-adds) in JavaScript:
      [[1, 32, 64], [1, 32, 10], true, false], // dense2's kernel gradient at batch 32
      [[32, 10], [64, 10], false, true], // dense2's input gradient
      [[10, 7], [3, 10], true, true], // both transposed
    ];
    /** The product itself, and its gradients (which are products with other flags) unless a batch broadcasts. */
    const check = async (a: number[], b: number[], ta: boolean, tb: boolean) => {
      const mm = (x: tf.Tensor, y: tf.Tensor) => tf.matMul(x, y, ta, tb);
      const forward = () => tf.tidy(() => mm(rand(a, 1), rand(b, 2)).dataSync() as Float32Array);
      await tf.setBackend('cpu');
      const expected = forward();
      await tf.setBackend('wasm');
      const actual = forward();
      expect(actual.length).toBe(expected.length);
      actual.forEach((v, i) => expect(Math.abs(v - expected[i]!)).toBeLessThan(TOL * Math.max(1, Math.abs(expected[i]!))));
      const broadcast = a.length > 2 && a.slice(0, -2).join() !== b.slice(0, -2).join();
      if (!broadcast) expect(await maxDiffVsCpu(mm, () => [rand(a, 1), rand(b, 2)], 9)).toBeLessThan(TOL);
    };
    for (const [a, b, ta, tb] of cases) {
      it(`a=[${a}] b=[${b}] transposeA=${ta} transposeB=${tb}`, async () => {
        await check(a, b, ta, tb);
      });
    }
    it('shapes that fit the SIMD tiles (rows a multiple of 8, columns of 4), one operand transposed, equal the cpu backend (fast-check)', async () => {
      const arb = fc.record({ m8: fc.integer({ min: 1, max: 6 }), n4: fc.integer({ min: 1, max: 6 }), k: fc.integer({ min: 1, max: 70 }), rank3: fc.boolean(), ta: fc.boolean() });
      await fc.assert(fc.asyncProperty(arb, async ({ m8, n4, k, rank3, ta }) => {
        const [m, n] = [8 * m8, 4 * n4];
        const lead = rank3 ? [1] : [];
        await check([...lead, ...(ta ? [k, m] : [m, k])], [...lead, ...(ta ? [k, n] : [n, k])], ta, !ta);
      }), { numRuns: 30 });
    });
    it('small products run in one JavaScript loop: no nested kernels', async () => {
      await tf.setBackend('wasm');
      const x = rand([32, 64], 1);
      const dy = rand([32, 10], 2);
      const info = await tf.profile(() => tf.matMul(x, dy, true, false));
      expect(info.kernels.map((k) => k.name)).toEqual(['BatchMatMul']);
      tf.dispose([x, dy, info.result as tf.Tensor]);
    });
    it('a dense layer\'s two gradients run on the SIMD tiles, reading W and x in place', async () => {
      await tf.setBackend('wasm');
      const backend = tf.backend() as BackendWasm;
      expect(WebAssembly.validate(matmulAtBModuleBytes(16, 8, 3))).toBe(true);
      expect(WebAssembly.validate(matmulAtBtModuleBytes(16, 8, 3))).toBe(true);
      const x = rand([32, 1568], 1);
      const w = rand([1568, 64], 2);
      const dy = rand([32, 64], 3);
      const transposed = async (f: () => tf.Tensor) => {
        const info = await tf.profile(f);
        tf.dispose(info.result as tf.Tensor);
        return info.kernels.filter((k) => k.name === 'Transpose').map((k) => k.inputShapes[0]);
      };
      expect(await transposed(() => tf.matMul(x, dy, true, false))).toEqual([]); // x^T dy: nothing moved
      expect(await transposed(() => tf.matMul(dy, w, false, true))).toEqual([[32, 64]]); // dy W^T: only dy
      const c = tf.zeros([8, 4]);
      const at = (t: tf.Tensor) => (backend.typedArrayFromHeap(t) as Float32Array).byteOffset;
      const a8 = tf.tensor2d(Array.from({ length: 16 }, (_, i) => i), [2, 8]);
      const b4 = tf.tensor2d([1, 0, 0, 2, 0, 1, 0, 1], [2, 4]);
      expect(simdMatMulAtB(backend, at(a8), at(b4), at(c), 8, 4, 2)).toBe(true);
      expect(Array.from(c.dataSync())).toEqual(Array.from(tf.matMul(a8, b4, true, false).dataSync()));
      expect(simdMatMulAtB(backend, at(a8), at(b4), at(c), 4, 8, 2)).toBe(false); // 4 rows: the other path
      tf.dispose([x, w, dy, c, a8, b4]);
    });
    it('random shapes, flags and broadcast batches equal the cpu backend (fast-check)', async () => {
      const dims = fc.integer({ min: 1, max: 9 });
      const arb = fc.record({ m: dims, k: dims, n: dims, batch: fc.constantFrom([] as number[], [1], [3], [2, 2]), bBatch1: fc.boolean(), ta: fc.boolean(), tb: fc.boolean() });
      await fc.assert(fc.asyncProperty(arb, async ({ m, k, n, batch, bBatch1, ta, tb }) => {
        const a = [...batch, ...(ta ? [k, m] : [m, k])];
        const b = [...(bBatch1 && batch.length > 0 ? batch.map(() => 1) : batch), ...(tb ? [n, k] : [k, n])];
        await check(a, b, ta, tb);
      }), { numRuns: 40 });
    });
  });

  it('leak no tensors', async () => {
    await tf.setBackend('wasm');
    const before = tf.memory().numTensors;
    await conv([2, 8, 8, 2], [3, 3], 2, [2, 2], 'same', 1);
    await depthwise([2, 8, 8, 2], [3, 3], 2, [2, 2], 'same', 1);
    await pool('max', [2, 8, 8, 2], [2, 2], [2, 2], 'same', 1);
    await pool('avg', [2, 8, 8, 2], [2, 2], [2, 2], 'same', 1);
    await maxDiffVsCpu((x, y) => tf.matMul(x, y, true, true), () => [rand([3, 4], 1), rand([5, 3], 2)], 1);
    await tf.setBackend('wasm');
    expect(tf.memory().numTensors).toBe(before);
  });
});
