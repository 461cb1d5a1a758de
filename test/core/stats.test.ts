// Binomial tails against exact rational arithmetic (BigInt), published values, and the
// decision rule.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  assessMatches, binomialUpperTail, chanceRate, decide, logBinomialUpperTail, logGamma,
} from '../../src/core/stats.js';

const bitLength = (x: bigint) => x.toString(2).length;

/** ln(num / den) for positive BigInts, to double precision. */
function logRatio(num: bigint, den: bigint): number {
  const top = (x: bigint) => {
    const shift = Math.max(0, bitLength(x) - 64);
    return Math.log(Number(x >> BigInt(shift))) + shift * Math.LN2;
  };
  return top(num) - top(den);
}

/** Exact ln P[X >= k] for X ~ Binomial(n, a/b). */
function exactLogTail(k: number, n: number, a: number, b: number): number {
  // term(j) = C(n, j) a^j (b-a)^(n-j), stepped exactly from j = k upward
  const [A, B, N] = [BigInt(a), BigInt(b - a), BigInt(n)];
  let c = 1n;
  for (let i = 0n; i < BigInt(k); i++) c = (c * (N - i)) / (i + 1n);
  let pa = A ** BigInt(k);
  let pb = B ** BigInt(n - k);
  let num = 0n;
  for (let j = BigInt(k); j <= N; j++) {
    num += c * pa * pb;
    c = (c * (N - j)) / (j + 1n);
    pa *= A;
    pb /= B;
  }
  return logRatio(num, BigInt(b) ** N);
}

describe('logGamma', () => {
  it('equals ln((x-1)!) for integers', () => {
    let f = 1n;
    for (let x = 1; x <= 170; x++) {
      if (x > 1) f *= BigInt(x - 1);
      const want = logRatio(f, 1n);
      expect(Math.abs(logGamma(x) - want)).toBeLessThanOrEqual(1e-13 * Math.max(1, Math.abs(want)));
    }
  });
  it('matches Γ(1/2) = √π and rejects x <= 0', () => {
    expect(logGamma(0.5)).toBeCloseTo(0.5 * Math.log(Math.PI), 14);
    expect(() => logGamma(0)).toThrow(RangeError);
  });
});

describe('logBinomialUpperTail', () => {
  it('agrees with exact rational arithmetic for n <= 60 (relative error < 1e-9)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 60 }),
        fc.integer({ min: 2, max: 12 }),
        fc.integer({ min: 1, max: 11 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (n, b, a0, kf) => {
          const a = Math.min(a0, b - 1);
          const k = Math.round(kf * n);
          const want = exactLogTail(k, n, a, b);
          const got = logBinomialUpperTail(k, n, a / b);
          // |Δ ln P| < 1e-9 is relative error < 1e-9 on P
          expect(Math.abs(got - want)).toBeLessThan(1e-9);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('agrees with exact arithmetic for large n down to far below 1e-300', () => {
    for (const [k, n, a, b] of [[620, 1000, 1, 2], [1100, 2000, 1, 2], [1560, 2000, 1, 2], [300, 1000, 1, 10], [2000, 2000, 1, 2]] as const) {
      const want = exactLogTail(k, n, a, b);
      const got = logBinomialUpperTail(k, n, a / b);
      expect(Math.abs(got - want) / Math.max(1, Math.abs(want))).toBeLessThan(1e-10);
    }
  });

  it('gives the published corner values', () => {
    // every one of 256 bits matching by chance: 2^-256 = 8.636168555094445e-78
    expect(binomialUpperTail(256, 256, 0.5) / 8.636168555094445e-78 - 1).toBeLessThan(1e-12);
    // n = 10,000, all match: ln(2^-10000), far below the float range
    expect(logBinomialUpperTail(10_000, 10_000, 0.5)).toBeCloseTo(-10_000 * Math.LN2, 6);
    // 100 of 100 triggers with 10 classes: 1e-100
    expect(binomialUpperTail(100, 100, 0.1) / 1e-100 - 1).toBeLessThan(1e-11);
    // the median: P[X >= 5] for Binomial(10, 1/2) = 638/1024
    expect(binomialUpperTail(5, 10, 0.5)).toBeCloseTo(638 / 1024, 14);
    expect(binomialUpperTail(0, 10, 0.3)).toBe(1);
    expect(binomialUpperTail(11, 10, 0.3)).toBe(0);
    expect(binomialUpperTail(3, 10, 0)).toBe(0);
    expect(binomialUpperTail(10, 10, 1)).toBe(1);
  });

  it('n = 10,000, p = 1/10: exact arithmetic at tails around and below 1e-300', () => {
    for (const k of [1900, 2700]) {
      const want = exactLogTail(k, 10_000, 1, 10);
      if (k === 2700) expect(want / Math.LN10).toBeLessThan(-300);
      expect(Math.abs(logBinomialUpperTail(k, 10_000, 0.1) - want) / Math.abs(want)).toBeLessThan(1e-10);
    }
  });

  it('is monotone in k', () => {
    let prev = 0;
    for (let k = 0; k <= 256; k++) {
      const l = logBinomialUpperTail(k, 256, 0.5);
      expect(l).toBeLessThanOrEqual(prev);
      prev = l;
    }
  });
});

describe('decision', () => {
  it('chanceRate never goes below 1/C', () => {
    expect(chanceRate({ classes: 10 })).toBe(0.1);
    expect(chanceRate({ classes: 10, calibratedNullRate: 0.04 })).toBe(0.1);
    expect(chanceRate({ classes: 10, calibratedNullRate: 0.17 })).toBe(0.17);
    expect(() => chanceRate({ classes: 1 })).toThrow(RangeError);
  });

  it('owned only strictly below alpha, with every number', () => {
    expect(decide({ pValue: 1e-7 }).owned).toBe(true);
    expect(decide({ pValue: 1e-6, alpha: 1e-6 }).owned).toBe(false);
    expect(decide({ pValue: 0.5, alpha: 0.01 })).toEqual({ owned: false, pValue: 0.5, log10PValue: Math.log10(0.5), alpha: 0.01 });
    const far = decide({ logPValue: -5000 });
    expect(far.owned).toBe(true);
    expect(far.pValue).toBe(0);
    expect(far.log10PValue).toBeCloseTo(-5000 / Math.LN10, 9);
    expect(() => decide({})).toThrow(RangeError);
    expect(() => decide({ pValue: 0.1, alpha: 0 })).toThrow(RangeError);
  });

  it('assessMatches: 256/256 bits is owned, 140/256 is not; chance-level triggers are not', () => {
    const all = assessMatches({ matches: 256, trials: 256, chance: 0.5 });
    expect(all.owned).toBe(true);
    expect(all.log10PValue).toBeCloseTo(-256 * Math.log10(2), 9);
    expect(assessMatches({ matches: 140, trials: 256, chance: 0.5 }).owned).toBe(false);
    const t = assessMatches({ matches: 12, trials: 100, chance: 0.1 });
    expect(t).toMatchObject({ owned: false, matches: 12, trials: 100, chance: 0.1, expected: 10 });
    expect(() => assessMatches({ matches: 101, trials: 100, chance: 0.1 })).toThrow(RangeError);
  });
});
