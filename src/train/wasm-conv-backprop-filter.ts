/**
 * The Conv2DBackpropFilter kernel that @tensorflow/tfjs-backend-wasm 4.x does not ship, so that
 * convolutions can be trained on wasm:
 *
 *   dW[kh,kw,ci,co] = sum_{b,oh,ow} x[b, oh*s + kh - padTop, ow*s + kw - padLeft, ci] * dy[b,oh,ow,co]
 *
 * One input channel at stride 1 (a first layer on grey images): WebAssembly SIMD
 * (wasm-simd-filter.ts). An even number of input channels, output channels a multiple of 4:
 * WebAssembly SIMD too (wasm-simd-filter-nc.ts; 2.1-5.4x XNNPACK's forms on the fixture's conv2
 * and MobileNet-style 1x1 and 3x3 layers). Otherwise two ways, both on wasm's XNNPACK, whichever
 * measured faster for the layer (an odd count such as an RGB first layer, where im2col was
 * faster than the SIMD tiles of one channel):
 * - few input channels (the first layer): one matrix product colsT [KH*KW*Cin, N] x dy [N, Cout],
 *   N = B*OH*OW, where row (kh, kw, ci) of colsT holds the input value each output position saw
 *   through that tap (im2col, transposed, written straight into the wasm heap; no transposed
 *   operand, which is wasm's slow matmul path);
 * - otherwise a stride-1 convolution of x' = transpose(x) [Cin, H, W, B] (batch as channels),
 *   padded by the forward padding, with the filter dy' = transpose(dy) [OH, OW, B, Cout] dilated by
 *   the forward stride; its output [Cin, KH, KW, Cout] transposed back is dW.
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { TrainError } from './errors.js';
import { asTensor, heapF32 } from './kernel-util.js';
import { simdFilterGrad, simdFilterGradApplies } from './wasm-simd-filter.js';
import { simdFilterGradNc, simdFilterGradNcApplies } from './wasm-simd-filter-nc.js';

const KERNEL = 'Conv2DBackpropFilter';
/** Above this many input channels the convolution form was faster (fixture conv2: 16 channels). */
export const IM2COL_MAX_CHANNELS = 4;

interface BackpropFilterAttrs {
  strides: [number, number] | number;
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  filterShape: [number, number, number, number];
}

export function conv2dBackpropFilter(args: {
  inputs: tf.NamedTensorInfoMap;
  backend: unknown;
  attrs?: tf.NamedAttrMap;
}): tf.TensorInfo {
  const attrs = args.attrs as unknown as BackpropFilterAttrs;
  const { x: xInfo, dy: dyInfo } = args.inputs;
  if (xInfo === undefined || dyInfo === undefined) throw new TypeError(`${KERNEL}: inputs x and dy are required`);
  if (attrs.dataFormat !== 'NHWC') {
    throw new TrainError('TRAIN_UNSUPPORTED_OP', `${KERNEL} on wasm supports dataFormat NHWC only, got ${attrs.dataFormat}`);
  }
  const filterShape = attrs.filterShape;
  const info = tf.backend_util.computeConv2DInfo(
    xInfo.shape as [number, number, number, number],
    filterShape,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
  );
  const [batch, outH, outW, outC] = dyInfo.shape as [number, number, number, number];
  if (batch !== info.batchSize || outH !== info.outHeight || outW !== info.outWidth || outC !== info.outChannels) {
    throw new TrainError(
      'TRAIN_UNSUPPORTED_OP',
      `${KERNEL}: dy shape [${dyInfo.shape.join(',')}] does not match the forward output [${info.outShape.join(',')}]`,
    );
  }
  const backend = args.backend as BackendWasm;
  const [kh, kw, cin] = filterShape;
  const simdNc = simdFilterGradNcApplies(info) ? simdFilterGradNc(backend, xInfo, dyInfo, info) : undefined;
  if (simdNc) return simdNc;
  if (cin > IM2COL_MAX_CHANNELS) return viaConvolution(xInfo, dyInfo, info, backend);
  const simd = simdFilterGradApplies(info) ? simdFilterGrad(backend, xInfo, dyInfo, info) : undefined;
  if (simd) return simd;
  const n = batch * outH * outW;
  const colsInfo = backend.makeOutput([kh * kw * cin, n], 'float32');
  writeColumns(heapF32(backend, xInfo), heapF32(backend, colsInfo), info);
  const cols = tf.engine().makeTensorFromTensorInfo(colsInfo, backend) as tf.Tensor2D;
  const dy = asTensor(dyInfo, backend);
  try {
    return tf.tidy(() => tf.reshape(tf.matMul(cols, tf.reshape(dy, [n, outC])), filterShape));
  } finally {
    cols.dispose();
    dy.dispose();
  }
}

