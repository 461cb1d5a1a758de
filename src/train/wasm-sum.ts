/**
 * Sum on wasm over every axis but the last (each bias's gradient: a [B, H, W, C] tensor reduced to
 * [C]) as one pass down the rows, accumulating in float64: in WebAssembly SIMD for a multiple of 4
 * columns (wasm-simd-bias.ts), else in JavaScript. wasm's own kernel transposes the whole tensor
 * first so that the reduced axes come innermost. Every other reduction goes to the
 * backend's own kernel.
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { heapF32, inputsOf, type KernelArgs } from './kernel-util.js';
import { simdColumnSums } from './wasm-simd-bias.js';

export const SUM = 'Sum';

interface Attrs {
  axis: number | number[];
  keepDims: boolean;
}

/** True when `axis` names exactly the axes 0..rank-2 of a tensor of rank `rank` (>= 2). */
export function reducesLeadingAxes(axis: number | number[], rank: number): boolean {
  if (rank < 2) return false;
  const axes = [...new Set((Array.isArray(axis) ? axis : [axis]).map((a) => (a < 0 ? a + rank : a)))].sort((p, q) => p - q);
  return axes.length === rank - 1 && axes.every((a, i) => a === i);
}

/** Wraps the backend's own Sum kernel function. */
export function sumVia(original: tf.KernelFunc): tf.KernelFunc {
  const fast = (args: KernelArgs): tf.TensorInfo | tf.TensorInfo[] => {
    const a = args.attrs as unknown as Attrs;
    const [xInfo] = inputsOf(SUM, args, ['x']);
    if (xInfo!.dtype !== 'float32' || !reducesLeadingAxes(a.axis, xInfo!.shape.length)) {
      return original(args as Parameters<tf.KernelFunc>[0]);
    }
    const backend = args.backend as BackendWasm;
    const shape = xInfo!.shape;
    const c = shape[shape.length - 1]!;
    const outShape = a.keepDims ? shape.map((d, i) => (i === shape.length - 1 ? d : 1)) : [c];
    const outInfo = backend.makeOutput(outShape, 'float32');
    const x = heapF32(backend, xInfo!);
    const out = heapF32(backend, outInfo);
    if (!simdColumnSums(backend, x.byteOffset, out.byteOffset, x.length / c, c)) out.set(columnSums(x, c));
    return outInfo;
  };
  return fast as unknown as tf.KernelFunc;
}

/** Sum of each of the `c` columns of row-major `x`, four rows at a time into float64 partials. */
export function columnSums(x: Float32Array, c: number): Float64Array {
  const acc = new Float64Array(c);
  const step = 4 * c;
  const end = x.length - 3 * c;
  for (let k = 0; k < c; k++) {
    let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    let i = k;
    for (; i < end; i += step) {
      s0 += x[i]!;
      s1 += x[i + c]!;
      s2 += x[i + 2 * c]!;
      s3 += x[i + 3 * c]!;
    }
    for (; i < x.length; i += c) s0 += x[i]!;
    acc[k] = s0 + s1 + s2 + s3;
  }
  return acc;
}
