/**
 * BatchMatMul on wasm with transposed operands (every dense layer's two gradients): wasm runs
 * those on a slow loop, but its non-transposed path on XNNPACK. A single product with one
 * transposed operand whose shape fits the SIMD tiles of wasm-simd-matmul.ts runs there, reading
 * the operands in place (2-2.5x the transpose-then-XNNPACK form); any other is
 * an explicit (XNNPACK) transpose first, about 5x faster than wasm's loop. Plain products go
 * straight to the backend's own kernel.
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { heapF32, inputsOf, withTensors, type KernelArgs } from './kernel-util.js';
import { simdMatMulAtB, simdMatMulAtBt } from './wasm-simd-matmul.js';

export const BATCH_MAT_MUL = 'BatchMatMul';

interface Attrs {
  transposeA: boolean;
  transposeB: boolean;
}

/** Swaps the last two axes. */
const swap = (t: tf.Tensor) => tf.transpose(t, [...t.shape.keys()].map((i, _, all) => (i < all.length - 2 ? i : 2 * all.length - 3 - i)));
const count = (shape: readonly number[]) => shape.reduce((n, d) => n * d, 1);

/**
 * Wraps the backend's own BatchMatMul kernel function. op(A) op(B) is computed either as that, with
 * the transposed operands transposed first, or as (op(B)^T op(A)^T)^T, which transposes the other
 * operands and the result instead: whichever moves fewer values. The watermark loss's gradient,
 * X^T dy with a 256 x 1568 projection X and a 256 x 1 dy, then transposes two vectors instead of X.
 */
export function batchMatMulVia(original: tf.KernelFunc): tf.KernelFunc {
  const fast = (args: KernelArgs): tf.TensorInfo | tf.TensorInfo[] => {
    const a = args.attrs as unknown as Attrs;
    if (!a.transposeA && !a.transposeB) return original(args as Parameters<tf.KernelFunc>[0]);
    const [aInfo, bInfo] = inputsOf(BATCH_MAT_MUL, args, ['a', 'b']);
    const backend = args.backend as BackendWasm;
    const small = smallProduct(backend, aInfo!, bInfo!, a.transposeA, a.transposeB);
    if (small) return small;
    const tiled = a.transposeA !== a.transposeB ? simdProduct(backend, aInfo!, bInfo!, a.transposeA) : undefined;
    if (tiled) return tiled;
    return withTensors(args.backend, [aInfo!, bInfo!], ([x, y]) => {
      const [sa, sb] = [count(x!.shape), count(y!.shape)];
      const direct = (a.transposeA ? sa : 0) + (a.transposeB ? sb : 0);
      const rows = x!.shape[x!.rank - (a.transposeA ? 1 : 2)]!;
      const cols = y!.shape[y!.rank - (a.transposeB ? 2 : 1)]!;
      const batch = Math.max(count(x!.shape.slice(0, -2)), count(y!.shape.slice(0, -2)));
      const reversed = (a.transposeA ? 0 : sa) + (a.transposeB ? 0 : sb) + batch * rows * cols;
      if (reversed < direct) return swap(tf.matMul(a.transposeB ? y! : swap(y!), a.transposeA ? x! : swap(x!)));
      return tf.matMul(a.transposeA ? swap(x!) : x!, a.transposeB ? swap(y!) : y!);
    });
  };
  return fast as unknown as tf.KernelFunc;
}

/** Products up to this many multiply-adds with a transposed operand run in JavaScript (`smallProduct`). */
export const SMALL_PRODUCT = 1 << 15;

/** The product's shape: [..., 1, M, N] with as many batch axes as the longer input. */
const productShape = (a: tf.TensorInfo, b: tf.TensorInfo, m: number, n: number) => [...new Array<number>(Math.max(a.shape.length, b.shape.length) - 2).fill(1), m, n];

/** [rows, cols] of a float32 matrix input whose batch axes are all 1, else undefined. */
function matrixDims(info: tf.TensorInfo): [number, number] | undefined {
  const s = info.shape;
  if (info.dtype !== 'float32' || s.length < 2 || count(s.slice(0, -2)) !== 1) return undefined;
  return [s[s.length - 2]!, s[s.length - 1]!];
}

