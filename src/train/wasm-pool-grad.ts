/**
 * MaxPoolGrad and AvgPoolGrad on wasm as single passes over the tensors' memory in the wasm heap,
 * channels innermost (NHWC), instead of wasm's own kernels, which revisit every window once per
 * input pixel. MaxPoolGrad's most common case (a 2x2 stride-2 pool tiling its input, channels a
 * multiple of 4) runs as WebAssembly SIMD in the same heap (wasm-simd-pool.ts). Semantics are the
 * cpu backend's: the gradient of a max goes to the first maximum of
 * the window in row-major order (none when the window holds only NaN or -Infinity); an average's
 * gradient is divided by the full window size, padding included (as tfjs-core defines AvgPoolGrad).
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { heapF32, inputsOf, type KernelArgs } from './kernel-util.js';
import { simdPoolGrad2x2 } from './wasm-simd-pool.js';

export const MAX_POOL_GRAD = 'MaxPoolGrad';
export const AVG_POOL_GRAD = 'AvgPoolGrad';

interface PoolAttrs {
  filterSize: [number, number] | number;
  strides: [number, number] | number;
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

export function maxPoolGrad(args: KernelArgs): tf.TensorInfo {
  const [dyInfo, xInfo] = inputsOf(MAX_POOL_GRAD, args, ['dy', 'input']);
  const backend = args.backend as BackendWasm;
  const a = args.attrs as unknown as PoolAttrs;
  const info = tf.backend_util.computePool2DInfo(xInfo!.shape as [number, number, number, number], a.filterSize, a.strides, 1, a.pad, a.dimRoundingMode);
  const dxInfo = backend.makeOutput(xInfo!.shape, 'float32');
  const x = heapF32(backend, xInfo!);
  const dy = heapF32(backend, dyInfo!);
  const dx = heapF32(backend, dxInfo);
  const { batchSize, inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW } = info;
  const { strideHeight: sh, strideWidth: sw, filterHeight: fh, filterWidth: fw } = info;
  const { top, left } = info.padInfo;
  if (fh === 2 && fw === 2 && sh === 2 && sw === 2 && top === 0 && left === 0 && H === 2 * OH && W === 2 * OW) {
    // The SIMD code reads and writes the heap by these shapes, unchecked: dy must be the pool's output.
    if (dy.length !== batchSize * OH * OW * C) throw new TypeError(`MaxPoolGrad: dy has ${dy.length} values, the pool's output ${batchSize * OH * OW * C}`);
    const simd = C % 4 === 0 && dx.length > 0 ? simdPoolGrad2x2(backend) : undefined;
    if (simd) simd(x.byteOffset, dy.byteOffset, dx.byteOffset, batchSize * OH, OW, C);
    else maxPoolGrad2x2(x, dy, dx, batchSize * OH, OW, C);
    return dxInfo;
  }
  dx.fill(0);
  for (let b = 0; b < batchSize; b++) {
    const xBase = b * H * W * C;
    for (let oy = 0; oy < OH; oy++) {
      const r0 = Math.max(0, oy * sh - top);
      const r1 = Math.min(H, oy * sh - top + fh);
      for (let ox = 0; ox < OW; ox++) {
        const c0 = Math.max(0, ox * sw - left);
        const c1 = Math.min(W, ox * sw - left + fw);
        const q = ((b * OH + oy) * OW + ox) * C;
        const first = xBase + (r0 * W + c0) * C;
        // The common 2x2 window fully inside the input, unrolled; -Infinity start and strict > keep
        // the cpu backend's answer for NaN and -Infinity windows.
        if (r1 - r0 === 2 && c1 - c0 === 2) {
          const right = C;
          const down = W * C;
          for (let ch = 0; ch < C; ch++) {
            const p0 = first + ch;
            let best = -Infinity;
            let at = -1;
            let v = x[p0]!;
            if (v > best) { best = v; at = p0; }
            v = x[p0 + right]!;
            if (v > best) { best = v; at = p0 + right; }
            v = x[p0 + down]!;
            if (v > best) { best = v; at = p0 + down; }
            v = x[p0 + down + right]!;
            if (v > best) at = p0 + down + right;
            if (at >= 0) dx[at] = dx[at]! + dy[q + ch]!;
          }
          continue;
        }
        for (let ch = 0; ch < C; ch++) {
          let best = -Infinity;
          let at = -1;
          for (let r = r0; r < r1; r++) {
            for (let col = c0; col < c1; col++) {
              const p = xBase + (r * W + col) * C + ch;
              const v = x[p]!;
              if (v > best) {
                best = v;
                at = p;
              }
            }
          }
          if (at >= 0) dx[at] = dx[at]! + dy[q + ch]!;
        }
      }
    }
  }
  return dxInfo;
}

/**
 * The common 2x2 stride-2 pool over an input of exactly twice the output size: windows tile the
 * input, so every input value is written once (its window's gradient or 0), without a clearing
 * pass. `rows` counts output rows over the whole batch (B * OH).
 */
