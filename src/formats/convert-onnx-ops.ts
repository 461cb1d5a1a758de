// One handler per supported ONNX op: each reads its inputs' views, adds TF.js layers and weights,
// and records its output value. Activations and a bias Add are folded into the Dense or Conv2D
// that feeds them when nothing else reads that output.
import type { ConstTensor, OnnxNodeView } from './convert-onnx-graph.js';
import {
  corrupt, identity, int, ints, isSame, NHWC_VIEW, outDim, same, unsupported, window, windowPads,
  type Importer, type Val,
} from './convert-onnx-import.js';
import { affineConst, convGrouped, importMobileOp, MOBILE_OPS } from './convert-onnx-ops-mobile.js';

export const ONNX_OPS_SUPPORTED = [
  'Conv', 'MaxPool', 'AveragePool', 'GlobalAveragePool', 'Gemm', 'MatMul', 'Add', 'Relu', 'Sigmoid', 'Tanh', 'Softmax',
  'Flatten', 'Reshape', 'Transpose', 'BatchNormalization', 'Dropout', 'Identity', 'Constant',
  ...MOBILE_OPS,
] as const;

const ACTIVATION: Record<string, string> = { Relu: 'relu', Sigmoid: 'sigmoid', Tanh: 'tanh' };

export function one(im: Importer, n: OnnxNodeView): Val {
  if (!n.inputs[0]) throw corrupt(`node ${n.name} (${n.opType}) has no input`);
  return im.val(n.inputs[0], n);
}

export function out(im: Importer, n: OnnxNodeView, v: Val): void {
  if (!n.outputs[0]) throw corrupt(`node ${n.name} (${n.opType}) has no output`);
  for (const extra of n.outputs.slice(1)) if (extra && im.uses.has(extra)) throw unsupported(`node ${n.name} (${n.opType}) output ${extra} is used; only the first output is supported`);
  im.set(n.outputs[0], v);
}

/** The layer of `v` if it is a linear Dense/Conv2D read only by this node, so it can absorb an activation or bias. */
export function fusable(im: Importer, v: Val): ReturnType<Importer['byName']['get']> {
  const rec = im.byName.get(v.layer);
  if (!rec || !['Dense', 'Conv2D', 'DepthwiseConv2D'].includes(rec.className) || rec.config.activation !== 'linear') return undefined;
  if (!im.soleReader(rec.name)) return undefined;
  return rec;
}

export function importNode(im: Importer, n: OnnxNodeView): void {
  if (!n.outputs[0]) throw corrupt(`node ${n.name} (${n.opType}) has no output`);
  switch (n.opType) {
    case 'Identity':
    case 'Dropout': return out(im, n, one(im, n));
    case 'Transpose': {
      const x = one(im, n);
      const p = ints(n.attrs, 'perm', identity(x.dims.length).reverse());
      if (!same([...p].sort((a, b) => a - b), identity(x.dims.length))) throw corrupt(`node ${n.name} has perm [${p.join(',')}] for rank ${x.dims.length}`);
      if (p[0] !== 0) throw unsupported(`node ${n.name} (Transpose) moves the batch axis`);
      return out(im, n, { layer: x.layer, perm: p.map((i) => x.perm[i]!), dims: p.map((i) => x.dims[i]!) });
    }
    case 'Relu':
    case 'Sigmoid':
    case 'Tanh': {
      const x = one(im, n);
      const rec = fusable(im, x);
      if (rec) rec.config.activation = ACTIVATION[n.opType];
      else return out(im, n, { ...x, layer: im.addLayer('Activation', n.outputs[0]!, { activation: ACTIVATION[n.opType] }, [x.layer]) });
      return out(im, n, x);
    }
    case 'Softmax': return softmax(im, n);
    case 'Flatten': {
      const x = one(im, n);
      if (int(n.attrs, 'axis', 1) !== 1) throw unsupported(`node ${n.name} (Flatten) with axis ${String(n.attrs.get('axis'))}; only axis 1 is supported`);
      const size = x.dims.slice(1).reduce((a, b) => a * b, 1);
      if (x.dims.length === 2) return out(im, n, x);
      if (size < 1) throw unsupported(`node ${n.name} (Flatten) needs static dims, got [${x.dims.join(',')}]`);
      return out(im, n, { layer: im.addLayer('Flatten', n.outputs[0]!, {}, [im.view(x, identity(x.dims.length), n)]), perm: [0, 1], dims: [-1, size] });
    }
    case 'Reshape': return reshape(im, n);
    case 'Gemm': return gemm(im, n);
    case 'MatMul': return matmul(im, n);
    case 'Add': return add(im, n);
    case 'Conv': return conv(im, n);
    case 'MaxPool':
    case 'AveragePool': return pool(im, n);
    case 'GlobalAveragePool': {
      const x = one(im, n);
      if (x.dims.length !== 4) throw unsupported(`node ${n.name} (GlobalAveragePool) on rank ${x.dims.length}`);
      const gap = im.addLayer('GlobalAveragePooling2D', `${n.outputs[0]}_gap`, { data_format: 'channels_last' }, [im.view(x, NHWC_VIEW, n)]);
      const c = x.dims[1]!;
      return out(im, n, { layer: im.addLayer('Reshape', n.outputs[0]!, { target_shape: [1, 1, c] }, [gap]), perm: NHWC_VIEW, dims: [-1, c, 1, 1] });
    }
    case 'BatchNormalization': return batchNorm(im, n);
    default:
      if (importMobileOp(im, n)) return;
      throw unsupported(`op ${n.opType} (node ${n.name}) is not supported by the converter (supported: ${ONNX_OPS_SUPPORTED.join(', ')})`);
  }
}