/**
 * op(A) op(B) of one pair of small matrices (a last dense layer's gradients: 32 x 64 x 10) as a
 * loop over the heap in float32 arithmetic, k in order, rounded after each multiply and add as
 * the SIMD and XNNPACK forms are: the nested transposes and kernels of the other paths cost
 * 0.07-0.11 ms for 20,000 multiply-adds. Undefined where it does not apply.
 */
function smallProduct(backend: BackendWasm, aInfo: tf.TensorInfo, bInfo: tf.TensorInfo, ta: boolean, tb: boolean): tf.TensorInfo | undefined {
  const ad = matrixDims(aInfo);
  const bd = matrixDims(bInfo);
  if (!ad || !bd) return undefined;
  const [m, k] = ta ? [ad[1], ad[0]] : ad;
  const [kb, n] = tb ? [bd[1], bd[0]] : bd;
  if (kb !== k || m * n * k > SMALL_PRODUCT || m * n === 0) return undefined;
  const out = backend.makeOutput(productShape(aInfo, bInfo, m, n), 'float32');
  const [x, y, c] = [heapF32(backend, aInfo), heapF32(backend, bInfo), heapF32(backend, out)];
  // Element (i, p) of op(A) is at i * ai + p * ap; (p, j) of op(B) at p * bp + j * bj.
  const [ai, ap] = ta ? [1, m] : [k, 1];
  const [bp, bj] = tb ? [1, k] : [n, 1];
  const f = Math.fround;
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let acc = 0;
      for (let p = 0; p < k; p++) acc = f(acc + f(x[i * ai + p * ap]! * y[p * bp + j * bj]!));
      c[i * n + j] = acc;
    }
  }
  return out;
}

/**
 * A^T B or A B^T of one pair of float32 matrices (batch axes all 1) through the SIMD tiles, or
 * undefined where they do not apply (the caller's path runs).
 */
function simdProduct(backend: BackendWasm, aInfo: tf.TensorInfo, bInfo: tf.TensorInfo, transposeA: boolean): tf.TensorInfo | undefined {
  const ad = matrixDims(aInfo);
  const bd = matrixDims(bInfo);
  if (!ad || !bd) return undefined;
  const [[ar, ac], [br, bc]] = [ad, bd];
  // A^T B: A [K, M], B [K, N]. A B^T: A [M, K], B [N, K].
  const [m, n, k] = transposeA ? [ac, bc, ar] : [ar, br, ac];
  if ((transposeA ? br : bc) !== k || m % 8 !== 0 || n % 4 !== 0 || k === 0) return undefined;
  const outShape = productShape(aInfo, bInfo, m, n);
  // A B^T reads A transposed (M x K values, small beside the M x N x K product).
  const at = transposeA ? undefined : tf.tidy(() => tf.transpose(asMatrix(backend, aInfo, m, k)));
  const out = backend.makeOutput(outShape, 'float32');
  // Addresses after every allocation: a growing heap detaches earlier views.
  const addr = (t: tf.TensorInfo) => heapF32(backend, t).byteOffset;
  const done = transposeA
    ? simdMatMulAtB(backend, addr(aInfo), addr(bInfo), addr(out), m, n, k)
    : simdMatMulAtBt(backend, addr(at!), addr(bInfo), addr(out), m, n, k);
  at?.dispose();
  if (done) return out;
  backend.disposeData(out.dataId, true);
  return undefined;
}

/** A 2-D tensor over the kernel input's data (a new reference, released with the tensor). */
function asMatrix(backend: BackendWasm, info: tf.TensorInfo, rows: number, cols: number): tf.Tensor2D {
  backend.incRef(info.dataId);
  return tf.engine().makeTensorFromTensorInfo({ dataId: info.dataId, shape: [rows, cols], dtype: 'float32' }, backend) as tf.Tensor2D;
}