function viaConvolution(xInfo: tf.TensorInfo, dyInfo: tf.TensorInfo, info: tf.backend_util.Conv2DInfo, backend: BackendWasm): tf.Tensor {
  const x = asTensor(xInfo, backend) as tf.Tensor4D;
  const dy = asTensor(dyInfo, backend) as tf.Tensor4D;
  try {
    return tf.tidy(() => {
      const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw, outHeight: outH, outWidth: outW } = info;
      const { top, left } = info.padInfo;
      let xt = tf.transpose(x, [3, 1, 2, 0]);
      // Rows needed: kh + (outH - 1) * sh after the top padding; pad with zeros or drop the rest.
      const [, inH, inW] = x.shape;
      const extraH = kh + (outH - 1) * sh - inH - top;
      const extraW = kw + (outW - 1) * sw - inW - left;
      if (top > 0 || left > 0 || extraH > 0 || extraW > 0) {
        xt = tf.pad(xt, [[0, 0], [top, Math.max(0, extraH)], [left, Math.max(0, extraW)], [0, 0]]);
      }
      if (extraH < 0 || extraW < 0) {
        xt = tf.slice(xt, [0, 0, 0, 0], [-1, kh + (outH - 1) * sh, kw + (outW - 1) * sw, -1]);
      }
      const filter = tf.transpose(dy, [1, 2, 0, 3]);
      const out = tf.conv2d(xt, filter, 1, 'valid', 'NHWC', [sh, sw]);
      return tf.transpose(out, [1, 2, 0, 3]);
    });
  } finally {
    x.dispose();
    dy.dispose();
  }
}

/** colsT[(kh*KW + kw)*Cin + ci][(b*OH + oh)*OW + ow] = x[b, oh*sh + kh - top, ow*sw + kw - left, ci], 0 in the padding. */
function writeColumns(x: Float32Array, cols: Float32Array, info: tf.backend_util.Conv2DInfo): void {
  const { batchSize: B, inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW } = info;
  const { filterHeight: KH, filterWidth: KW, strideHeight: sh, strideWidth: sw } = info;
  const { top, left } = info.padInfo;
  // One row of colsT per (kh, kw, ci), written front to back; within an output row the valid
  // columns [lo, hi) read x at a fixed step (sw * C), with zeros for the padding on either side.
  let w = 0;
  for (let i = 0; i < KH; i++) {
    for (let j = 0; j < KW; j++) {
      const lo = Math.min(OW, Math.max(0, Math.ceil((left - j) / sw)));
      const hi = Math.max(lo, Math.min(OW, Math.floor((W - 1 + left - j) / sw) + 1));
      for (let ci = 0; ci < C; ci++) {
        for (let b = 0; b < B; b++) {
          for (let oy = 0; oy < OH; oy++) {
            const r = oy * sh + i - top;
            if (r < 0 || r >= H) {
              cols.fill(0, w, w + OW);
              w += OW;
              continue;
            }
            for (let ox = 0; ox < lo; ox++) cols[w++] = 0;
            const step = sw * C;
            let src = ((b * H + r) * W + lo * sw + j - left) * C + ci;
            for (let ox = lo; ox < hi; ox++, src += step) cols[w++] = x[src]!;
            for (let ox = hi; ox < OW; ox++) cols[w++] = 0;
          }
        }
      }
    }
  }
}
