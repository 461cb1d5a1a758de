/**
 * BatchMatMul on wasm with transposed operands (every dense layer's two gradients): wasm runs
 * those on a slow loop, but its non-transposed path on XNNPACK; an explicit (XNNPACK) transpose
 * first is about 5x faster in all. Plain products go straight to the backend's own kernel.
 */
import * as tf from '@tensorflow/tfjs';
import { inputsOf, withTensors, type KernelArgs } from './kernel-util.js';

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
