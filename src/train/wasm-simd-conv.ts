/**
 * The forward Conv2D (NHWC, no dilation) as WebAssembly SIMD in the wasm backend's own heap (the
 * assembler: wasm-simd.ts), for the layers training spends its time on:
 *
 *   y[b, oy, ox, co] = sum over kh, kw, ci of xs[b, oy*sh + kh, ox*sw + kw, ci] * W[kh, kw, ci, co]
 *
 * with xs the input zero-padded by the forward padding (or the input itself when it needs none).
 * A tile is P neighbouring output positions of one row by 4*G output channels: its P x G sums of
 * four stay in registers while it runs down the reduction. For one filter row kh, a position's
 * inputs (kw, ci) are KW*Cin consecutive floats and the filter's rows (kh, kw, ci) are consecutive
 * too, so each step of the reduction is G loads of W, P splat loads of the input and P x G
 * multiply-adds (`multiplyAdd`: relaxed SIMD's fused form where V8 offers it, see wasm-simd.ts;
 * else a multiply, then an add). A row's last OW mod P positions take a tile of their own. The sums
 * run in XNNPACK's order: unfused (HALLMARK_WASM_FMA=0), the results matched its to the bit on
 * every shape measured; fused, each product is no longer rounded before its add.
 *
 * Why: XNNPACK's convolution ran the fixture's conv2 (16 to 32 channels) at about 22 GFLOP/s and
 * the input gradient's convolution (32 to 16) at about 24; the filter gradient's SIMD tiles
 * (wasm-simd-filter-nc.ts) of the same shape reached 36. Shapes where it measured no faster keep
 * XNNPACK: see simdConvApplies. Figures: docs/training.md.
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { heapF32, padImagesInto } from './kernel-util.js';
import { addTo, doWhile, doWhileBelow, get, i32Const, moduleBytes, OP, set, simd, SIMD_OP, simdKernel, v128Load, v128Load32Splat, v128Store, multiplyAdd } from './wasm-simd.js';

/** (source, filter, output byte addresses, images) */
type ConvForward = (x: number, w: number, y: number, images: number) => void;

export interface ConvShape {
  readonly cin: number;
  readonly cout: number;
  readonly kh: number;
  readonly kw: number;
  readonly oh: number;
  readonly ow: number;
  readonly sh: number;
  readonly sw: number;
  /** Rows and columns of each source image (the padded copy, or the input itself). */
  readonly hs: number;
  readonly ws: number;
}

/** Output positions per tile, and vectors of four output channels per tile (4 x 2 sums: 8 of x64's 16 vector registers). */
export const POSITIONS = 4;
export const GROUPS = 2;
/** Filter rows of up to this many floats (KW x Cin) are unrolled. */
export const UNROLL_UP_TO = 12;

// Parameters, then i32 locals.
const [X, W, Y, IMAGES] = [0, 1, 2, 3];
const [B, OY, CO, XROW, YROW, XB, XBEND, YP, XR, XP, JEND, WP, KH] = [4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16];
const I32_LOCALS = 13;
const FIRST_V128 = 4 + I32_LOCALS;
const acc = (p: number, g: number) => FIRST_V128 + p * GROUPS + g;
const wv = (g: number) => FIRST_V128 + POSITIONS * GROUPS + g;
const S = FIRST_V128 + POSITIONS * GROUPS + GROUPS;

