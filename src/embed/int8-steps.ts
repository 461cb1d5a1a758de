// The training-free change, made to commute with per-tensor symmetric int8 quantization.
//
// int8 rounds every weight to a multiple of s = max|W| / 127. When most of a kernel's weights are
// below s/2 (human-antispoof's dense kernel: 84% of them, and 1,215 of its 3,136 input features
// have no weight above s/2), a change smaller than s/2 on those weights is rounded away entirely:
// the rounding error is not independent of the change, as the margin model assumes, and int8
// flipped 19-21% of the bits. But a change that is a whole multiple of s commutes with the
// rounding, Q(W + k s) = Q(W) + k s, as long as the scale max|W| stays the same. So each
// feature's change, sum over output channels of delta_f c_o, is spread as whole steps over its
// output channels by error diffusion (the running total is rounded, so the feature's mean moves
// by the planned amount to within s / (2 outputs)), never past max|W|. After int8 the mean then
// moves by exactly that amount, and what is left of int8 is the mark-independent rounding noise
// the margin already budgets for.
import { kernelGeometry, type KernelLayout } from '../core/index.js';

/** s = max|W| / 127: the step of per-tensor symmetric int8 (0 for an all-zero kernel). */
export function int8Step(kernel: Float32Array): number {
  let max = 0;
  for (const v of kernel) max = Math.max(max, Math.abs(v));
  return max / 127;
}

/** What per-tensor symmetric int8 quantization (then dequantization) makes of v. */
export function int8RoundTrip(v: Float32Array): Float32Array {
  const s = int8Step(v);
  return s === 0 ? Float32Array.from(v) : v.map((x) => Math.round(x / s) * s);
}

/**
 * `marked` with the change from `original` replaced by whole int8 steps of `original`, feature
 * by feature (error diffusion over output channels), keeping every weight within max|W|.
 */
export function snapChangeToInt8Steps(original: Float32Array, marked: Float32Array, shape: readonly number[], layout: KernelLayout): Float32Array {
  const g = kernelGeometry(shape, layout);
  const s = int8Step(original);
  if (s === 0) return Float32Array.from(marked);
  const max = 127 * s;
  const out = Float32Array.from(original);
  for (let f = 0; f < g.features; f++) {
    let wanted = 0; // planned change so far, in steps
    let placed = 0; // whole steps placed so far
    for (let o = 0; o < g.outputs; o++) {
      const i = g.index(o, f);
      wanted += (marked[i]! - original[i]!) / s;
      let k = Math.abs(original[i]!) >= max ? 0 : Math.round(wanted) - placed; // the largest weight sets the scale: kept
      while (k !== 0 && Math.abs(original[i]! + k * s) > max) k -= Math.sign(k); // the scale must not move
      out[i] = original[i]! + k * s;
      placed += k;
    }
  }
  return out;
}

/** ||a - b|| / ||b||. */
export function relativeChangeOf(marked: Float32Array, original: Float32Array): number {
  let d = 0;
  let n = 0;
  for (let i = 0; i < original.length; i++) {
    d += (marked[i]! - original[i]!) ** 2;
    n += original[i]! ** 2;
  }
  return n > 0 ? Math.sqrt(d / n) : Infinity;
}