function softmax(im: Importer, n: OnnxNodeView): void {
  const x = one(im, n);
  const rank = x.dims.length;
  const raw = int(n.attrs, 'axis', im.g.opset >= 13 ? -1 : 1);
  const a = raw < 0 ? raw + rank : raw;
  // Before opset 13 Softmax flattens from `axis` on; that is a one-axis softmax only on the last axis.
  if (a < 1 || a >= rank || (im.g.opset < 13 && a !== rank - 1)) throw unsupported(`node ${n.name} (Softmax) over axis ${raw} of a rank-${rank} input`);
  const axis = x.perm[a]!;
  const rec = axis === rank - 1 ? fusable(im, x) : undefined;
  if (rec) {
    rec.config.activation = 'softmax';
    return out(im, n, x);
  }
  out(im, n, { ...x, layer: im.addLayer('Softmax', n.outputs[0]!, { axis }, [x.layer]) });
}

function reshape(im: Importer, n: OnnxNodeView): void {
  const x = one(im, n);
  const shape = Array.from(im.konst(n.inputs[1], n, 'the shape').values);
  if (shape.length < 2 || shape.length > 6) throw unsupported(`node ${n.name} (Reshape) to rank ${shape.length}`);
  if (int(n.attrs, 'allowzero', 0) !== 0) throw unsupported(`node ${n.name} (Reshape) with allowzero`);
  if (shape[0] !== 0 && shape[0] !== -1) throw unsupported(`node ${n.name} (Reshape) sets the batch dim to ${shape[0]}; only 0 or -1 (keep the batch) is supported`);
  const total = x.dims.slice(1).reduce((a, b) => a * b, 1);
  if (x.dims.slice(1).some((d) => d < 1)) throw unsupported(`node ${n.name} (Reshape) needs static input dims`);
  const rest = shape.slice(1).map((d, i) => (d === 0 ? x.dims[i + 1]! : d));
  const free = rest.filter((d) => d === -1).length;
  if (shape[0] === -1 && free > 0) throw unsupported(`node ${n.name} (Reshape) has more than one -1`);
  const known = rest.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
  if (free > 1 || rest.some((d) => d < -1) || (free === 0 ? known !== total : total % known !== 0)) throw corrupt(`node ${n.name} (Reshape) cannot make [${shape.join(',')}] from [${x.dims.join(',')}]`);
  const target = rest.map((d) => (d === -1 ? total / known : d));
  const layer = im.addLayer('Reshape', n.outputs[0]!, { target_shape: target }, [im.view(x, identity(x.dims.length), n)]);
  out(im, n, { layer, perm: identity(target.length + 1), dims: [-1, ...target] });
}

