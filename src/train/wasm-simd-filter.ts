/**
 * Conv2DBackpropFilter for a convolution of one input channel at stride 1 (a network's first layer
 * on grey images: the fixture's conv1) as WebAssembly SIMD in the wasm backend's own heap (the
 * assembler: wasm-simd.ts):
 *
 *   dW[kh, kw, 0, co] = sum over b, oh, ow of xp[b, oh + kh, ow + kw] * dy[b, oh, ow, co]
 *
 * with xp the input zero-padded by the forward padding. One pass per filter row kh keeps the
 * sums of that row's KW x Cout weights in registers (KW x Cout/4 vectors) while it streams dy and
 * the input once; each output position costs Cout/4 loads and KW x Cout/4 multiply-adds.
 *
 * Why: the im2col + matrix product it replaces spent about 1.3 ms writing the columns and
 * 3.7 ms in a [9, 50176] x [50176, 16] product for conv1 at batch 64, a shape whose operands do
 * not fit the cache of a matrix-product kernel made for square-ish blocks.
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { heapF32 } from './kernel-util.js';
import { addTo, doWhile, f32Load, get, i32Const, moduleBytes, OP, set, simd, SIMD_OP, simdKernel, v128Load, v128Store, multiplyAdd } from './wasm-simd.js';

/** (padded input, dy, dW byte addresses, images, OH, padded row bytes, bytes to skip between images, OW bytes, KH) */
type FilterGrad = (xp: number, dy: number, dw: number, images: number, outHeight: number, rowStep: number, imageSkip: number, outWidthBytes: number, kh: number) => void;

/** Output channels up to this many (their sums stay in registers with KW = 3). */
export const SIMD_FILTER_MAX_OUT_CHANNELS = 32;

const [XPAD, DY, DW, IMAGES, OH, ROW_STEP, IMAGE_SKIP, OW_BYTES, FH] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
const [KH, XROW, XP, DYP, J_END, I, B, DWP] = [9, 10, 11, 12, 13, 14, 15, 16];
const I32_LOCALS = 8;
const FIRST_V128 = 9 + I32_LOCALS;

function body(kw: number, groups: number): number[] {
  const { i32Add, i32Mul } = OP;
  const acc = (k: number, g: number) => FIRST_V128 + k * groups + g;
  const d = (g: number) => FIRST_V128 + kw * groups + g;
  const S = FIRST_V128 + kw * groups + groups;
  const outC = 4 * groups;
  const zero = [...simd(SIMD_OP.v128Const), ...new Array<number>(16).fill(0)];
  const position: number[] = [];
  for (let g = 0; g < groups; g++) position.push(...get(DYP), ...v128Load(16 * g), ...set(d(g)));
  for (let k = 0; k < kw; k++) {
    position.push(...get(XP), ...f32Load(4 * k), ...simd(SIMD_OP.f32x4Splat), ...set(S));
    for (let g = 0; g < groups; g++) {
      position.push(...multiplyAdd(acc(k, g), get(S), get(d(g))));
    }
  }
  position.push(...addTo(DYP, i32Const(16 * groups)), ...addTo(XP, i32Const(4)));
  const zeroAll: number[] = [];
  const storeAll: number[] = [];
  for (let k = 0; k < kw; k++) {
    for (let g = 0; g < groups; g++) {
      zeroAll.push(...zero, ...set(acc(k, g)));
      storeAll.push(...get(DWP), ...get(acc(k, g)), ...v128Store((k * outC + 4 * g) * 4));
    }
  }
  return [
    ...get(DW), ...set(DWP),
    ...doWhile([
      ...zeroAll,
      ...get(DY), ...set(DYP),
      ...get(XPAD), ...get(KH), ...get(ROW_STEP), i32Mul, i32Add, ...set(XROW),
      ...i32Const(0), ...set(B),
      ...doWhile([
        ...i32Const(0), ...set(I),
        ...doWhile([
          ...get(XROW), ...set(XP),
          ...get(XROW), ...get(OW_BYTES), i32Add, ...set(J_END),
          ...doWhile(position, XP, J_END),
          ...addTo(XROW, get(ROW_STEP)), ...addTo(I, i32Const(1)),
        ], I, OH),
        ...addTo(XROW, get(IMAGE_SKIP)), ...addTo(B, i32Const(1)),
      ], B, IMAGES),
      ...storeAll,
      ...addTo(DWP, i32Const(kw * outC * 4)), ...addTo(KH, i32Const(1)),
    ], KH, FH),
  ];
}

export function filterGradModuleBytes(kw: number, groups: number): Uint8Array {
  return moduleBytes(9, I32_LOCALS, kw * groups + groups + 1, body(kw, groups));
}

/** Whether the SIMD form applies to this convolution. */
export function simdFilterGradApplies(info: tf.backend_util.Conv2DInfo): boolean {
  return info.inChannels === 1 && info.strideHeight === 1 && info.strideWidth === 1 && info.dilationHeight === 1 && info.dilationWidth === 1
    && info.outChannels % 4 === 0 && info.outChannels <= SIMD_FILTER_MAX_OUT_CHANNELS && info.outHeight > 0 && info.outWidth > 0 && info.batchSize > 0;
}

/** dW as a new tensor, or undefined where the SIMD code cannot run (then the caller's path runs). */
export function simdFilterGrad(backend: BackendWasm, xInfo: tf.TensorInfo, dyInfo: tf.TensorInfo, info: tf.backend_util.Conv2DInfo): tf.TensorInfo | undefined {
  const { batchSize: batch, inHeight: H, inWidth: W, outHeight: OH, outWidth: OW, filterHeight: KH, filterWidth: KW, outChannels } = info;
  const kernel = simdKernel<FilterGrad>(backend, `conv-filter-grad-c1-${KW}x${outChannels}`, () => filterGradModuleBytes(KW, outChannels / 4));
  if (!kernel) return undefined;
  const { top, left } = info.padInfo;
  const Hp = OH + KH - 1;
  const Wp = OW + KW - 1;
  const padded = backend.makeOutput([batch * Hp * Wp], 'float32');
  const dw = backend.makeOutput(info.filterShape, 'float32');
  try {
    // Views after every allocation: a growing heap detaches the earlier ones.
    const xp = heapF32(backend, padded);
    const x = heapF32(backend, xInfo);
    xp.fill(0);
    // Columns of the input inside the padded row: [c0, c1) of the input go to [c0 + left, c1 + left).
    const c0 = Math.max(0, -left);
    const c1 = Math.min(W, Wp - left);
    for (let b = 0; b < batch; b++) {
      for (let r = 0; r < Hp; r++) {
        const src = r - top;
        if (src < 0 || src >= H || c1 <= c0) continue;
        const from = (b * H + src) * W;
        xp.set(x.subarray(from + c0, from + c1), (b * Hp + r) * Wp + c0 + left);
      }
    }
    kernel(xp.byteOffset, heapF32(backend, dyInfo).byteOffset, heapF32(backend, dw).byteOffset, batch, OH, Wp * 4, (Hp - OH) * Wp * 4, OW * 4, KH);
  } finally {
    backend.disposeData(padded.dataId, true);
  }
  return dw;
}
