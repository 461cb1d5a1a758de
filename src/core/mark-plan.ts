// How many bits and which margin a training-free weight mark needs, from a detection target
// rather than fixed numbers, and the input-covariance metric that keeps the change away from the
// directions a layer uses. Pure.
//
// Bits: the smallest T for which a verifier that sees up to `tolerance` of the bits flipped (by
// quantization, casting, noise) still decides at alpha after a Bonferroni correction over
// `candidates` tensors: log10(candidates * P[Binomial(T, 1/2) >= T - floor(tolerance T)]) <= log10(alpha) - safety.
// Margin: every bit's margin s_i X_i w must exceed z standard deviations of what the attacks we
// plan for add to X_i w: weight noise of `noise` times the kernel's rms, and int8 rounding
// (step max|W| / 127, uniform, sd step / sqrt 12), each averaged over the `outputs` channels.
import { kernelGeometry, type KernelLayout } from './kernel-layout.js';
import { assessMatches } from './stats.js';

export interface DetectionTarget {
  /** Significance the mark must reach (default 1e-6). */
  readonly alpha: number;
  /** Fraction of bits an attack may flip and the mark still decide (default 0.1). */
  readonly tolerance: number;
  /** Orders of magnitude kept below alpha (default 2). */
  readonly safety: number;
  /** Relative Gaussian weight noise the mark must survive (default 0.01). */
  readonly noise: number;
  /** Standard deviations of attack noise each margin must exceed (default 4). */
  readonly z: number;
}

export const DEFAULT_DETECTION_TARGET: DetectionTarget = { alpha: 1e-6, tolerance: 0.1, safety: 2, noise: 0.01, z: 4 };

/** Smallest number of bits (16..1024) that meets the target with `candidates` tensors tried. */
export function bitsForTarget(target: DetectionTarget, candidates: number): number {
  const k = Math.max(1, candidates);
  for (let t = 16; t <= 1024; t += 8) {
    const matches = t - Math.floor(target.tolerance * t);
    const a = assessMatches({ matches, trials: t, chance: 0.5 });
    if (a.log10PValue + Math.log10(k) <= Math.log10(target.alpha) - target.safety) return t;
  }
  return 1024;
}

/** The margin each bit needs to survive the target's attacks with z standard deviations to spare. */
export function marginForTarget(kernel: Float32Array, shape: readonly number[], layout: KernelLayout, target: DetectionTarget): number {
  const g = kernelGeometry(shape, layout);
  let s2 = 0;
  let max = 0;
  for (const v of kernel) {
    s2 += v * v;
    max = Math.max(max, Math.abs(v));
  }
  const rms = Math.sqrt(s2 / kernel.length);
  const sdNoise = target.noise * rms;
  const sdInt8 = max / 127 / Math.sqrt(12);
  const sdWeight = Math.sqrt(sdNoise ** 2 + sdInt8 ** 2);
  return target.z * sdWeight * Math.sqrt(g.features / g.outputs);
}

/**
 * Q^-1 for Q = I_(kh kw) (x) (S + eps I), S the cin x cin second moment of the layer's input
 * channels (features in canonical (h, w, c) order). eps = 1e-2 mean(diag S) keeps Q invertible
 * and bounds how far the change may lean on unused channels. Returns v -> Q^-1 v.
 */
export function inverseChannelMetric(secondMoment: Float64Array, channels: number, features: number): (v: Float64Array) => Float64Array {
  if (secondMoment.length !== channels * channels) throw new RangeError(`second moment has ${secondMoment.length} entries for ${channels} channels`);
  if (features % channels !== 0) throw new RangeError(`${features} features are not a multiple of ${channels} channels`);
  let tr = 0;
  for (let c = 0; c < channels; c++) tr += secondMoment[c * channels + c]!;
  const eps = Math.max(1e-2 * (tr / channels), 1e-12);
  const l = cholesky(secondMoment, channels, eps);
  return (v) => {
    const out = new Float64Array(v.length);
    for (let b = 0; b < features / channels; b++) out.set(choleskySolve(l, channels, v.subarray(b * channels, (b + 1) * channels)), b * channels);
    return out;
  };
}

function cholesky(a: Float64Array, n: number, eps: number): Float64Array {
  const l = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = a[i * n + j]! + (i === j ? eps : 0);
      for (let k = 0; k < j; k++) s -= l[i * n + k]! * l[j * n + k]!;
      l[i * n + j] = i === j ? Math.sqrt(Math.max(s, eps * 1e-6)) : s / l[j * n + j]!;
    }
  }
  return l;
}

function choleskySolve(l: Float64Array, n: number, b: Float64Array): Float64Array {
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = b[i]!;
    for (let k = 0; k < i; k++) s -= l[i * n + k]! * y[k]!;
    y[i] = s / l[i * n + i]!;
  }
  const x = new Float64Array(n);
  for (let i = n - 1; i >= 0; i--) {
    let s = y[i]!;
    for (let k = i + 1; k < n; k++) s -= l[k * n + i]! * x[k]!;
    x[i] = s / l[i * n + i]!;
  }
  return x;
}

/**
 * Channel weights c_o proportional to each output channel's squared rms, with mean 1: the
 * change each channel takes is then the same fraction of its own weights (the spread that
 * minimises the sum of squared relative changes), instead of swamping small channels.
 */
export function channelWeightsByScale(kernel: Float32Array, shape: readonly number[], layout: KernelLayout): Float64Array {
  const g = kernelGeometry(shape, layout);
  const e = new Float64Array(g.outputs);
  for (let o = 0; o < g.outputs; o++) for (let f = 0; f < g.features; f++) e[o] = e[o]! + kernel[g.index(o, f)]! ** 2;
  const mean = e.reduce((a, b) => a + b, 0) / g.outputs;
  return mean > 0 ? e.map((v) => v / mean) : e.fill(1);
}