/** Float values of a constant broadcast to [units], for biases given as [u], [1,u] or a scalar. */
function vector(c: ConstTensor, units: number): Float32Array | undefined {
  const dims = c.shape.filter((d, i) => !(d === 1 && i < c.shape.length - 1));
  if (c.values.length === units && (dims.length === 1 || c.shape.length === 0)) return c.values;
  if (c.values.length === 1) return new Float32Array(units).fill(c.values[0]!);
  return undefined;
}

function dense(im: Importer, n: OnnxNodeView, x: Val, kernel: Float32Array, inDim: number, units: number, bias: Float32Array | undefined): void {
  if (x.dims[x.dims.length - 1] !== inDim) throw corrupt(`node ${n.name} (${n.opType}) multiplies [${x.dims.join(',')}] by a [${inDim},${units}] matrix`);
  const layer = im.addLayer('Dense', n.outputs[0]!, { units, activation: 'linear', use_bias: bias !== undefined }, [im.view(x, identity(x.dims.length), n)]);
  im.addWeight(layer, 'kernel', [inDim, units], kernel);
  if (bias) im.addWeight(layer, 'bias', [units], bias);
  out(im, n, { layer, perm: identity(x.dims.length), dims: [...x.dims.slice(0, -1), units] });
}

function gemm(im: Importer, n: OnnxNodeView): void {
  const x = one(im, n);
  if (x.dims.length !== 2) throw unsupported(`node ${n.name} (Gemm) on a rank-${x.dims.length} input`);
  if (int(n.attrs, 'transA', 0) !== 0) throw unsupported(`node ${n.name} (Gemm) with transA=1`);
  const b = im.konst(n.inputs[1], n, 'B');
  if (b.shape.length !== 2) throw corrupt(`node ${n.name} (Gemm) B has rank ${b.shape.length}`);
  const transB = int(n.attrs, 'transB', 0) !== 0;
  const alpha = typeof n.attrs.get('alpha') === 'number' ? (n.attrs.get('alpha') as number) : 1;
  const beta = typeof n.attrs.get('beta') === 'number' ? (n.attrs.get('beta') as number) : 1;
  const [r, c] = b.shape as [number, number];
  const [inDim, units] = transB ? [c, r] : [r, c];
  const kernel = new Float32Array(inDim * units);
  for (let i = 0; i < inDim; i++) for (let j = 0; j < units; j++) kernel[i * units + j] = alpha * b.values[transB ? j * c + i : i * c + j]!;
  let bias: Float32Array | undefined;
  if (n.inputs[2]) {
    const v = vector(im.konst(n.inputs[2], n, 'C'), units);
    if (!v) throw unsupported(`node ${n.name} (Gemm) C of shape [${im.konst(n.inputs[2], n, 'C').shape.join(',')}] is not a per-unit bias`);
    bias = v.map((e) => beta * e);
  }
  dense(im, n, x, kernel, inDim, units, bias);
}

function matmul(im: Importer, n: OnnxNodeView): void {
  const x = one(im, n);
  const b = im.konst(n.inputs[1], n, 'the second operand');
  if (b.shape.length !== 2) throw unsupported(`node ${n.name} (MatMul) by a rank-${b.shape.length} constant`);
  dense(im, n, x, b.values, b.shape[0]!, b.shape[1]!, undefined);
}