/** One tile of `positions` output positions at XB (source) and YP (output), channels from CO. */
function tile(s: ConvShape, positions: number): number[] {
  const { i32Add } = OP;
  const pixel = s.cin * 4;
  const zero = [...simd(SIMD_OP.v128Const), ...new Array<number>(16).fill(0)];
  // One step of the reduction: input float j of the filter row (at XP + 4j) and filter row j (at WP + j*cout*4).
  const step = (j: number): number[] => {
    const out: number[] = [];
    for (let g = 0; g < GROUPS; g++) out.push(...get(WP), ...v128Load(j * s.cout * 4 + 16 * g), ...set(wv(g)));
    for (let p = 0; p < positions; p++) {
      out.push(...get(XP), ...v128Load32Splat(4 * j + p * s.sw * pixel), ...set(S));
      for (let g = 0; g < GROUPS; g++) {
        out.push(...multiplyAdd(acc(p, g), get(S), get(wv(g))));
      }
    }
    return out;
  };
  const rowLength = s.kw * s.cin;
  // A short filter row (a grey first layer: 3 floats) is unrolled; a loop's counting would cost
  // as much as its multiply-adds. The order of the sums is the same either way.
  const filterRow = rowLength <= UNROLL_UP_TO
    ? [...get(XR), ...set(XP), ...Array.from({ length: rowLength }, (_, j) => step(j)).flat(), ...addTo(WP, i32Const(rowLength * s.cout * 4))]
    : [
      ...get(XR), ...set(XP),
      ...get(XR), ...i32Const(rowLength * 4), OP.i32Add, ...set(JEND),
      ...doWhile([...step(0), ...addTo(XP, i32Const(4)), ...addTo(WP, i32Const(s.cout * 4))], XP, JEND),
    ];
  const zeroAll: number[] = [];
  const store: number[] = [];
  for (let p = 0; p < positions; p++) {
    for (let g = 0; g < GROUPS; g++) {
      zeroAll.push(...zero, ...set(acc(p, g)));
      store.push(...get(YP), ...get(acc(p, g)), ...v128Store(p * s.cout * 4 + 16 * g));
    }
  }
  return [
    ...zeroAll,
    ...get(W), ...get(CO), i32Add, ...set(WP),
    ...get(XB), ...set(XR),
    ...i32Const(0), ...set(KH),
    ...doWhileBelow([
      ...filterRow,
      ...addTo(XR, i32Const(s.ws * pixel)),
      ...addTo(KH, i32Const(1)),
    ], KH, s.kh),
    ...store,
  ];
}

function body(s: ConvShape): number[] {
  const { i32Add } = OP;
  const pixel = s.cin * 4;
  const full = Math.floor(s.ow / POSITIONS);
  const rest = s.ow % POSITIONS;
  const blockStep = POSITIONS * s.sw * pixel;
  const row = [
    ...get(XROW), ...set(XB),
    ...get(XROW), ...i32Const(full * blockStep), i32Add, ...set(XBEND),
    ...get(YROW), ...get(CO), i32Add, ...set(YP),
    ...(full > 0
      ? doWhile([...tile(s, POSITIONS), ...addTo(XB, i32Const(blockStep)), ...addTo(YP, i32Const(POSITIONS * s.cout * 4))], XB, XBEND)
      : []),
    ...(rest > 0 ? tile(s, rest) : []),
  ];
  return [
    ...i32Const(0), ...set(B),
    ...doWhile([
      ...get(X), ...set(XROW),
      ...get(Y), ...set(YROW),
      ...i32Const(0), ...set(OY),
      ...doWhileBelow([
        ...i32Const(0), ...set(CO),
        ...doWhileBelow([...row, ...addTo(CO, i32Const(16 * GROUPS))], CO, s.cout * 4),
        ...addTo(XROW, i32Const(s.sh * s.ws * pixel)),
        ...addTo(YROW, i32Const(s.ow * s.cout * 4)),
        ...addTo(OY, i32Const(1)),
      ], OY, s.oh),
      ...addTo(X, i32Const(s.hs * s.ws * pixel)),
      ...addTo(Y, i32Const(s.oh * s.ow * s.cout * 4)),
      ...addTo(B, i32Const(1)),
    ], B, IMAGES),
  ];
}

export function convModuleBytes(s: ConvShape): Uint8Array {
  return moduleBytes(4, I32_LOCALS, POSITIONS * GROUPS + GROUPS + 1, body(s));
}

/**
 * The rows and columns the taps reach (Hp, Wp), whether the input itself can serve as the source
 * (no padding needed), and the module's shape constants.
 */
