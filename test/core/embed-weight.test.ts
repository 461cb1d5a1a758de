// Training-free embedding: exact bits with margin after a small change, across layouts and
// output-channel permutations, and near-optimal against a brute-force active-set QP solver.
import { describe, expect, it } from 'vitest';
import { deriveMarkBits, deriveOwnerPublicKey } from '../../src/core/derive.js';
import { embedWeightMarkTrainingFree, suggestMargin } from '../../src/core/embed-weight.js';
import { CoreError } from '../../src/core/errors.js';
import { convertKernelLayout, meanOverOutputChannels } from '../../src/core/kernel-layout.js';
import { createPrng } from '../../src/core/prng.js';
import { bitMargins, compareBits, extractBits, generateProjection, type ProjectionMatrix } from '../../src/core/uchida.js';

const seed = (b: number) => new Uint8Array(32).fill(b);
/** Glorot-uniform-like kernel: U(-a, a), a = sqrt(6 / (fanIn + fanOut)). */
function glorot(s: number, n: number, fanIn: number, fanOut: number): Float32Array {
  const g = createPrng(seed(s));
  const a = Math.sqrt(6 / (fanIn + fanOut));
  return Float32Array.from({ length: n }, () => (2 * g.nextFloat() - 1) * a);
}
const T = 256;
const bits = deriveMarkBits(deriveOwnerPublicKey(seed(1)), 'embed-test', T);

describe('embedWeightMarkTrainingFree', () => {
  it('dense [1568, 64]: BER 1/2 before, 0 after with the margin, a small change', () => {
    const shape = [1568, 64];
    const kernel = glorot(2, 1568 * 64, 1568, 64);
    const x = generateProjection(seed(3), T, 1568);
    const margin = suggestMargin(kernel, shape, 'IO');
    const r = embedWeightMarkTrainingFree({ kernel, shape, layout: 'IO', projection: x, bits, margin });
    expect(r.bitErrorsBefore).toBeGreaterThan(90);
    expect(r.bitErrorsBefore).toBeLessThan(166);
    const w = meanOverOutputChannels(r.kernel, shape, 'IO');
    expect(compareBits(bits, extractBits(x, w)).ber).toBe(0);
    expect(r.marginAfter).toBeGreaterThanOrEqual(margin);
    expect(Math.min(...bitMargins(x, w, bits))).toBe(r.marginAfter);
    expect(r.relativeChange).toBeLessThan(0.1);
    expect(kernel).not.toBe(r.kernel);
    // only w moved: the change is the same delta in every output channel
    for (const f of [0, 100, 1567]) {
      const d0 = r.kernel[f * 64]! - kernel[f * 64]!;
      for (let o = 1; o < 64; o++) expect(r.kernel[f * 64 + o]! - kernel[f * 64 + o]!).toBeCloseTo(d0, 6);
    }
  });

  it('ONNX Conv kernel: marked in OIHW, read in HWIO and after permuting output channels', () => {
    const shape = [64, 32, 5, 5]; // M = 800
    const kernel = glorot(4, 64 * 32 * 25, 800, 64 * 25);
    const x = generateProjection(seed(5), T, 800);
    const margin = suggestMargin(kernel, shape, 'OIHW', 0.5);
    const r = embedWeightMarkTrainingFree({ kernel, shape, layout: 'OIHW', projection: x, bits, margin });
    const tf = convertKernelLayout(r.kernel, shape, 'OIHW', 'HWIO');
    expect(compareBits(bits, extractBits(x, meanOverOutputChannels(tf.data, tf.shape, 'HWIO'))).ber).toBe(0);
    // a thief reorders the 64 output channels (and the next layer's inputs to match)
    const permuted = new Float32Array(r.kernel.length);
    const per = 32 * 25;
    for (let o = 0; o < 64; o++) permuted.set(r.kernel.subarray(((o * 37) % 64) * per, (((o * 37) % 64) + 1) * per), o * per);
    expect(compareBits(bits, extractBits(x, meanOverOutputChannels(permuted, shape, 'OIHW'))).ber).toBe(0);
    expect(r.relativeChange).toBeLessThan(0.1);
  });

  it('is a no-op on a kernel that already carries the bits', () => {
    const shape = [400, 10];
    const kernel = glorot(6, 4000, 400, 10);
    const x = generateProjection(seed(7), 64, 400);
    const b = bits.subarray(0, 64);
    const once = embedWeightMarkTrainingFree({ kernel, shape, layout: 'IO', projection: x, bits: b, margin: 0.05 });
    const twice = embedWeightMarkTrainingFree({ kernel: once.kernel, shape, layout: 'IO', projection: x, bits: b, margin: 0.05 });
    expect(twice.sweeps).toBe(0);
    expect(twice.kernelChangeNorm).toBe(0);
    expect(twice.kernel).toEqual(once.kernel);
  });

  it('says CORE_EMBED_INFEASIBLE when no change can carry the bits', () => {
    // 64 random sign constraints on 3 dimensions: not linearly separable
    const x = generateProjection(seed(8), 64, 3);
    const run = () => embedWeightMarkTrainingFree({ kernel: new Float32Array(6), shape: [3, 2], layout: 'IO', projection: x, bits: bits.subarray(0, 64), margin: 1, maxSweeps: 200 });
    expect(run).toThrow(CoreError);
    expect(run).toThrow(/choose a layer with more features/);
  });
});

