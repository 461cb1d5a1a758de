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