export function sourceLayout(info: tf.backend_util.Conv2DInfo): { Hp: number; Wp: number; direct: boolean; shape: ConvShape } {
  const { inHeight: H, inWidth: W, inChannels: cin, outChannels: cout, outHeight: oh, outWidth: ow, filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw } = info;
  const { top, left } = info.padInfo;
  const Hp = (oh - 1) * sh + kh;
  const Wp = (ow - 1) * sw + kw;
  const direct = top === 0 && left === 0 && H >= Hp && W >= Wp;
  return { Hp, Wp, direct, shape: { cin, cout, kh, kw, oh, ow, sh, sw, hs: direct ? H : Hp, ws: direct ? W : Wp } };
}

/**
 * Whether the SIMD form applies and measured faster than XNNPACK (1.1-3x on the fixture's conv2
 * and its input gradient, MobileNet-style 1x1 and 3x3 layers, RGB first layers; 1.2-1.6x on the
 * fixture's grey conv1 with its filter rows unrolled): no dilation, output channels a multiple of
 * 8, and two or more input channels or a filter row short enough to unroll. (A grey layer's row
 * of three floats run as a loop measured slower than XNNPACK at batch 64.)
 */
export function simdConvApplies(info: tf.backend_util.Conv2DInfo): boolean {
  return (info.inChannels >= 2 || info.filterWidth * info.inChannels <= UNROLL_UP_TO) && info.outChannels % (4 * GROUPS) === 0 && info.dilationHeight === 1 && info.dilationWidth === 1
    && info.outHeight > 0 && info.outWidth > 0 && info.batchSize > 0 && info.inHeight > 0 && info.inWidth > 0;
}

/** y as a new tensor, or undefined where the SIMD code cannot run (then XNNPACK's runs). */
export function simdConv(backend: BackendWasm, xInfo: tf.TensorInfo, filterInfo: tf.TensorInfo, info: tf.backend_util.Conv2DInfo): tf.TensorInfo | undefined {
  const { batchSize: batch, inChannels: C } = info;
  const { Hp, Wp, direct, shape } = sourceLayout(info);
  const kernel = simdKernel<ConvForward>(backend, `conv2d-${Object.values(shape).join('x')}`, () => convModuleBytes(shape));
  if (!kernel) return undefined;
  const padded = direct ? undefined : backend.makeOutput([batch * Hp * Wp * C], 'float32');
  const y = backend.makeOutput(info.outShape, 'float32');
  try {
    // Views after every allocation: a growing heap detaches the earlier ones.
    const x = heapF32(backend, xInfo);
    const source = padded ? padImagesInto(x, heapF32(backend, padded), info, Hp, Wp) : x;
    kernel(source.byteOffset, heapF32(backend, filterInfo).byteOffset, heapF32(backend, y).byteOffset, batch);
  } finally {
    if (padded) backend.disposeData(padded.dataId, true);
  }
  return y;
}

export const CONV2D = 'Conv2D';

interface Conv2DAttrs {
  strides: [number, number] | number;
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dataFormat: 'NHWC' | 'NCHW';
  dilations: [number, number] | number;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

/** wasm's Conv2D with the SIMD form where it applies; every other case goes to the backend's own kernel. */
export function conv2dVia(original: tf.KernelFunc): tf.KernelFunc {
  const simdConv2d: tf.KernelFunc = (args) => {
    const { x, filter } = args.inputs;
    const attrs = args.attrs as unknown as Conv2DAttrs;
    if (x === undefined || filter === undefined || attrs.dataFormat !== 'NHWC' || x.dtype !== 'float32' || filter.dtype !== 'float32' || x.shape.length !== 4 || filter.shape.length !== 4) return original(args);
    const info = tf.backend_util.computeConv2DInfo(x.shape as [number, number, number, number], filter.shape as [number, number, number, number], attrs.strides, attrs.dilations, attrs.pad, attrs.dimRoundingMode);
    return (simdConvApplies(info) ? simdConv(args.backend as BackendWasm, x, filter, info) : undefined) ?? original(args);
  };
  return simdConv2d;
}
