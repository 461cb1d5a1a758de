// Shapiro-Wilk against values nobody here computed: the worked example of Shapiro & Wilk
// (Biometrika 52, 1965, p. 606: weights of 11 men, W = 0.79), and SciPy 1.17.1's
// scipy.stats.shapiro (Royston's Fortran SWILK), printed with:
//   python3 -c "import scipy.stats as st; print(st.shapiro([...]))"
// and the normal tail / quantile against scipy.stats.norm.sf / norm.ppf.
import { describe, expect, it } from 'vitest';
import { normalQuantile, normalUpperTail, shapiroWilk } from '../../src/core/index.js';

const rel = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);

describe('Shapiro-Wilk (Royston 1995)', () => {
  const cases: [string, number[], number, number][] = [
    ['Shapiro & Wilk 1965 example (n = 11)', [148, 154, 158, 160, 161, 162, 166, 170, 182, 195, 236], 0.7888146948631716, 0.006703814061898823],
    ['n = 3', [1, 2, 4], 0.9642857142857142, 0.6368868450289689],
    ['n = 5', [2.1, 3.5, 1.2, 8.9, 4.4], 0.8972128582714711, 0.39467330516759425],
    ['n = 8', [0.1, 0.4, 0.2, 0.9, 0.35, 0.7, 0.15, 0.5], 0.9359082548515046, 0.5713226300686236],
    ['n = 30 uniform-ish', Array.from({ length: 30 }, (_, i) => ((i * 7919) % 101) / 101), 0.952724599852899, 0.19988680596684388],
    ['n = 200 log-uniform (far from normal)', Array.from({ length: 200 }, (_, i) => Math.exp(((i * 7919) % 101) / 30)), 0.8471999853162321, 3.1514032560991095e-13],
  ];
  for (const [name, x, w, p] of cases) {
    it(name, () => {
      const r = shapiroWilk(x);
      expect(Math.abs(r.w - w)).toBeLessThan(1e-6);
      expect(rel(r.pValue, p)).toBeLessThan(1e-4);
    });
  }
  it('normal scores are (almost) perfectly normal; order does not matter', () => {
    const z = Array.from({ length: 1000 }, (_, i) => normalQuantile(((((i * 104729) % 1009) / 1009) * 1008 + 0.5) / 1009));
    const r = shapiroWilk(z);
    expect(Math.abs(r.w - 0.9997057494601237)).toBeLessThan(1e-5);
    expect(r.pValue).toBeGreaterThan(0.99);
    expect(shapiroWilk([...z].reverse()).w).toBe(r.w);
  });
  it('rejects what it cannot test', () => {
    expect(() => shapiroWilk([1, 2])).toThrow(RangeError);
    expect(() => shapiroWilk(new Array(5001).fill(0).map((_, i) => i))).toThrow(RangeError);
    expect(() => shapiroWilk([1, Number.NaN, 3])).toThrow(RangeError);
    expect(shapiroWilk([2, 2, 2, 2]).w).toBe(0);
  });
});

describe('standard normal', () => {
  it('upper tail matches scipy.stats.norm.sf', () => {
    const sf: [number, number][] = [[-8, 0.9999999999999993], [-3.3, 0.9995165758576162], [-1, 0.8413447460685429], [0, 0.5], [0.5, 0.3085375387259869], [2, 0.022750131948179195], [6, 9.865876450376946e-10], [9, 1.1285884059538324e-19]];
    for (const [x, p] of sf) expect(rel(normalUpperTail(x), p)).toBeLessThan(1e-8);
  });
  it('quantile matches scipy.stats.norm.ppf', () => {
    const ppf: [number, number][] = [[1e-10, -6.361340902404056], [0.001, -3.090232306167813], [0.02425, -1.972961051311885], [0.3, -0.5244005127080409], [0.5, 0], [0.9, 1.2815515655446004], [0.999999, 4.753424308817087]];
    for (const [p, x] of ppf) expect(Math.abs(normalQuantile(p) - x)).toBeLessThan(1e-8);
  });
});
