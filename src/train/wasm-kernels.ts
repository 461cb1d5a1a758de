/**
 * The training kernels Hallmark registers on the wasm backend: the gradients tfjs-backend-wasm 4.x
 * lacks (Conv2DBackpropFilter, DepthwiseConv2dNativeBackpropInput/Filter) and faster replacements
 * for the slow ones it ships (Conv2DBackpropInput, MaxPoolGrad, AvgPoolGrad, BatchMatMul with a
 * transposed operand, Sum, Identity, same-dtype Cast, contiguous Slice, a bias's Add, and Conv2D
 * where SIMD tiles beat XNNPACK), and ReLU's gradient fused into one kernel (wasm-simd-relu.ts). Each is checked against the cpu backend in
 * test/train/.
 */
import * as tf from '@tensorflow/tfjs';
import { BATCH_MAT_MUL, batchMatMulVia } from './wasm-batch-matmul.js';
import { conv2dBackpropFilter } from './wasm-conv-backprop-filter.js';
import { conv2dBackpropInput } from './wasm-conv-backprop-input.js';
import { CAST, castVia, IDENTITY, identityVia } from './wasm-identity.js';
import { SLICE, sliceVia } from './wasm-slice.js';
import { SUM, sumVia } from './wasm-sum.js';
import { CONV2D, conv2dVia } from './wasm-simd-conv.js';
import { ADD, addVia } from './wasm-simd-bias.js';
import { depthwiseBackpropFilter, depthwiseBackpropInput } from './wasm-depthwise-backprop.js';
import { avgPoolGrad, maxPoolGrad } from './wasm-pool-grad.js';
import { RELU_GRAD, registerReluGradient, reluGradKernel } from './wasm-simd-relu.js';

const KERNELS: Record<string, tf.KernelFunc> = {
  Conv2DBackpropFilter: conv2dBackpropFilter as unknown as tf.KernelFunc,
  Conv2DBackpropInput: conv2dBackpropInput as unknown as tf.KernelFunc,
  DepthwiseConv2dNativeBackpropInput: depthwiseBackpropInput as unknown as tf.KernelFunc,
  DepthwiseConv2dNativeBackpropFilter: depthwiseBackpropFilter as unknown as tf.KernelFunc,
  MaxPoolGrad: maxPoolGrad as unknown as tf.KernelFunc,
  AvgPoolGrad: avgPoolGrad as unknown as tf.KernelFunc,
  [RELU_GRAD]: reluGradKernel as unknown as tf.KernelFunc,
};

/** The kernel names this module registers on wasm. */
export const WASM_TRAINING_KERNELS: readonly string[] = [...Object.keys(KERNELS), BATCH_MAT_MUL, SUM, IDENTITY, SLICE, CONV2D, CAST, ADD];

/** Kernels that keep the backend's own function (and its setup) for the cases they do not speed up. */
const WRAPPERS: Record<string, (original: tf.KernelFunc) => tf.KernelFunc> = {
  [BATCH_MAT_MUL]: batchMatMulVia,
  [SUM]: sumVia,
  [IDENTITY]: identityVia,
  [SLICE]: sliceVia,
  [CONV2D]: conv2dVia,
  [CAST]: castVia,
  [ADD]: addVia,
};
const wrapped = new Map<string, tf.KernelConfig>();

/** Registers (or replaces) the training kernels on the 'wasm' backend; safe to call more than once. */
export function registerWasmTrainingKernels(): void {
  registerReluGradient();
  for (const [kernelName, kernelFunc] of Object.entries(KERNELS)) {
    const existing = tf.getKernel(kernelName, 'wasm');
    if (existing?.kernelFunc === kernelFunc) continue;
    if (existing !== undefined) tf.unregisterKernel(kernelName, 'wasm');
    tf.registerKernel({ kernelName, backendName: 'wasm', kernelFunc });
  }
  // The wrappers keep the backend's own kernel, and its setup, which binds the wasm function.
  for (const [kernelName, wrap] of Object.entries(WRAPPERS)) {
    const current = tf.getKernel(kernelName, 'wasm');
    if (current === undefined || current === wrapped.get(kernelName)) continue;
    tf.unregisterKernel(kernelName, 'wasm');
    const config = { ...current, kernelFunc: wrap(current.kernelFunc) };
    tf.registerKernel(config);
    wrapped.set(kernelName, config);
  }
}
