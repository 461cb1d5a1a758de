// Layout mappings against naive nested-loop transposes written from the layouts' definitions.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  addOverOutputChannels, convertKernelLayout, expandOverOutputChannels, kernelGeometry, meanOverOutputChannels,
} from '../../src/core/kernel-layout.js';
import { createPrng } from '../../src/core/prng.js';

function randomKernel(seedByte: number, n: number): Float32Array {
  const out = new Float32Array(n);
  createPrng(new Uint8Array(32).fill(seedByte)).fillGaussian(out);
  return out;
}

/** ONNX OIHW from TF.js HWIO: out[o][c][y][x] = in[y][x][c][o], with strides spelled out. */
function naiveHwioToOihw(k: Float32Array, kh: number, kw: number, cin: number, cout: number): Float32Array {
  const out = new Float32Array(k.length);
  for (let y = 0; y < kh; y++)
    for (let x = 0; x < kw; x++)
      for (let c = 0; c < cin; c++)
        for (let o = 0; o < cout; o++) out[o * cin * kh * kw + c * kh * kw + y * kw + x] = k[y * kw * cin * cout + x * cin * cout + c * cout + o]!;
  return out;
}

/** Naive mean of an HWIO kernel over its last axis, in (y, x, c) order. */
function naiveMeanHwio(k: Float32Array, kh: number, kw: number, cin: number, cout: number): number[] {
  const w: number[] = [];
  for (let y = 0; y < kh; y++)
    for (let x = 0; x < kw; x++)
      for (let c = 0; c < cin; c++) {
        let s = 0;
        for (let o = 0; o < cout; o++) s += k[((y * kw + x) * cin + c) * cout + o]!;
        w.push(s / cout);
      }
  return w;
}

const dims = fc.tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 6 }));

