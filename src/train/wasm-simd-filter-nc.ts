/**
 * Conv2DBackpropFilter for convolutions of several input channels (the fixture's conv2: 16 in,
 * 32 out) as WebAssembly SIMD in the wasm backend's own heap (the assembler: wasm-simd.ts):
 *
 *   dW[kh, kw, ci, co] = sum over b, oh, ow of xp[b, oh*sh + kh, ow*sw + kw, ci] * dy[b, oh, ow, co]
 *
 * with xp the input zero-padded by the forward padding (or the input itself when it needs none).
 * The work is cut into tiles of CI_B input channels x 4*G output channels of one tap (kh, kw); a
 * tile's CI_B x G sums of four stay in registers while it streams one image's output positions:
 * per position, G loads of dy, CI_B splat loads of the input and CI_B x G multiply-adds. Images
 * go one at a time through every tile (the image's input and dy, about 40 KB for conv2, stay in
 * the core's first caches), and each tile's sums go back to dW between images.
 *
 * Why: wasm's XNNPACK computes this gradient (as a convolution with the batch as channels, or
 * im2col and a matrix product) at about 12 GFLOP/s, a third of its forward convolution's speed:
 * its matrix kernels stream the whole reduction (B*OH*OW long) for each block of the small
 * [KH*KW*Cin, Cout] result, out of cache. This took conv2's gradient at batch 32 from about
 * 3.9-4.9 ms to about 1.6 ms.
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { heapF32, padImagesInto } from './kernel-util.js';
import { sourceLayout, type ConvShape } from './wasm-simd-conv.js';
import { addTo, doWhile, doWhileBelow, get, i32Const, moduleBytes, OP, set, simd, SIMD_OP, simdKernel, v128Load, v128Load32Splat, v128Store, multiplyAdd } from './wasm-simd.js';

/** (source, dy, dW byte addresses, images) */
type FilterGradNc = (x: number, dy: number, dw: number, images: number) => void;

/** The convolution and its source's layout (wasm-simd-conv.ts), and the tile, baked into each module as constants. */
export interface NcShape extends ConvShape {
  /** Input channels per tile (1, 2 or 4, dividing cin) and output-channel vectors per tile. */
  readonly ciBlock: number;
  readonly groups: number;
}

// Parameters, then i32 locals.
const [X, DY, DW, IMAGES] = [0, 1, 2, 3];
const [B, KH, KW, CI, CO, XP, DP, END, OY, WP, XT] = [4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14];
const I32_LOCALS = 11;
const FIRST_V128 = 4 + I32_LOCALS;

function body(s: NcShape): number[] {
  const { i32Add, i32Mul } = OP;
  const { cin, cout, ciBlock: R, groups: G } = s;
  const acc = (r: number, g: number) => FIRST_V128 + r * G + g;
  const d = (g: number) => FIRST_V128 + R * G + g;
  const S = FIRST_V128 + R * G + G;
  const rowBytes = cout * 4; // one position's dy, one dW row
  const pixel = cin * 4; // one source pixel
  const position: number[] = [];
  for (let g = 0; g < G; g++) position.push(...get(DP), ...v128Load(16 * g), ...set(d(g)));
  for (let r = 0; r < R; r++) {
    position.push(...get(XP), ...v128Load32Splat(4 * r), ...set(S));
    for (let g = 0; g < G; g++) {
      position.push(...multiplyAdd(acc(r, g), get(S), get(d(g))));
    }
  }
  position.push(...addTo(XP, i32Const(s.sw * pixel)), ...addTo(DP, i32Const(rowBytes)));
  const load: number[] = [];
  const store: number[] = [];
  for (let r = 0; r < R; r++) {
    for (let g = 0; g < G; g++) {
      load.push(...get(WP), ...v128Load(r * rowBytes + 16 * g), ...set(acc(r, g)));
      store.push(...get(WP), ...get(acc(r, g)), ...v128Store(r * rowBytes + 16 * g));
    }
  }
  const tile = [
    // WP = dw + ((kh*KW + kw)*cin)*rowBytes + ci*cout + co (ci, co in bytes); XP = XT + ci; DP = dy image + co.
    ...get(DW), ...get(KH), ...i32Const(s.kw), i32Mul, ...get(KW), i32Add, ...i32Const(cin * rowBytes), i32Mul, i32Add,
    ...get(CI), ...i32Const(cout), i32Mul, i32Add, ...get(CO), i32Add, ...set(WP),
    ...load,
    ...get(XT), ...get(CI), i32Add, ...set(XP),
    ...get(DY), ...get(CO), i32Add, ...set(DP),
    ...i32Const(0), ...set(OY),
    ...doWhileBelow([
      ...get(XP), ...i32Const(s.ow * s.sw * pixel), i32Add, ...set(END),
      ...doWhile(position, XP, END),
      ...addTo(XP, i32Const((s.sh * s.ws - s.ow * s.sw) * pixel)),
      ...addTo(OY, i32Const(1)),
    ], OY, s.oh),
    ...store,
  ];
  return [
    ...i32Const(0), ...set(B),
    ...doWhile([
      ...i32Const(0), ...set(KH),
      ...doWhileBelow([
        ...i32Const(0), ...set(KW),
        ...doWhileBelow([
          // XT: this image's source at tap (kh, kw).
          ...get(X), ...get(KH), ...i32Const(s.ws * pixel), i32Mul, i32Add, ...get(KW), ...i32Const(pixel), i32Mul, i32Add, ...set(XT),
          ...i32Const(0), ...set(CI),
          ...doWhileBelow([
            ...i32Const(0), ...set(CO),
            ...doWhileBelow([...tile, ...addTo(CO, i32Const(16 * G))], CO, rowBytes),
            ...addTo(CI, i32Const(4 * R)),
          ], CI, pixel),
          ...addTo(KW, i32Const(1)),
        ], KW, s.kw),
        ...addTo(KH, i32Const(1)),
      ], KH, s.kh),
      ...addTo(X, i32Const(s.hs * s.ws * pixel)),
      ...addTo(DY, i32Const(s.oh * s.ow * rowBytes)),
      ...addTo(B, i32Const(1)),
    ], B, IMAGES),
  ];
}