function add(im: Importer, n: OnnxNodeView): void {
  const [a, b] = n.inputs;
  if (!a || !b || n.inputs.length !== 2) throw corrupt(`node ${n.name} (Add) needs two inputs`);
  const ca = im.g.consts.get(a);
  const cb = im.g.consts.get(b);
  if (ca && cb) throw unsupported(`node ${n.name} (Add) of two constants`);
  if (ca || cb) {
    // A bias: fold it into the Dense or Conv2D that produced the other operand.
    const x = im.val(ca ? b : a, n);
    const c = (ca ?? cb)!;
    const rec = im.byName.get(x.layer);
    const units = x.dims[x.dims.length === 4 ? 1 : x.dims.length - 1]!;
    const onlyReader = rec !== undefined && im.soleReader(rec.name);
    const okShape = x.dims.length === 4 ? c.shape.length >= 3 && c.shape.slice(-2).every((d) => d === 1) : true;
    const v = okShape ? vector({ ...c, shape: x.dims.length === 4 ? c.shape.slice(0, -2) : c.shape }, units) : undefined;
    if (!rec || !onlyReader || !v || rec.config.use_bias !== false || rec.config.activation !== 'linear' || !(rec.className === 'Dense' || (rec.className === 'Conv2D' && same(x.perm, NHWC_VIEW)))) {
      return out(im, n, affineConst(im, n, x, c, 'add'));
    }
    rec.config.use_bias = true;
    im.addWeight(rec.name, 'bias', [units], Float32Array.from(v));
    return out(im, n, x);
  }
  const x = im.val(a, n);
  const y = im.val(b, n);
  if (x.dims.length !== y.dims.length || x.dims.some((d, i) => d !== y.dims[i] && y.dims[i] !== 1)) throw unsupported(`node ${n.name} (Add) broadcasts [${x.dims.join(',')}] with [${y.dims.join(',')}]; only equal shapes (or 1s in the second) are supported`);
  const layer = im.addLayer('Add', n.outputs[0]!, {}, [x.layer, im.view(y, x.perm, n)]);
  out(im, n, { ...x, layer });
}

function conv(im: Importer, n: OnnxNodeView): void {
  const x = one(im, n);
  const w = im.konst(n.inputs[1], n, 'the weight');
  if (w.shape.length !== 4) throw unsupported(`node ${n.name} (Conv) with a rank-${w.shape.length} kernel; only 2-D convolutions are supported`);
  const [cout, cin, kh, kw] = w.shape as [number, number, number, number];
  if (int(n.attrs, 'group', 1) !== 1) return convGrouped(im, n, x, w);
  if (cin !== x.dims[1]) throw corrupt(`node ${n.name} (Conv) kernel takes ${cin} channels, input has ${x.dims[1]}`);
  const { k, s, d } = window(n, x, ints(n.attrs, 'kernel_shape', [kh, kw]));
  if (k[0] !== kh || k[1] !== kw) throw corrupt(`node ${n.name} (Conv) kernel_shape disagrees with its weight`);
  const pads = windowPads(n, x, k, s, d);
  let input = im.view(x, NHWC_VIEW, n);
  let padding = 'valid';
  if (isSame(x, pads, k, s, d) && pads.some((p) => p > 0)) padding = 'same';
  else if (pads.some((p) => p > 0)) input = im.addLayer('ZeroPadding2D', `${n.outputs[0]}_pad`, { padding: [[pads[0], pads[2]], [pads[1], pads[3]]], data_format: 'channels_last' }, [input]);
  const kernel = new Float32Array(w.values.length);
  for (let co = 0; co < cout; co++) for (let ci = 0; ci < cin; ci++) for (let i = 0; i < kh; i++) for (let j = 0; j < kw; j++) {
    kernel[((i * kw + j) * cin + ci) * cout + co] = w.values[((co * cin + ci) * kh + i) * kw + j]!;
  }
  let bias: Float32Array | undefined;
  if (n.inputs[2]) bias = vector(im.konst(n.inputs[2], n, 'the bias'), cout);
  if (n.inputs[2] && !bias) throw corrupt(`node ${n.name} (Conv) bias is not [${cout}]`);
  const layer = im.addLayer('Conv2D', n.outputs[0]!, {
    filters: cout, kernel_size: k, strides: s, dilation_rate: d, padding, data_format: 'channels_last', activation: 'linear', use_bias: bias !== undefined,
  }, [input]);
  im.addWeight(layer, 'kernel', [kh, kw, cin, cout], kernel);
  if (bias) im.addWeight(layer, 'bias', [cout], bias);
  const dims = [-1, cout, outDim(x.dims[2]!, kh, s[0], d[0], pads[0]!, pads[2]!, n.name), outDim(x.dims[3]!, kw, s[1], d[1], pads[1]!, pads[3]!, n.name)];
  out(im, n, { layer, perm: NHWC_VIEW, dims });
}

