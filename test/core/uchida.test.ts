// Uchida et al. extraction and regulariser: chance-level bits on unmarked kernels, the loss
// against its textbook BCE form, the gradient against finite differences, and gradient descent
// on the loss actually embedding the bits.
import { describe, expect, it } from 'vitest';
import { deriveMarkBits, deriveOwnerPublicKey } from '../../src/core/derive.js';
import { expandOverOutputChannels, meanOverOutputChannels } from '../../src/core/kernel-layout.js';
import { createPrng } from '../../src/core/prng.js';
import { compareBits, extractBits, generateProjection, project, watermarkLoss } from '../../src/core/uchida.js';

const seed = (b: number) => new Uint8Array(32).fill(b);
const gaussians = (s: number, n: number, scale = 1) => {
  const a = new Float64Array(n);
  createPrng(seed(s)).fillGaussian(a);
  return a.map((v) => v * scale);
};
const bits = deriveMarkBits(deriveOwnerPublicKey(seed(1)), 'uchida-test', 64);

describe('projection and extraction', () => {
  it('X is the seed stream of standard normals, row-major, as float32', () => {
    const x = generateProjection(seed(2), 3, 5);
    const want = new Float32Array(15);
    createPrng(seed(2)).fillGaussian(want);
    expect(x).toEqual({ rows: 3, cols: 5, data: want });
    expect(generateProjection(seed(3), 3, 5).data).not.toEqual(want);
    expect(() => generateProjection(seed(2), 2 ** 14, 2 ** 13)).toThrow(RangeError);
  });

  it('project is X w row by row', () => {
    const x = generateProjection(seed(4), 7, 11);
    const w = gaussians(5, 11);
    const y = project(x, w);
    for (let i = 0; i < 7; i++) {
      const want = Array.from(w).reduce((s, v, j) => s + v * x.data[i * 11 + j]!, 0);
      expect(y[i]).toBeCloseTo(want, 12);
    }
  });

  it('on unmarked random kernels the bit error rate is about one half', () => {
    const x = generateProjection(seed(6), 256, 288);
    const expected = deriveMarkBits(deriveOwnerPublicKey(seed(7)), 'm', 256);
    const bers: number[] = [];
    for (let s = 0; s < 20; s++) {
      const kernel = Float32Array.from(gaussians(100 + s, 3 * 3 * 32 * 16, 0.05));
      const w = meanOverOutputChannels(kernel, [3, 3, 32, 16], 'HWIO');
      const c = compareBits(expected, extractBits(x, w));
      expect(c.total).toBe(256);
      bers.push(c.ber);
    }
    const mean = bers.reduce((a, b) => a + b, 0) / bers.length;
    // each BER ~ N(0.5, 0.031^2); the mean of 20 ~ N(0.5, 0.007^2)
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.035);
    for (const b of bers) expect(Math.abs(b - 0.5)).toBeLessThan(0.16);
  });

  it('compareBits counts matches and rejects mismatched lengths', () => {
    expect(compareBits(Uint8Array.of(1, 0, 1, 1), Uint8Array.of(1, 1, 1, 0))).toEqual({ total: 4, matches: 2, errors: 2, ber: 0.5 });
    expect(() => compareBits(Uint8Array.of(1), Uint8Array.of(1, 0))).toThrow(RangeError);
  });
});

describe('watermarkLoss', () => {
  const x = generateProjection(seed(8), 64, 40);

  it('equals lambda times the mean textbook BCE of sigmoid(X w)', () => {
    const w = gaussians(9, 40, 0.1);
    const y = project(x, w);
    let bce = 0;
    for (let i = 0; i < 64; i++) {
      const p = 1 / (1 + Math.exp(-y[i]!));
      bce -= bits[i]! ? Math.log(p) : Math.log(1 - p);
    }
    expect(watermarkLoss(x, w, bits, 0.01).loss).toBeCloseTo((0.01 * bce) / 64, 14);
  });

  it('stays finite for huge projections', () => {
    const w = gaussians(9, 40, 1e3);
    const l = watermarkLoss(x, w, bits, 1);
    expect(Number.isFinite(l.loss)).toBe(true);
    expect(l.gradient.every(Number.isFinite)).toBe(true);
  });

  it('its gradient matches central finite differences, in w and through the kernel', () => {
    const w = gaussians(10, 40, 0.2);
    const { gradient } = watermarkLoss(x, w, bits, 0.5);
    const h = 1e-6;
    for (const j of [0, 7, 39]) {
      const up = Float64Array.from(w);
      const down = Float64Array.from(w);
      up[j]! += h;
      down[j]! -= h;
      const fd = (watermarkLoss(x, up, bits, 0.5).loss - watermarkLoss(x, down, bits, 0.5).loss) / (2 * h);
      expect(gradient[j]).toBeCloseTo(fd, 8);
    }
    // kernel [in = 40, out = 4]: dloss/dK[f, o] = gradient[f] / 4
    const kernel = Float32Array.from(gaussians(11, 160, 0.2));
    const kg = expandOverOutputChannels(watermarkLoss(x, meanOverOutputChannels(kernel, [40, 4], 'IO'), bits).gradient, [40, 4], 'IO', 1 / 4);
    const lossAt = (k: Float64Array) => {
      const wk = new Float64Array(40);
      for (let f = 0; f < 40; f++) for (let o = 0; o < 4; o++) wk[f] += k[f * 4 + o]! / 4;
      return watermarkLoss(x, wk, bits).loss;
    };
    for (const i of [0, 13, 159]) {
      const up = Float64Array.from(kernel);
      const down = Float64Array.from(kernel);
      up[i]! += h;
      down[i]! -= h;
      expect(kg[i]).toBeCloseTo((lossAt(up) - lossAt(down)) / (2 * h), 6);
    }
  });

  it('gradient descent on the loss embeds the bits', () => {
    const xs = generateProjection(seed(12), 64, 200);
    const w = gaussians(13, 200, 0.05);
    expect(compareBits(bits, extractBits(xs, w)).ber).toBeGreaterThan(0.2);
    for (let step = 0; step < 300; step++) {
      const { gradient } = watermarkLoss(xs, w, bits, 1);
      for (let j = 0; j < 200; j++) w[j]! -= 0.05 * gradient[j]!;
    }
    expect(compareBits(bits, extractBits(xs, w)).ber).toBe(0);
  });
});
