// Training-free weight watermark, for a model we cannot fine-tune: the smallest change to w (the
// kernel's output-channel mean) such that every bit reads correctly with a margin,
//
//   minimise ||delta||  subject to  s_i X_i . (w + delta) >= m  for all i,  s_i = 2 b_i - 1,
//
// a quadratic programme whose solution lies in the span of the rows: delta = sum_i l_i s_i X_i
// with l >= 0. We solve it with Hildreth's row-action method (coordinate ascent on the dual,
// which converges to the minimum-norm point; Hildreth 1957, Censor & Zenios 1997 §6.3): each
// step projects onto one violated half-space and gives back what it over-corrected.
// delta is then added to every output channel of the kernel, which moves the mean by exactly
// delta, and the margins are re-measured on the float32 result. To finish in finitely many
// sweeps we aim 2% above m and stop near the optimum of that aim (tolerance 1% of m).
import { CoreError } from './errors.js';
import { addOverOutputChannels, kernelGeometry, meanOverOutputChannels, type KernelLayout } from './kernel-layout.js';
import { bitMargins, compareBits, extractBits, type ProjectionMatrix } from './uchida.js';

export interface TrainingFreeInput {
  readonly kernel: Float32Array;
  readonly shape: readonly number[];
  readonly layout: KernelLayout;
  readonly projection: ProjectionMatrix;
  readonly bits: Uint8Array;
  /** Required signed margin s_i (X w)_i for every bit; see suggestMargin. */
  readonly margin: number;
  /** Sweeps over all rows before giving up (default 5000). */
  readonly maxSweeps?: number;
  /**
   * Q^-1 for the metric the change is measured in: minimise delta^T Q delta instead of |delta|^2.
   * With Q the second moment of the layer's input (from calibration activations), the change goes
   * to the input directions the model does not use, so the layer's outputs move least.
   */
  readonly applyInverseMetric?: (v: Float64Array) => Float64Array;
  /**
   * How much of delta each output channel takes (mean 1; default all 1). Channel o gets
   * weights[o] * delta, so the output-channel mean still moves by exactly delta.
   */
  readonly channelWeights?: Float64Array;
}

export interface TrainingFreeResult {
  /** The marked kernel, same shape and layout. */
  readonly kernel: Float32Array;
  /** The change made to w. */
  readonly delta: Float64Array;
  readonly marginBefore: number;
  /** Smallest signed margin of the marked float32 kernel (>= the requested margin). */
  readonly marginAfter: number;
  readonly bitErrorsBefore: number;
  readonly kernelNorm: number;
  readonly kernelChangeNorm: number;
  /** kernelChangeNorm / kernelNorm. */
  readonly relativeChange: number;
  readonly sweeps: number;
}

const norm = (a: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * a[i]!;
  return Math.sqrt(s);
};
const minOf = (a: Float64Array) => a.reduce((m, v) => Math.min(m, v), Infinity);

/**
 * A margin scaled to the kernel: i.i.d. Gaussian noise of standard deviation
 * strength * rms(kernel) on every weight moves each (X w)_i by one margin at one standard
 * deviation (its standard deviation is sigma * sqrt(M / outputs) for standard normal X).
 */
export function suggestMargin(kernel: Float32Array, shape: readonly number[], layout: KernelLayout, strength = 1): number {
  const g = kernelGeometry(shape, layout);
  if (!(strength > 0)) throw new RangeError(`strength must be > 0, got ${strength}`);
  const rms = norm(kernel) / Math.sqrt(kernel.length);
  return strength * rms * Math.sqrt(g.features / g.outputs);
}

