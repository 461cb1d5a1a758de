/**
 * Slice on wasm, for the contiguous case (a range of rows: how tf.layers' predict and evaluate cut a
 * big input into batches of 32), as one copy of just that range. tfjs-backend-wasm 4.22 copies the
 * whole input out of the wasm heap for every slice, so predicting 2,000 images copied them 63 times
 * over (about 0.4 s of a 15 s embedding run). Strided slices and strings go to the backend's own
 * kernel.
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { inputsOf, type KernelArgs } from './kernel-util.js';

export const SLICE = 'Slice';

export function sliceVia(original: tf.KernelFunc): tf.KernelFunc {
  const contiguous = (args: KernelArgs): tf.TensorInfo | tf.TensorInfo[] => {
    const [x] = inputsOf(SLICE, args, ['x']);
    const attrs = args.attrs as { begin: number | number[]; size?: number | number[] };
    if (x!.dtype === 'string') return original(args as Parameters<tf.KernelFunc>[0]);
    const [begin, size] = tf.slice_util.parseSliceParams(x as tf.TensorInfo as tf.Tensor, attrs.begin, attrs.size) as [number[], number[]];
    if (!tf.slice_util.isSliceContinous(x!.shape, begin, size)) return original(args as Parameters<tf.KernelFunc>[0]);
    const backend = args.backend as BackendWasm;
    const out = backend.makeOutput(size, x!.dtype);
    const count = tf.util.sizeFromShape(size);
    if (count > 0) {
      const offset = tf.slice_util.computeFlatOffset(begin, tf.util.computeStrides(x!.shape));
      // Views after makeOutput: an allocation may grow the heap and detach earlier views.
      const from = backend.typedArrayFromHeap(x!);
      backend.typedArrayFromHeap(out).set(from.subarray(offset, offset + count));
    }
    return out;
  };
  return contiguous as unknown as tf.KernelFunc;
}
