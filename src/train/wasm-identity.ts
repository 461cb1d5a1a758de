/**
 * Identity on wasm as a new reference to the same memory, as the cpu backend does, instead of a
 * copy. TensorFlow.js tensors are immutable, and the engine runs Identity for every tensor it saves
 * for the backward pass (each layer's input and output, every step), so the copies cost a training
 * step about as much as a small layer. Strings go to the backend's own kernel.
 */
import type * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { inputsOf, type KernelArgs } from './kernel-util.js';

export const IDENTITY = 'Identity';

export function identityVia(original: tf.KernelFunc): tf.KernelFunc {
  const shared = (args: KernelArgs): tf.TensorInfo | tf.TensorInfo[] => {
    const [x] = inputsOf(IDENTITY, args, ['x']);
    if (x!.dtype === 'string') return original(args as Parameters<tf.KernelFunc>[0]);
    (args.backend as BackendWasm).incRef(x!.dataId);
    return { dataId: x!.dataId, shape: x!.shape, dtype: x!.dtype };
  };
  return shared as unknown as tf.KernelFunc;
}

export const CAST = 'Cast';

/**
 * Cast to the tensor's own dtype as a new reference too (the cpu backend's Cast does the same):
 * every ReLU's gradient is dy * cast(step(x), 'float32'), and wasm's Cast copies the whole
 * activation (0.4 ms of a fixture step at batch 32). A cast to bool is x != 0, as on the cpu
 * backend: wasm's own stores the numbers into bytes (-2 became 254, 3.9 became 3). Other casts go
 * to the backend's own kernel.
 */
export function castVia(original: tf.KernelFunc): tf.KernelFunc {
  const cast = (args: KernelArgs): tf.TensorInfo | tf.TensorInfo[] => {
    const [x] = inputsOf(CAST, args, ['x']);
    const dtype = (args.attrs as { dtype?: string } | undefined)?.dtype;
    const backend = args.backend as BackendWasm;
    if (x!.dtype === 'string') return original(args as Parameters<tf.KernelFunc>[0]);
    if (x!.dtype === dtype) {
      backend.incRef(x!.dataId);
      return { dataId: x!.dataId, shape: x!.shape, dtype: x!.dtype };
    }
    if (dtype !== 'bool') return original(args as Parameters<tf.KernelFunc>[0]);
    const out = backend.makeOutput(x!.shape, 'bool');
    const from = backend.typedArrayFromHeap(x!);
    const to = backend.typedArrayFromHeap(out);
    for (let i = 0; i < from.length; i++) to[i] = from[i] !== 0 ? 1 : 0;
    return out;
  };
  return cast as unknown as tf.KernelFunc;
}
