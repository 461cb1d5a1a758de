/**
 * The Conv2DBackpropFilter kernel that @tensorflow/tfjs-backend-wasm 4.x does not ship, so that
 * convolutions can be trained on wasm. It reuses wasm's own (XNNPACK, SIMD) forward Conv2D:
 *
 *   dW[kh,kw,ci,co] = sum_{b,oh,ow} x[b, oh*s + kh - padTop, ow*s + kw - padLeft, ci] * dy[b,oh,ow,co]
 *
 * is a stride-1 convolution of x' = transpose(x) [Cin, H, W, B] (batch as channels), padded by the
 * forward padding, with the filter dy' = transpose(dy) [OH, OW, B, Cout] dilated by the forward
 * stride; its output [Cin, KH, KW, Cout] transposed back is dW. Registered by wasm-kernels.ts.
 */
import * as tf from '@tensorflow/tfjs';
import { TrainError } from './errors.js';
import { asTensor } from './kernel-util.js';

const KERNEL = 'Conv2DBackpropFilter';

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
}): tf.Tensor {
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
  const x = asTensor(xInfo, args.backend as tf.KernelBackend) as tf.Tensor4D;
  const dy = asTensor(dyInfo, args.backend as tf.KernelBackend) as tf.Tensor4D;
  try {
    return tf.tidy(() => {
      const [kh, kw] = filterShape;
      const { strideHeight: sh, strideWidth: sw } = info;
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
