/**
 * ReLU's gradient in one pass. tfjs computes it as dy * cast(step(x)): a Step kernel that writes a
 * whole tensor of ones and zeros, then a Multiply that reads it back (0.38 ms a step for the
 * fixture's conv1 at batch 32, a twentieth of the step). Here `ReluGradHallmark` does both in one
 * WebAssembly SIMD pass over the wasm backend's heap (the assembler: wasm-simd.ts):
 * dx = dy * s with s = 1 where x > 0, NaN where x is NaN, else 0, which is the cpu backend's step,
 * so dx is the two-kernel product to the bit (a negative dy times 0 is still -0; NaN in x or
 * infinity in dy still gives NaN).
 *
 * The gradient of `Relu` is re-registered (`registerReluGradient`) to call that kernel where the
 * current backend has it, and tfjs's own formula everywhere else (cpu, webgpu), so nothing changes
 * on other backends.
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { heapF32, inputsOf, type KernelArgs } from './kernel-util.js';
import { addTo, doWhile, get, i32Const, moduleBytes, OP, set, simd, SIMD_OP, simdKernel, v128Load, v128Store } from './wasm-simd.js';

export const RELU_GRAD = 'ReluGradHallmark';

const F32X4_NE = 0x42;
const V128_OR = 0x50;
const ONE = Array.from(new Uint8Array(new Float32Array([1, 1, 1, 1]).buffer));
const ZERO = new Array<number>(16).fill(0);

// (dy, x, out, bytes): byte addresses, and the byte length (a multiple of 16).
const [DY, X, OUT, END] = [0, 1, 2, 3];
const P = 4;
const XV = 5;

/** The module's bytes: imports env.memory, exports `f(dy, x, out, bytes)`. */
export function reluGradModuleBytes(): Uint8Array {
  const { i32Add } = OP;
  const at = (base: number) => [...get(base), ...get(P), i32Add];
  const vector = [
    ...at(OUT),
    ...at(DY), ...v128Load(),
    // s = (x > 0 ? 1.0 : 0) | (x != x ? x : 0)
    ...at(X), ...v128Load(), ...set(XV),
    ...get(XV), ...simd(SIMD_OP.v128Const), ...ZERO, ...simd(SIMD_OP.f32x4Gt),
    ...simd(SIMD_OP.v128Const), ...ONE, ...simd(SIMD_OP.v128And),
    ...get(XV), ...get(XV), ...get(XV), ...simd(F32X4_NE), ...simd(SIMD_OP.v128And),
    ...simd(V128_OR),
    ...simd(SIMD_OP.f32x4Mul), ...v128Store(),
    ...addTo(P, i32Const(16)),
  ];
  return moduleBytes(4, 1, 1, [...doWhile(vector, P, END)]);
}

type ReluGrad = (dy: number, x: number, out: number, bytes: number) => void;

/** dy * step(x) over `n` floats at these heap views; the SIMD pass for the multiple of 4, the rest here. */
function reluGradInto(backend: BackendWasm, dy: Float32Array, x: Float32Array, out: Float32Array): void {
  const n = out.length;
  const whole = n - (n % 4);
  const kernel = whole > 0 ? simdKernel<ReluGrad>(backend, 'relu-grad', reluGradModuleBytes) : undefined;
  let i = 0;
  if (kernel) {
    kernel(dy.byteOffset, x.byteOffset, out.byteOffset, whole * 4);
    i = whole;
  }
  for (; i < n; i++) {
    const v = x[i]!;
    out[i] = dy[i]! * (v > 0 ? 1 : v !== v ? NaN : 0);
  }
}

/** The wasm kernel: inputs { dy, x } (float32, same shape), output dy * step(x). */
export function reluGradKernel(args: KernelArgs): tf.TensorInfo {
  const [dyInfo, xInfo] = inputsOf(RELU_GRAD, args, ['dy', 'x']);
  const backend = args.backend as BackendWasm;
  if (!tf.util.arraysEqual(dyInfo!.shape, xInfo!.shape)) throw new TypeError(`${RELU_GRAD}: dy ${JSON.stringify(dyInfo!.shape)} and x ${JSON.stringify(xInfo!.shape)} differ`);
  const out = backend.makeOutput(xInfo!.shape, 'float32');
  // Views after the allocation: a growing heap detaches the earlier ones.
  reluGradInto(backend, heapF32(backend, dyInfo!), heapF32(backend, xInfo!), heapF32(backend, out));
  return out;
}

/** dy * step(x), through the fused kernel where the current backend has one. */
export function reluGrad(dy: tf.Tensor, x: tf.Tensor): tf.Tensor {
  if (dy.dtype === 'float32' && x.dtype === 'float32' && tf.getKernel(RELU_GRAD, tf.getBackend()) !== undefined) {
    return tf.engine().runKernel(RELU_GRAD, { dy, x }) as tf.Tensor;
  }
  return tf.mul(dy, tf.cast(tf.step(x), 'float32'));
}

/** Re-registers Relu's gradient to use `reluGrad` (idempotent). */
export function registerReluGradient(): void {
  tf.registerGradient({
    kernelName: 'Relu',
    inputsToSave: ['x'],
    gradFunc: (dy, saved) => {
      const [x] = saved;
      return { x: () => reluGrad(dy as tf.Tensor, x!) };
    },
  });
}
