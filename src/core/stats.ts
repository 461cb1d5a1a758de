// Exact binomial tails for the ownership decision. Under the null hypothesis (the suspect was
// not marked with our key) each of n checks agrees with our secret by chance with probability p,
// independently, so the number of agreements is Binomial(n, p) and the p-value of k agreements
// is P[X >= k]. Computed in log space so that p-values far below 1e-300 keep their exponent.

const LANCZOS_G = 7;
// Lanczos coefficients for g = 7, n = 9 (Numerical Recipes / Godfrey), about 15 digits.
const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
  12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];
const LOG_SQRT_2PI = 0.5 * Math.log(2 * Math.PI);
/** Terms more than e^-45 below the largest add less than 1e-19 relative: stop there. */
const NEGLIGIBLE = -45;
export const MAX_TRIALS = 1_000_000;

/** ln Γ(x) for x > 0 (Lanczos approximation, relative error about 1e-15). */
export function logGamma(x: number): number {
  if (!(x > 0) || !Number.isFinite(x)) throw new RangeError(`logGamma needs a finite x > 0, got ${x}`);
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x); // reflection
  const z = x - 1;
  let a = LANCZOS[0]!;
  const t = z + LANCZOS_G + 0.5;
  for (let i = 1; i < LANCZOS.length; i++) a += LANCZOS[i]! / (z + i);
  return LOG_SQRT_2PI + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

function checkTrials(n: number, p: number): void {
  if (!Number.isSafeInteger(n) || n < 0 || n > MAX_TRIALS) throw new RangeError(`trials must be an integer in [0, ${MAX_TRIALS}], got ${n}`);
  if (!(p >= 0 && p <= 1)) throw new RangeError(`probability must be in [0, 1], got ${p}`);
}

/** ln P[X = k] for X ~ Binomial(n, p). */
export function logBinomialPmf(k: number, n: number, p: number): number {
  checkTrials(n, p);
  if (!Number.isInteger(k) || k < 0 || k > n) return -Infinity;
  if (p === 0) return k === 0 ? 0 : -Infinity;
  if (p === 1) return k === n ? 0 : -Infinity;
  const logChoose = logGamma(n + 1) - logGamma(k + 1) - logGamma(n - k + 1);
  return logChoose + k * Math.log(p) + (n - k) * Math.log1p(-p);
}

/** ln P[X >= k] for X ~ Binomial(n, p); -Infinity when k > n. */
export function logBinomialUpperTail(k: number, n: number, p: number): number {
  checkTrials(n, p);
  if (!Number.isInteger(k)) throw new RangeError(`k must be an integer, got ${k}`);
  if (k <= 0) return 0;
  if (k > n) return -Infinity;
  // Terms rise up to the mode then fall; sum from k with log-sum-exp, stopping once past the
  // mode the terms no longer matter.
  const mode = Math.floor((n + 1) * p);
  const logs: number[] = [];
  let max = -Infinity;
  for (let j = k; j <= n; j++) {
    const l = logBinomialPmf(j, n, p);
    logs.push(l);
    if (l > max) max = l;
    if (j > mode && l - max < NEGLIGIBLE) break;
  }
  if (max === -Infinity) return -Infinity;
  let s = 0;
  for (const l of logs) s += Math.exp(l - max);
  return Math.min(0, max + Math.log(s));
}

/** P[X >= k] for X ~ Binomial(n, p); underflows to 0 below ~1e-308 (use the log form there). */
export function binomialUpperTail(k: number, n: number, p: number): number {
  return Math.exp(logBinomialUpperTail(k, n, p));
}

/**
 * The per-trigger chance of agreement under the null: 1/C when labels are uniform over C
 * classes and independent of the suspect, raised to the calibrated agreement rate of
 * independently trained unmarked models when that is higher (never lowered by it).
 */
export function chanceRate(options: { classes: number; calibratedNullRate?: number }): number {
  const { classes, calibratedNullRate } = options;
  if (!Number.isSafeInteger(classes) || classes < 2) throw new RangeError(`classes must be an integer >= 2, got ${classes}`);
  if (calibratedNullRate === undefined) return 1 / classes;
  if (!(calibratedNullRate >= 0 && calibratedNullRate <= 1)) throw new RangeError(`calibrated null rate must be in [0, 1], got ${calibratedNullRate}`);
  return Math.max(1 / classes, calibratedNullRate);
}

export const DEFAULT_ALPHA = 1e-6;

export interface Decision {
  /** True only when the p-value is strictly below alpha. */
  readonly owned: boolean;
  readonly pValue: number;
  /** log10 of the p-value; exact where pValue underflows to 0. */
  readonly log10PValue: number;
  readonly alpha: number;
}

/** The ownership decision: owned iff p < alpha (compared in log space). */
export function decide(input: { pValue?: number; logPValue?: number; alpha?: number }): Decision {
  const alpha = input.alpha ?? DEFAULT_ALPHA;
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`alpha must be in (0, 1), got ${alpha}`);
  if (input.logPValue !== undefined) {
    const logP = input.logPValue;
    if (!(logP <= 0)) throw new RangeError(`log p-value must be <= 0, got ${logP}`);
    return { owned: logP < Math.log(alpha), pValue: Math.exp(logP), log10PValue: logP / Math.LN10, alpha };
  }
  const p = input.pValue;
  if (p === undefined || !(p >= 0 && p <= 1)) throw new RangeError('decide needs a p-value in [0, 1] (pValue or logPValue)');
  return { owned: p < alpha, pValue: p, log10PValue: Math.log10(p), alpha };
}

export interface MatchAssessment extends Decision {
  readonly matches: number;
  readonly trials: number;
  /** Per-trial probability of a chance match under the null. */
  readonly chance: number;
  /** Matches expected by chance: trials * chance. */
  readonly expected: number;
}

/** Binomial test of `matches` out of `trials` against `chance`, and the decision at alpha. */
export function assessMatches(input: { matches: number; trials: number; chance: number; alpha?: number }): MatchAssessment {
  const { matches, trials, chance } = input;
  checkTrials(trials, chance);
  if (!Number.isSafeInteger(matches) || matches < 0 || matches > trials) throw new RangeError(`matches must be an integer in [0, trials], got ${matches}`);
  const d = decide({ logPValue: logBinomialUpperTail(matches, trials, chance), ...(input.alpha === undefined ? {} : { alpha: input.alpha }) });
  return { ...d, matches, trials, chance, expected: trials * chance };
}