// ---- brute-force reference: min ||d|| s.t. A d >= c, by trying every active set (KKT) ----
function solve(a: number[][], b: number[]): number[] | undefined {
  const n = b.length;
  const m = a.map((r, i) => [...r, b[i]!]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(m[r]![c]!) > Math.abs(m[p]![c]!)) p = r;
    if (Math.abs(m[p]![c]!) < 1e-12) return undefined;
    [m[c], m[p]] = [m[p]!, m[c]!];
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = m[r]![c]! / m[c]![c]!;
      for (let k = c; k <= n; k++) m[r]![k]! -= f * m[c]![k]!;
    }
  }
  return m.map((r, i) => r[n]! / r[i]!);
}

function bruteForceMinNorm(x: ProjectionMatrix, w: Float64Array, bits: Uint8Array, margin: number): number {
  const rows = Array.from({ length: x.rows }, (_, i) => Array.from(x.data.subarray(i * x.cols, (i + 1) * x.cols), (v) => (bits[i] ? v : -v)));
  const c = rows.map((r) => margin - r.reduce((s, v, j) => s + v * w[j]!, 0));
  let best = Infinity;
  for (let mask = 0; mask < 1 << x.rows; mask++) {
    const s = rows.map((_, i) => i).filter((i) => mask & (1 << i));
    const gram = s.map((i) => s.map((j) => rows[i]!.reduce((acc, v, k) => acc + v * rows[j]![k]!, 0)));
    const lam = s.length ? solve(gram, s.map((i) => c[i]!)) : [];
    if (!lam || lam.some((l) => l < -1e-12)) continue;
    const d = new Array<number>(x.cols).fill(0);
    s.forEach((i, k) => rows[i]!.forEach((v, j) => (d[j]! += lam[k]! * v)));
    if (rows.every((r, i) => r.reduce((acc, v, j) => acc + v * d[j]!, 0) >= c[i]! - 1e-9)) best = Math.min(best, Math.hypot(...d));
  }
  return best;
}

describe('optimality', () => {
  it('the change in w is within 5% of the exact minimum norm', () => {
    for (let s = 0; s < 12; s++) {
      const t = 3 + (s % 5);
      const m = 6 + s;
      const x = generateProjection(seed(20 + s), t, m);
      const kernel = glorot(40 + s, m, m, 1);
      const b = deriveMarkBits(deriveOwnerPublicKey(seed(60 + s)), 'opt', t);
      const w = meanOverOutputChannels(kernel, [m, 1], 'IO');
      const r = embedWeightMarkTrainingFree({ kernel, shape: [m, 1], layout: 'IO', projection: x, bits: b, margin: 0.3 });
      const exact = bruteForceMinNorm(x, w, b, 0.3);
      const ours = Math.hypot(...r.delta);
      expect(ours).toBeGreaterThanOrEqual(exact * (1 - 1e-6));
      expect(ours).toBeLessThanOrEqual(exact * 1.05 + 1e-9);
    }
  });
});
