// The generator against RFC 8439's published ChaCha20 blocks, then its documented mappings
// against naive re-implementations and distribution checks.
import { chacha20 } from '@noble/ciphers/chacha.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createPrng } from '../../src/core/prng.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const seedArb = fc.uint8Array({ minLength: 32, maxLength: 32 });

describe('createPrng keystream', () => {
  // RFC 8439 Appendix A.1, test vectors #1 (counter 0) and #2 (counter 1): all-zero key and nonce.
  it('is the RFC 8439 A.1 ChaCha20 keystream for the zero key', () => {
    const bytes = createPrng(new Uint8Array(32)).nextBytes(128);
    expect(hex(bytes.subarray(0, 64))).toBe(
      '76b8e0ada0f13d90405d6ae55386bd28bdd219b8a08ded1aa836efcc8b770dc7da41597c5157488d7724e03fb8d84a376a43b8f41518a11cc387b669b2ee6586',
    );
    expect(hex(bytes.subarray(64))).toBe(
      '9f07e7be5551387a98ba977c732d080dcb0f29a048e3656912c6533e32ee7aed29b721769ce64e43d57133b074d839d531ed1f28510afb45ace10a1f4b794d6f',
    );
  });

  it('reads uint32 little-endian', () => {
    expect(createPrng(new Uint8Array(32)).nextUint32()).toBe(0xade0b876);
  });

  it('is one byte stream, whatever the mix of calls and refill boundaries', () => {
    fc.assert(
      fc.property(seedArb, fc.array(fc.integer({ min: 0, max: 5000 }), { maxLength: 6 }), (seed, cuts) => {
        const total = cuts.reduce((a, b) => a + b, 0) + 8;
        const want = chacha20(seed, new Uint8Array(12), new Uint8Array(total));
        const g = createPrng(seed);
        const parts = cuts.map((n) => g.nextBytes(n));
        const w = g.nextUint32();
        const got = Uint8Array.from(parts.flatMap((p) => [...p]));
        expect(hex(got)).toBe(hex(want.subarray(0, got.length)));
        const v = new DataView(want.buffer, want.byteOffset + got.length, 4).getUint32(0, true);
        expect(w).toBe(v);
      }),
      { numRuns: 30 },
    );
  });
});

describe('createPrng mappings', () => {
  it('is deterministic per seed and differs across seeds', () => {
    fc.assert(
      fc.property(seedArb, (seed) => {
        const a = createPrng(seed);
        const b = createPrng(seed);
        const xs = Array.from({ length: 50 }, () => [a.nextFloat(), a.nextInt(7), a.nextGaussian()]);
        const ys = Array.from({ length: 50 }, () => [b.nextFloat(), b.nextInt(7), b.nextGaussian()]);
        expect(xs).toEqual(ys);
        const other = Uint8Array.from(seed);
        other[0] ^= 1;
        expect(createPrng(other).nextUint32()).not.toBe(createPrng(seed).nextUint32());
      }),
      { numRuns: 20 },
    );
  });

  it('maps floats, ints and gaussians exactly as specified', () => {
    fc.assert(
      fc.property(seedArb, fc.integer({ min: 1, max: 2 ** 32 }), (seed, n) => {
        const raw = createPrng(seed);
        const g = createPrng(seed);
        // float: two words
        const a = raw.nextUint32() >>> 5;
        const b = raw.nextUint32() >>> 6;
        expect(g.nextFloat()).toBe((a * 2 ** 26 + b) / 2 ** 53);
        // int: rejection then modulo
        const limit = 2 ** 32 - (2 ** 32 % n);
        let x = raw.nextUint32();
        while (x >= limit) x = raw.nextUint32();
        expect(g.nextInt(n)).toBe(x % n);
        // gaussian pair
        const u = raw.nextFloat();
        const v = raw.nextFloat();
        const r = Math.sqrt(-2 * Math.log(1 - u));
        expect(g.nextGaussian()).toBe(r * Math.cos(2 * Math.PI * v));
        expect(g.nextGaussian()).toBe(r * Math.sin(2 * Math.PI * v));
      }),
      { numRuns: 100 },
    );
  });

  it('fillGaussian and fillFloat equal repeated single calls', () => {
    const seed = new Uint8Array(32).fill(9);
    const a = new Float64Array(1001);
    createPrng(seed).fillGaussian(a);
    const g = createPrng(seed);
    expect(Array.from(a)).toEqual(Array.from({ length: 1001 }, () => g.nextGaussian()));
    const f = new Float32Array(33);
    createPrng(seed).fillFloat(f);
    const h = createPrng(seed);
    expect(Array.from(f)).toEqual(Array.from({ length: 33 }, () => Math.fround(h.nextFloat())));
  });

  it('rejects bad arguments', () => {
    expect(() => createPrng(new Uint8Array(31))).toThrow(TypeError);
    const g = createPrng(new Uint8Array(32));
    expect(() => g.nextInt(0)).toThrow(RangeError);
    expect(() => g.nextInt(2 ** 32 + 1)).toThrow(RangeError);
    expect(() => g.nextInt(1.5)).toThrow(RangeError);
    expect(g.nextInt(1)).toBe(0);
  });
});

describe('createPrng distributions', () => {
  const N = 200_000;
  const g = createPrng(new Uint8Array(32).fill(42));

  it('floats are uniform on [0,1): mean, variance, 20-bucket chi-square', () => {
    const buckets = new Array<number>(20).fill(0);
    let sum = 0;
    let sq = 0;
    let outside = 0;
    for (let i = 0; i < N; i++) {
      const x = g.nextFloat();
      if (!(x >= 0 && x < 1)) outside++;
      sum += x;
      sq += x * x;
      buckets[Math.floor(x * 20)]!++;
    }
    expect(outside).toBe(0);
    const mean = sum / N;
    expect(Math.abs(mean - 0.5)).toBeLessThan(5 * Math.sqrt(1 / 12 / N));
    expect(Math.abs(sq / N - mean * mean - 1 / 12)).toBeLessThan(0.002);
    const e = N / 20;
    const chi2 = buckets.reduce((s, o) => s + (o - e) ** 2 / e, 0);
    expect(chi2).toBeLessThan(43.8); // 19 degrees of freedom, p = 0.001
  });

  it('ints are uniform over a range that does not divide 2^32', () => {
    const n = 10;
    const counts = new Array<number>(n).fill(0);
    for (let i = 0; i < N; i++) counts[g.nextInt(n)]!++;
    const e = N / n;
    expect(counts.reduce((s, o) => s + (o - e) ** 2 / e, 0)).toBeLessThan(27.9); // 9 dof, p = 0.001
  });

  it('gaussians have mean 0, variance 1, and the normal bucket masses', () => {
    const xs = new Float64Array(N);
    g.fillGaussian(xs);
    let sum = 0;
    let sq = 0;
    let quart = 0;
    for (const x of xs) {
      sum += x;
      sq += x * x;
      quart += x ** 4;
    }
    expect(Math.abs(sum / N)).toBeLessThan(5 / Math.sqrt(N));
    expect(Math.abs(sq / N - 1)).toBeLessThan(0.02);
    expect(Math.abs(quart / N - 3)).toBeLessThan(0.1); // kurtosis of the normal
    // P(|Z| < 1) = 0.682689, P(|Z| < 2) = 0.954500
    const within = (k: number) => xs.filter((x) => Math.abs(x) < k).length / N;
    expect(Math.abs(within(1) - 0.682689)).toBeLessThan(0.005);
    expect(Math.abs(within(2) - 0.9545)).toBeLessThan(0.003);
  });
});
