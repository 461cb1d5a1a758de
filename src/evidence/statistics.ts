// Exact binomial probabilities for the report's plots, in log space so that 256 bits do not
// underflow: pmf(k) = C(n,k) p^k (1-p)^(n-k), tail(m) = P[X >= m].
function logChoose(n: number, k: number): number {
  let s = 0;
  for (let i = 1; i <= k; i++) s += Math.log(n - k + i) - Math.log(i);
  return s;
}

export function binomialPmf(n: number, p: number): number[] {
  const out: number[] = [];
  for (let k = 0; k <= n; k++) {
    const lp = logChoose(n, k) + (k === 0 ? 0 : k * Math.log(p)) + (k === n ? 0 : (n - k) * Math.log1p(-p));
    out.push(Math.exp(lp));
  }
  return out;
}

/** P[X >= m] for X ~ Binomial(n, p). */
export function binomialTail(n: number, p: number, m: number): number {
  if (m <= 0) return 1;
  if (m > n) return 0;
  const logs: number[] = [];
  for (let k = m; k <= n; k++) logs.push(logChoose(n, k) + k * Math.log(p) + (k === n ? 0 : (n - k) * Math.log1p(-p)));
  const top = Math.max(...logs);
  return Math.exp(top) * logs.reduce((s, l) => s + Math.exp(l - top), 0);
}

/** "1 in 10^68" style wording for a probability, for people who are not statisticians. */
export function describeOdds(p: number): string {
  if (!(p > 0)) return 'effectively zero (below what a computer number can hold)';
  if (p >= 0.01) return `${(p * 100).toFixed(1)}%`;
  const e = Math.floor(-Math.log10(p));
  return `about 1 in 10^${e}`;
}