export function filterGradNcModuleBytes(s: NcShape): Uint8Array {
  return moduleBytes(4, I32_LOCALS, s.ciBlock * s.groups + s.groups + 1, body(s));
}

/**
 * Whether the SIMD form applies: an even number of input channels (tiles of 2 or 4; with tiles of
 * one channel, an RGB first layer, im2col and XNNPACK measured faster), output channels a
 * multiple of 4, no dilation.
 */
export function simdFilterGradNcApplies(info: tf.backend_util.Conv2DInfo): boolean {
  return info.inChannels % 2 === 0 && info.outChannels % 4 === 0 && info.dilationHeight === 1 && info.dilationWidth === 1
    && info.outHeight > 0 && info.outWidth > 0 && info.batchSize > 0 && info.inHeight > 0 && info.inWidth > 0;
}

/**
 * The tile: 4, 2 or 1 input channels (whichever divides cin first) by 2 or 1 vectors of four
 * output channels. Of the tiles that fit x64's 16 vector registers, 4 x 2 measured fastest on the
 * fixture's conv2 (1.6 ms at batch 32; 2 x 4: 1.8; 4 x 4 and 2 x 8, which spill: 2.9 and 3.3).
 */
export function tileOf(cin: number, cout: number): { ciBlock: number; groups: number } {
  return { ciBlock: cin % 4 === 0 ? 4 : cin % 2 === 0 ? 2 : 1, groups: cout % 8 === 0 ? 2 : 1 };
}

/** dW as a new tensor, or undefined where the SIMD code cannot run (then the caller's path runs). */
export function simdFilterGradNc(backend: BackendWasm, xInfo: tf.TensorInfo, dyInfo: tf.TensorInfo, info: tf.backend_util.Conv2DInfo): tf.TensorInfo | undefined {
  const { batchSize: batch, inChannels: C, outChannels } = info;
  const { Hp, Wp, direct, shape: conv } = sourceLayout(info);
  const shape: NcShape = { ...conv, ...tileOf(C, outChannels) };
  const key = `conv-filter-grad-nc-${Object.values(shape).join('x')}`;
  const kernel = simdKernel<FilterGradNc>(backend, key, () => filterGradNcModuleBytes(shape));
  if (!kernel) return undefined;
  const padded = direct ? undefined : backend.makeOutput([batch * Hp * Wp * C], 'float32');
  const dw = backend.makeOutput(info.filterShape, 'float32');
  try {
    // Views after every allocation: a growing heap detaches the earlier ones.
    const x = heapF32(backend, xInfo);
    const source = padded ? padImagesInto(x, heapF32(backend, padded), info, Hp, Wp) : x;
    const out = heapF32(backend, dw);
    out.fill(0);
    kernel(source.byteOffset, heapF32(backend, dyInfo).byteOffset, out.byteOffset, batch);
  } finally {
    if (padded) backend.disposeData(padded.dataId, true);
  }
  return dw;
}
