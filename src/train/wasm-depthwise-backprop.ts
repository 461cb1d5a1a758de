/**
 * The two gradients of a depthwise convolution (filter [KH, KW, C, M], output channel c*M + m), which
 * tfjs-backend-wasm 4.x does not ship, each as wasm's own forward DepthwiseConv2dNative (XNNPACK):
 *
 * - input:  dx[.., c] = sum_m depthwise(dy'[.., c*M + m], W rotated by 180 degrees [.., c, m]), dy' being
 *           dy zero-stuffed by the stride (as for Conv2DBackpropInput); one depthwise pass per m.
 * - filter: dW[kh,kw,c,m] = sum_{b,oh,ow} x[b, oh*s + kh - top, ow*s + kw - left, c] * dy[b,oh,ow,c*M+m]
 *           is one depthwise convolution of x laid out as [1, H, W, C*B] (channel c*B + b) with dy laid
 *           out as the filter [OH, OW, C*B, M], dilated by the forward stride, summed over b.
 */
import * as tf from '@tensorflow/tfjs';
import { TrainError } from './errors.js';
import { dilateSpatial, inputsOf, rotatedFilter, withTensors, type KernelArgs } from './kernel-util.js';
import { checkDy, padded } from './wasm-conv-backprop-input.js';

export const DEPTHWISE_BACKPROP_INPUT = 'DepthwiseConv2dNativeBackpropInput';
export const DEPTHWISE_BACKPROP_FILTER = 'DepthwiseConv2dNativeBackpropFilter';

interface Attrs {
  strides: [number, number] | number;
  dilations: [number, number] | number;
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  inputShape?: [number, number, number, number];
  filterShape?: [number, number, number, number];
}

function convInfo(kernel: string, a: Attrs, xShape: [number, number, number, number], filterShape: [number, number, number, number]) {
  const info = tf.backend_util.computeConv2DInfo(xShape, filterShape, a.strides, a.dilations, a.pad, a.dimRoundingMode, true);
  if (info.dilationHeight !== 1 || info.dilationWidth !== 1) {
    throw new TrainError('TRAIN_UNSUPPORTED_OP', `${kernel} on wasm supports dilation 1 only (as tfjs-core's gradient does)`);
  }
  return info;
}

export function depthwiseBackpropInput(args: KernelArgs): tf.Tensor {
  const a = args.attrs as unknown as Attrs;
  const [dyInfo, filterInfo] = inputsOf(DEPTHWISE_BACKPROP_INPUT, args, ['dy', 'filter']);
  const filterShape = filterInfo!.shape as [number, number, number, number];
  const info = convInfo(DEPTHWISE_BACKPROP_INPUT, a, a.inputShape!, filterShape);
  checkDy(dyInfo!.shape, info);
  return withTensors(args.backend, [dyInfo!, filterInfo!], ([dy, filter]) => {
    const [kh, kw, c, m] = filterShape;
    const rotated = rotatedFilter(filter as tf.Tensor4D, false);
    const stuffed = dilateSpatial(dy as tf.Tensor4D, info.strideHeight, info.strideWidth);
    const { t, pad } = padded(stuffed, info, kh, kw);
    if (m === 1) return tf.depthwiseConv2d(t, rotated, 1, pad);
    const [b, h, w] = t.shape;
    const perM = tf.reshape(t, [b, h, w, c, m]);
    let sum: tf.Tensor4D | undefined;
    for (let q = 0; q < m; q++) {
      const dyQ = tf.reshape(tf.slice(perM, [0, 0, 0, 0, q], [-1, -1, -1, -1, 1]), [b, h, w, c]) as tf.Tensor4D;
      const wQ = tf.slice(rotated, [0, 0, 0, q], [-1, -1, -1, 1]);
      const part = tf.depthwiseConv2d(dyQ, wQ, 1, pad);
      sum = sum === undefined ? part : (tf.add(sum, part) as tf.Tensor4D);
    }
    return sum!;
  });
}

export function depthwiseBackpropFilter(args: KernelArgs): tf.Tensor {
  const a = args.attrs as unknown as Attrs;
  const [xInfo, dyInfo] = inputsOf(DEPTHWISE_BACKPROP_FILTER, args, ['x', 'dy']);
  const filterShape = a.filterShape!;
  const info = convInfo(DEPTHWISE_BACKPROP_FILTER, a, xInfo!.shape as [number, number, number, number], filterShape);
  checkDy(dyInfo!.shape, info);
  return withTensors(args.backend, [xInfo!, dyInfo!], ([x, dy]) => {
    const [kh, kw, c, m] = filterShape;
    const [b, inH, inW] = x!.shape as [number, number, number, number];
    const { outHeight: oh, outWidth: ow, strideHeight: sh, strideWidth: sw } = info;
    const { top, left } = info.padInfo;
    // Rows the window reaches: kh + (oh - 1) * sh from the top padding on; pad or drop the rest.
    const needH = kh + (oh - 1) * sh;
    const needW = kw + (ow - 1) * sw;
    let xp = x as tf.Tensor4D;
    const extraH = needH - inH - top;
    const extraW = needW - inW - left;
    if (top > 0 || left > 0 || extraH > 0 || extraW > 0) {
      xp = tf.pad(xp, [[0, 0], [top, Math.max(0, extraH)], [left, Math.max(0, extraW)], [0, 0]]);
    }
    if (extraH < 0 || extraW < 0) xp = tf.slice(xp, [0, 0, 0, 0], [-1, needH, needW, -1]);
    const xs = tf.reshape(tf.transpose(xp, [1, 2, 3, 0]), [1, needH, needW, c * b]) as tf.Tensor4D;
    const f = tf.reshape(tf.transpose(tf.reshape(dy!, [b, oh, ow, c, m]), [1, 2, 3, 0, 4]), [oh, ow, c * b, m]) as tf.Tensor4D;
    const out = tf.depthwiseConv2d(xs, f, 1, 'valid', 'NHWC', [sh, sw]);
    return tf.sum(tf.reshape(out, [kh, kw, c, b, m]), 3);
  });
}