function pool(im: Importer, n: OnnxNodeView): void {
  const x = one(im, n);
  const max = n.opType === 'MaxPool';
  const { k, s, d } = window(n, x, ints(n.attrs, 'kernel_shape', []));
  if (d[0] !== 1 || d[1] !== 1) throw unsupported(`node ${n.name} (${n.opType}) with dilations`);
  if (int(n.attrs, 'ceil_mode', 0) !== 0) throw unsupported(`node ${n.name} (${n.opType}) with ceil_mode=1`);
  if (max && int(n.attrs, 'storage_order', 0) !== 0) throw unsupported(`node ${n.name} (MaxPool) with storage_order=1`);
  if (max && n.outputs[1] && im.uses.has(n.outputs[1])) throw unsupported(`node ${n.name} (MaxPool) Indices output`);
  const pads = windowPads(n, x, k, s, d);
  const includePad = !max && int(n.attrs, 'count_include_pad', 0) !== 0;
  let input = im.view(x, NHWC_VIEW, n);
  let padding = 'valid';
  if (pads.some((p) => p > 0)) {
    // TF 'same' pooling ignores padded pixels, as MaxPool and AveragePool(count_include_pad=0) do;
    // AveragePool that counts padding as zeros is zero padding followed by a valid pool.
    if (includePad) input = im.addLayer('ZeroPadding2D', `${n.outputs[0]}_pad`, { padding: [[pads[0], pads[2]], [pads[1], pads[3]]], data_format: 'channels_last' }, [input]);
    else if (isSame(x, pads, k, s, d)) padding = 'same';
    else throw unsupported(`node ${n.name} (${n.opType}) pads [${pads.join(',')}] differ from TF 'same' padding and cannot be expressed in TF.js`);
  }
  const layer = im.addLayer(max ? 'MaxPooling2D' : 'AveragePooling2D', n.outputs[0]!, { pool_size: k, strides: s, padding, data_format: 'channels_last' }, [input]);
  const dims = [-1, x.dims[1]!, outDim(x.dims[2]!, k[0], s[0], 1, pads[0]!, pads[2]!, n.name), outDim(x.dims[3]!, k[1], s[1], 1, pads[1]!, pads[3]!, n.name)];
  out(im, n, { layer, perm: NHWC_VIEW, dims });
}

function batchNorm(im: Importer, n: OnnxNodeView): void {
  const x = one(im, n);
  if (int(n.attrs, 'training_mode', 0) !== 0) throw unsupported(`node ${n.name} (BatchNormalization) in training mode`);
  if (int(n.attrs, 'spatial', 1) !== 1) throw unsupported(`node ${n.name} (BatchNormalization) with spatial=0`);
  if (x.dims.length < 2) throw corrupt(`node ${n.name} (BatchNormalization) on a rank-${x.dims.length} input`);
  const c = x.dims[1]!;
  const p = ['scale', 'B', 'mean', 'var'].map((what, i) => {
    const v = vector(im.konst(n.inputs[i + 1], n, what), c);
    if (!v || im.konst(n.inputs[i + 1], n, what).values.length !== c) throw corrupt(`node ${n.name} (BatchNormalization) ${what} is not [${c}]`);
    return v;
  });
  const eps = typeof n.attrs.get('epsilon') === 'number' ? (n.attrs.get('epsilon') as number) : 1e-5;
  const layer = im.addLayer('BatchNormalization', n.outputs[0]!, { axis: x.perm[1], epsilon: eps, momentum: 0.99, center: true, scale: true }, [x.layer]);
  ['gamma', 'beta', 'moving_mean', 'moving_variance'].forEach((w, i) => im.addWeight(layer, w, [c], p[i]!));
  out(im, n, { ...x, layer });
}