describe('kernel layouts', () => {
  it('conv1d: ONNX OIK [out, in, k] and TF.js KIO [k, in, out] give the same w, that of the same filter as a 1xk Conv2D', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 7 }), fc.integer({ min: 0, max: 255 }), (k, cin, cout, s) => {
        const oik = randomKernel(s, cout * cin * k);
        // naive: KIO[t][c][o] = OIK[o][c][t]; w[t*cin + c] = mean_o OIK[o][c][t] (fan-in in (k, c_in) order)
        const kio = new Float32Array(oik.length);
        const w: number[] = [];
        for (let t = 0; t < k; t++) for (let c = 0; c < cin; c++) {
          let sum = 0;
          for (let o = 0; o < cout; o++) {
            kio[(t * cin + c) * cout + o] = oik[(o * cin + c) * k + t]!;
            sum += oik[(o * cin + c) * k + t]!;
          }
          w.push(sum / cout);
        }
        expect(kernelGeometry([cout, cin, k], 'OIK').features).toBe(cin * k);
        expect(Array.from(meanOverOutputChannels(oik, [cout, cin, k], 'OIK'))).toEqual(w);
        expect(convertKernelLayout(oik, [cout, cin, k], 'OIK', 'KIO')).toEqual({ data: kio, shape: [k, cin, cout] });
        expect(Array.from(meanOverOutputChannels(kio, [k, cin, cout], 'KIO'))).toEqual(w);
        expect(convertKernelLayout(kio, [k, cin, cout], 'KIO', 'OIK').data).toEqual(oik);
        // The same weights as a [cout, cin, 1, k] OIHW and a [1, k, cin, cout] HWIO kernel (what a converter may write).
        expect(Array.from(meanOverOutputChannels(oik, [cout, cin, 1, k], 'OIHW'))).toEqual(w);
        expect(Array.from(meanOverOutputChannels(kio, [1, k, cin, cout], 'HWIO'))).toEqual(w);
        expect(() => convertKernelLayout(oik, [cout, cin, k], 'OIK', 'OIHW')).toThrow(RangeError);
      }),
      { numRuns: 60 },
    );
  });

  it('conv: HWIO and OIHW give the same w, equal to the naive mean', () => {
    fc.assert(
      fc.property(dims, fc.integer({ min: 0, max: 255 }), ([kh, kw, cin, cout], s) => {
        const k = randomKernel(s, kh * kw * cin * cout);
        const w = meanOverOutputChannels(k, [kh, kw, cin, cout], 'HWIO');
        expect(Array.from(w)).toEqual(naiveMeanHwio(k, kh, kw, cin, cout));
        const onnx = naiveHwioToOihw(k, kh, kw, cin, cout);
        expect(convertKernelLayout(k, [kh, kw, cin, cout], 'HWIO', 'OIHW')).toEqual({ data: onnx, shape: [cout, cin, kh, kw] });
        expect(Array.from(meanOverOutputChannels(onnx, [cout, cin, kh, kw], 'OIHW'))).toEqual(Array.from(w));
        expect(convertKernelLayout(onnx, [cout, cin, kh, kw], 'OIHW', 'HWIO').data).toEqual(k);
      }),
      { numRuns: 60 },
    );
  });

  it('dense: IO and Gemm OI (transB = 1) give the same w', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 20 }), fc.integer({ min: 1, max: 20 }), (nin, nout) => {
        const k = randomKernel(nin + nout, nin * nout);
        const t = new Float32Array(k.length);
        for (let i = 0; i < nin; i++) for (let o = 0; o < nout; o++) t[o * nin + i] = k[i * nout + o]!;
        expect(convertKernelLayout(k, [nin, nout], 'IO', 'OI')).toEqual({ data: t, shape: [nout, nin] });
        expect(Array.from(meanOverOutputChannels(t, [nout, nin], 'OI'))).toEqual(Array.from(meanOverOutputChannels(k, [nin, nout], 'IO')));
      }),
      { numRuns: 40 },
    );
  });

  it('permuting output channels leaves w unchanged (up to float64 summation order)', () => {
    fc.assert(
      fc.property(dims, fc.integer({ min: 0, max: 255 }), ([kh, kw, cin, cout], s) => {
        const k = randomKernel(s, kh * kw * cin * cout);
        const perm = Array.from({ length: cout }, (_, i) => i);
        const g = createPrng(new Uint8Array(32).fill(s ^ 0x5a));
        for (let i = cout - 1; i > 0; i--) {
          const j = g.nextInt(i + 1);
          [perm[i], perm[j]] = [perm[j]!, perm[i]!];
        }
        const p = new Float32Array(k.length);
        for (let f = 0; f < kh * kw * cin; f++) for (let o = 0; o < cout; o++) p[f * cout + o] = k[f * cout + perm[o]!]!;
        const a = meanOverOutputChannels(k, [kh, kw, cin, cout], 'HWIO');
        const b = meanOverOutputChannels(p, [kh, kw, cin, cout], 'HWIO');
        for (let i = 0; i < a.length; i++) expect(Math.abs(a[i]! - b[i]!)).toBeLessThan(1e-12);
      }),
      { numRuns: 40 },
    );
  });

  it('addOverOutputChannels moves the mean by delta in every layout', () => {
    const k = randomKernel(3, 3 * 3 * 4 * 5);
    const delta = Array.from({ length: 36 }, (_, i) => (i - 18) / 100);
    for (const [layout, shape] of [['HWIO', [3, 3, 4, 5]], ['OIHW', [5, 4, 3, 3]]] as const) {
      const w0 = meanOverOutputChannels(k, shape, layout);
      const w1 = meanOverOutputChannels(addOverOutputChannels(k, shape, layout, delta), shape, layout);
      for (let i = 0; i < 36; i++) expect(Math.abs(w1[i]! - w0[i]! - delta[i]!)).toBeLessThan(1e-6);
      const e = expandOverOutputChannels(delta, shape, layout, 0.5);
      expect(Array.from(meanOverOutputChannels(e, shape, layout)).map((v, i) => Math.abs(v - delta[i]! / 2) < 1e-7)).not.toContain(false);
    }
  });

  it('rejects bad shapes and sizes', () => {
    expect(() => kernelGeometry([3, 3, 4], 'HWIO')).toThrow(RangeError);
    expect(() => kernelGeometry([3, 0, 4, 5], 'HWIO')).toThrow(RangeError);
    expect(() => kernelGeometry([3, 3], 'XY' as never)).toThrow(RangeError);
    expect(() => kernelGeometry([65536, 65536], 'IO')).toThrow(RangeError);
    expect(() => meanOverOutputChannels(new Float32Array(5), [2, 3], 'IO')).toThrow(RangeError);
    expect(() => convertKernelLayout(new Float32Array(6), [2, 3], 'IO', 'HWIO')).toThrow(RangeError);
  });
});
