// Attacks on the weights alone (no data, no training), as a thief who wants a smaller or
// "different" model does them. Each works on one tensor's values and returns a new array:
//
// - magnitude pruning (Han et al. 2015): the `fraction` of weights with the smallest |w| set to 0
//   (exactly floor(fraction * n) of them; ties broken by position, so the result is deterministic);
// - uniform symmetric quantisation to `bits` bits per tensor: w -> round(w / s) * s with
//   s = max|w| / (2^(bits-1) - 1), so at most 2^bits - 1 distinct values (int8: 255);
// - Gaussian noise: w + N(0, (sigma * std(w))^2), from a seeded generator so runs repeat.
import { createPrng } from '../core/index.js';

function checkFraction(f: number, what: string): void {
  if (typeof f !== 'number' || !(f >= 0 && f <= 1)) throw new RangeError(`${what} must be in [0, 1], got ${f}`);
}

export function pruneByMagnitude(values: Float32Array, fraction: number): Float32Array {
  checkFraction(fraction, 'pruning fraction');
  const n = values.length;
  const k = Math.floor(fraction * n);
  const out = Float32Array.from(values);
  if (k === 0) return out;
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  order.sort((a, b) => Math.abs(values[a]!) - Math.abs(values[b]!) || a - b);
  for (let i = 0; i < k; i++) out[order[i]!] = 0;
  return out;
}

export function quantizeUniform(values: Float32Array, bits: number): Float32Array {
  if (!Number.isSafeInteger(bits) || bits < 2 || bits > 16) throw new RangeError(`quantisation bits must be an integer in [2, 16], got ${bits}`);
  let max = 0;
  for (const v of values) max = Math.max(max, Math.abs(v));
  const levels = 2 ** (bits - 1) - 1;
  if (max === 0) return Float32Array.from(values);
  const s = max / levels;
  return values.map((v) => Math.max(-levels, Math.min(levels, Math.round(v / s))) * s);
}

export function addGaussianNoise(values: Float32Array, sigma: number, seed: Uint8Array): Float32Array {
  if (typeof sigma !== 'number' || !(sigma >= 0) || !Number.isFinite(sigma)) throw new RangeError(`noise sigma must be a finite number >= 0, got ${sigma}`);
  let mean = 0;
  for (const v of values) mean += v;
  mean /= values.length || 1;
  let variance = 0;
  for (const v of values) variance += (v - mean) ** 2;
  const std = Math.sqrt(variance / (values.length || 1));
  const noise = new Float32Array(values.length);
  createPrng(seed).fillGaussian(noise);
  return values.map((v, i) => v + sigma * std * noise[i]!);
}

/** Distinct values of a tensor (the quantisation test counts them). */
export function countDistinct(values: Float32Array): number {
  return new Set(values).size;
}