/** The minimum-norm change to a kernel that makes it carry `bits` with `margin` (see above). */
export function embedWeightMarkTrainingFree(input: TrainingFreeInput): TrainingFreeResult {
  const { kernel, shape, layout, projection: x, bits, margin } = input;
  const maxSweeps = input.maxSweeps ?? 5000;
  if (!(margin > 0) || !Number.isFinite(margin)) throw new RangeError(`margin must be a finite number > 0, got ${margin}`);
  const w = meanOverOutputChannels(kernel, shape, layout);
  const before = bitMargins(x, w, bits); // checks the sizes
  const { rows: t, cols: m, data } = x;
  const sign = Float64Array.from(bits, (b) => (b & 1 ? 1 : -1));
  // Hildreth in the metric Q: project along Z_i = Q^-1 X_i, normalised by X_i . Z_i.
  const dir = input.applyInverseMetric ? new Float64Array(t * m) : data;
  const rowNorm2 = new Float64Array(t);
  for (let i = 0; i < t; i++) {
    const xi = data.subarray(i * m, (i + 1) * m);
    if (input.applyInverseMetric) {
      const z = input.applyInverseMetric(Float64Array.from(xi));
      (dir as Float64Array).set(z, i * m);
      let s = 0;
      for (let j = 0; j < m; j++) s += xi[j]! * z[j]!;
      rowNorm2[i] = s;
    } else rowNorm2[i] = norm(xi) ** 2;
  }
  const delta = new Float64Array(m);
  const lambda = new Float64Array(t);
  let target = margin * 1.02;
  let sweeps = 0;
  let marked = kernel;
  let after = before;

  const rowDot = (i: number, v: Float64Array) => {
    let s = 0;
    const base = i * m;
    for (let j = 0; j < m; j++) s += data[base + j]! * v[j]!;
    return s;
  };

  while (minOf(after) < margin) {
    if (sweeps >= maxSweeps) {
      throw new CoreError(
        'CORE_EMBED_INFEASIBLE',
        `no change found in ${maxSweeps} sweeps that gives all ${t} bits a margin of ${margin.toPrecision(3)} (smallest reached ${minOf(after).toPrecision(3)}); choose a layer with more features than bits (M = ${m}) or a smaller margin`,
      );
    }
    sweeps++;
    for (let i = 0; i < t; i++) {
      if (rowNorm2[i] === 0) continue;
      const current = before[i]! + sign[i]! * rowDot(i, delta);
      const next = Math.max(0, lambda[i]! + (target - current) / rowNorm2[i]!);
      const step = (next - lambda[i]!) * sign[i]!;
      if (step === 0) continue;
      lambda[i] = next;
      const base = i * m;
      for (let j = 0; j < m; j++) delta[j] = delta[j]! + step * dir[base + j]!;
    }
    // Stop at an approximate KKT point of the aimed problem: every margin within 1% of m of
    // the aim or above it, and every constraint that pushes (l_i > 0) within 1% of m of tight.
    // Being merely feasible is not enough: early iterates overshoot the minimum norm.
    const tol = 0.01 * margin;
    let ok = true;
    for (let i = 0; i < t && ok; i++) {
      const slack = before[i]! + sign[i]! * rowDot(i, delta) - target;
      ok = slack >= -tol && (lambda[i] === 0 || slack <= tol);
    }
    if (!ok) continue;
    marked = addOverOutputChannels(kernel, shape, layout, delta, input.channelWeights);
    after = bitMargins(x, meanOverOutputChannels(marked, shape, layout), bits);
    if (minOf(after) < margin) target *= 1.01; // float32 rounding ate the slack: aim higher
  }
  let change2 = 0;
  for (let i = 0; i < kernel.length; i++) change2 += (marked[i]! - kernel[i]!) ** 2;
  const kernelNorm = norm(kernel);
  const kernelChangeNorm = Math.sqrt(change2);
  return {
    kernel: marked === kernel ? Float32Array.from(kernel) : marked,
    delta,
    marginBefore: minOf(before),
    marginAfter: minOf(after),
    bitErrorsBefore: compareBits(bits, extractBits(x, w)).errors,
    kernelNorm,
    kernelChangeNorm,
    relativeChange: kernelNorm > 0 ? kernelChangeNorm / kernelNorm : Infinity,
    sweeps,
  };
}
