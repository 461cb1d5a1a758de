// The Shapiro-Wilk test of normality (Shapiro & Wilk, Biometrika 1965) with Royston's
// approximations for the coefficients and the p-value (Royston, "Remark AS R94", Applied
// Statistics 44(4), 1995), valid for 3 <= n <= 5000. The guard's extraction monitor (after
// PRADA, Juuti et al. 2019) tests whether a client's stream of minimum distances looks normal.
import { normalQuantile, normalUpperTail } from './normal.js';

export const SHAPIRO_MIN_N = 3;
export const SHAPIRO_MAX_N = 5000;

export interface ShapiroWilkResult {
  readonly n: number;
  /** The statistic W in (0, 1]; small W = far from normal. */
  readonly w: number;
  /** P[W' <= W] under normality (Royston 1995). */
  readonly pValue: number;
}

const poly = (c: readonly number[], x: number) => c.reduceRight((acc, ci) => acc * x + ci, 0);

const C1 = [0, 0.221157, -0.147981, -2.07119, 4.434685, -2.706056];
const C2 = [0, 0.042981, -0.293762, -1.752461, 5.682633, -3.582633];
const C3 = [0.544, -0.39978, 0.025054, -6.714e-4];
const C4 = [1.3822, -0.77857, 0.062767, -0.0020322];
const C5 = [-1.5861, -0.31082, -0.083751, 0.0038915];
const C6 = [-0.4803, -0.082676, 0.0030302];
const G = [-2.273, 0.459];

/** Royston's coefficients a_1..a_n for the sorted sample (antisymmetric: a_i = -a_{n+1-i}). */
export function shapiroWilkCoefficients(n: number): Float64Array {
  if (!Number.isSafeInteger(n) || n < SHAPIRO_MIN_N || n > SHAPIRO_MAX_N) throw new RangeError(`Shapiro-Wilk needs ${SHAPIRO_MIN_N} <= n <= ${SHAPIRO_MAX_N}, got ${n}`);
  const a = new Float64Array(n);
  if (n === 3) {
    a[0] = -Math.SQRT1_2;
    a[2] = Math.SQRT1_2;
    return a;
  }
  const m = new Float64Array(n);
  let mm = 0;
  for (let i = 0; i < n; i++) {
    m[i] = normalQuantile((i + 1 - 0.375) / (n + 0.25));
    mm += m[i]! * m[i]!;
  }
  const u = 1 / Math.sqrt(n);
  const an = m[n - 1]! / Math.sqrt(mm) + poly(C1, u);
  a[n - 1] = an;
  a[0] = -an;
  let from: number;
  let phi: number;
  if (n > 5) {
    const an1 = m[n - 2]! / Math.sqrt(mm) + poly(C2, u);
    a[n - 2] = an1;
    a[1] = -an1;
    phi = (mm - 2 * m[n - 1]! ** 2 - 2 * m[n - 2]! ** 2) / (1 - 2 * an ** 2 - 2 * an1 ** 2);
    from = 2;
  } else {
    phi = (mm - 2 * m[n - 1]! ** 2) / (1 - 2 * an ** 2);
    from = 1;
  }
  for (let i = from; i < n - from; i++) a[i] = m[i]! / Math.sqrt(phi);
  return a;
}

// A monitor tests the same n (its window) over and over: n normal quantiles each time was most of a test.
const coefficientCache = new Map<number, Float64Array>();
function cachedCoefficients(n: number): Float64Array {
  let a = coefficientCache.get(n);
  if (!a) {
    a = shapiroWilkCoefficients(n);
    if (coefficientCache.size >= 16) coefficientCache.delete(coefficientCache.keys().next().value!);
    coefficientCache.set(n, a);
  }
  return a;
}

/** W and its p-value for a sample (any order; NaN and infinities are an error). */
export function shapiroWilk(sample: ArrayLike<number>): ShapiroWilkResult {
  const n = sample.length;
  const x = Float64Array.from(sample);
  if (x.some((v) => !Number.isFinite(v))) throw new RangeError('Shapiro-Wilk needs finite values');
  x.sort();
  const a = cachedCoefficients(n);
  const mean = x.reduce((s, v) => s + v, 0) / n;
  let ss = 0;
  let num = 0;
  for (let i = 0; i < n; i++) {
    ss += (x[i]! - mean) ** 2;
    num += a[i]! * x[i]!;
  }
  // A constant sample is as far from a normal law as a sample gets.
  if (!(ss > 0) || x[n - 1]! - x[0]! < 1e-300) return { n, w: 0, pValue: 0 };
  const w = Math.min(1, (num * num) / ss);
  return { n, w, pValue: shapiroWilkPValue(w, n) };
}

/** Royston's (1995) p-value of W for a sample of n. */
export function shapiroWilkPValue(w: number, n: number): number {
  if (n === 3) return Math.max(0, Math.min(1, (6 / Math.PI) * (Math.asin(Math.sqrt(w)) - Math.asin(Math.sqrt(0.75)))));
  let y = Math.log(1 - w);
  let mu: number;
  let sigma: number;
  if (n <= 11) {
    const gamma = poly(G, n);
    if (y >= gamma) return 1e-99;
    y = -Math.log(gamma - y);
    mu = poly(C3, n);
    sigma = Math.exp(poly(C4, n));
  } else {
    const ln = Math.log(n);
    mu = poly(C5, ln);
    sigma = Math.exp(poly(C6, ln));
  }
  return normalUpperTail((y - mu) / sigma);
}