function maxPoolGrad2x2(x: Float32Array, dy: Float32Array, dx: Float32Array, rows: number, OW: number, C: number): void {
  const right = C;
  const down = 2 * OW * C;
  let q = 0;
  for (let row = 0; row < rows; row++) {
    let p = row * 2 * down;
    for (let ox = 0; ox < OW; ox++, p += 2 * C) {
      for (let ch = 0; ch < C; ch++, q++) {
        const p0 = p + ch;
        const a = x[p0]!;
        const b = x[p0 + right]!;
        const c = x[p0 + down]!;
        const d = x[p0 + down + right]!;
        // The first maximum in row-major order, as the cpu backend picks it; a window of only NaN
        // or -Infinity gets no gradient (strict > against a -Infinity start).
        let best = -Infinity;
        let at = -1;
        if (a > best) { best = a; at = 0; }
        if (b > best) { best = b; at = 1; }
        if (c > best) { best = c; at = 2; }
        if (d > best) at = 3;
        const g = dy[q]!;
        dx[p0] = at === 0 ? g : 0;
        dx[p0 + right] = at === 1 ? g : 0;
        dx[p0 + down] = at === 2 ? g : 0;
        dx[p0 + down + right] = at === 3 ? g : 0;
      }
    }
  }
}

export function avgPoolGrad(args: KernelArgs): tf.TensorInfo {
  const [dyInfo, xInfo] = inputsOf(AVG_POOL_GRAD, args, ['dy', 'input']);
  const backend = args.backend as BackendWasm;
  const a = args.attrs as unknown as PoolAttrs;
  const info = tf.backend_util.computePool2DInfo(xInfo!.shape as [number, number, number, number], a.filterSize, a.strides, 1, a.pad);
  const dxInfo = backend.makeOutput(xInfo!.shape, 'float32');
  const dy = heapF32(backend, dyInfo!);
  const dx = heapF32(backend, dxInfo);
  dx.fill(0);
  const { batchSize, inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW } = info;
  const { strideHeight: sh, strideWidth: sw, filterHeight: fh, filterWidth: fw } = info;
  const { top, left } = info.padInfo;
  const scale = 1 / (fh * fw);
  for (let b = 0; b < batchSize; b++) {
    const xBase = b * H * W * C;
    for (let oy = 0; oy < OH; oy++) {
      const r0 = Math.max(0, oy * sh - top);
      const r1 = Math.min(H, oy * sh - top + fh);
      for (let ox = 0; ox < OW; ox++) {
        const c0 = Math.max(0, ox * sw - left);
        const c1 = Math.min(W, ox * sw - left + fw);
        const q = ((b * OH + oy) * OW + ox) * C;
        for (let r = r0; r < r1; r++) {
          for (let col = c0; col < c1; col++) {
            const p = xBase + (r * W + col) * C;
            for (let ch = 0; ch < C; ch++) dx[p + ch] = dx[p + ch]! + dy[q + ch]! * scale;
          }
        }
      }
    }
  }
  return dxInfo;
}
