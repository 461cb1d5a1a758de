/**
 * The training kernels Hallmark registers on the wasm backend: the gradients tfjs-backend-wasm 4.x
 * lacks (Conv2DBackpropFilter, DepthwiseConv2dNativeBackpropInput/Filter) and faster replacements
 * for the slow ones it ships (Conv2DBackpropInput, MaxPoolGrad, AvgPoolGrad, BatchMatMul with a
 * transposed operand). Each is checked against the cpu backend in test/train/.
 */
import * as tf from '@tensorflow/tfjs';
import { BATCH_MAT_MUL, batchMatMulVia } from './wasm-batch-matmul.js';
import { conv2dBackpropFilter } from './wasm-conv-backprop-filter.js';
import { conv2dBackpropInput } from './wasm-conv-backprop-input.js';
import { depthwiseBackpropFilter, depthwiseBackpropInput } from './wasm-depthwise-backprop.js';
import { avgPoolGrad, maxPoolGrad } from './wasm-pool-grad.js';

const KERNELS: Record<string, tf.KernelFunc> = {
  Conv2DBackpropFilter: conv2dBackpropFilter as unknown as tf.KernelFunc,
  Conv2DBackpropInput: conv2dBackpropInput as unknown as tf.KernelFunc,
  DepthwiseConv2dNativeBackpropInput: depthwiseBackpropInput as unknown as tf.KernelFunc,
  DepthwiseConv2dNativeBackpropFilter: depthwiseBackpropFilter as unknown as tf.KernelFunc,
  MaxPoolGrad: maxPoolGrad as unknown as tf.KernelFunc,
  AvgPoolGrad: avgPoolGrad as unknown as tf.KernelFunc,
};

/** The kernel names this module registers on wasm. */
export const WASM_TRAINING_KERNELS: readonly string[] = [...Object.keys(KERNELS), BATCH_MAT_MUL];

let wrappedMatMul: tf.KernelConfig | undefined;

/** Registers (or replaces) the training kernels on the 'wasm' backend; safe to call more than once. */
export function registerWasmTrainingKernels(): void {
  for (const [kernelName, kernelFunc] of Object.entries(KERNELS)) {
    const existing = tf.getKernel(kernelName, 'wasm');
    if (existing?.kernelFunc === kernelFunc) continue;
    if (existing !== undefined) tf.unregisterKernel(kernelName, 'wasm');
    tf.registerKernel({ kernelName, backendName: 'wasm', kernelFunc });
  }
  // BatchMatMul keeps the backend's own kernel (and its setup, which binds the wasm function) for
  // plain products.
  const matMul = tf.getKernel(BATCH_MAT_MUL, 'wasm');
  if (matMul !== undefined && matMul !== wrappedMatMul) {
    tf.unregisterKernel(BATCH_MAT_MUL, 'wasm');
    wrappedMatMul = { ...matMul, kernelFunc: batchMatMulVia(matMul.kernelFunc) };
    tf.registerKernel(wrappedMatMul);
  }
}
