// The ops of mobile vision models (MobileNet v1-v3, EfficientNet-lite, U-Net-style decoders) as
// PyTorch, tf2onnx and keras2onnx export them: Clip (ReLU6), HardSigmoid, HardSwish, elementwise
// Mul/Add/Sub/Div with constants or broadcast values, ReduceMean over the image, Resize by
// integer factors, ConvTranspose, grouped and depthwise Conv, Concat and Pad. Each maps onto
// TF.js layers that compute the same values (checked against onnxruntime-node in
// test/formats/convert-onnx-mobile.test.ts); anything else is refused with its reason.
import type { ConstTensor, OnnxNodeView } from './convert-onnx-graph.js';
import {
  corrupt, identity, int, ints, isSame, NHWC_VIEW, outDim, same, unsupported, window, windowPads,
  type Importer, type Val,
} from './convert-onnx-import.js';
import { fusable, one, out } from './convert-onnx-ops.js';

export const MOBILE_OPS = [
  'Clip', 'HardSigmoid', 'HardSwish', 'Mul', 'Sub', 'Div', 'ReduceMean', 'Resize', 'Upsample', 'ConvTranspose', 'Concat', 'Pad',
] as const;

const num = (n: OnnxNodeView, k: string, d: number): number => {
  const v = n.attrs.get(k);
  return typeof v === 'number' ? v : d;
};

/** Adds ReLU(max) or an activation, fused into the producing conv/dense when only it reads it. */
function activation(im: Importer, n: OnnxNodeView, x: Val, act: 'relu' | 'relu6'): void {
  const rec = fusable(im, x);
  if (rec) {
    rec.config.activation = act;
    return out(im, n, x);
  }
  out(im, n, { ...x, layer: im.addLayer('Activation', n.outputs[0]!, { activation: act }, [x.layer]) });
}

function clip(im: Importer, n: OnnxNodeView): void {
  const x = one(im, n);
  const bound = (i: number, attr: string): number | undefined => {
    if (im.g.opset < 11) return typeof n.attrs.get(attr) === 'number' ? (n.attrs.get(attr) as number) : undefined;
    const name = n.inputs[i];
    if (!name) return undefined;
    const c = im.konst(name, n, attr);
    if (c.values.length !== 1) throw unsupported(`node ${n.name} (Clip) ${attr} is not a scalar`);
    return c.values[0];
  };
  const lo = bound(1, 'min');
  const hi = bound(2, 'max');
  if (lo === 0 && hi === 6) return activation(im, n, x, 'relu6');
  if (lo === 0 && hi === undefined) return activation(im, n, x, 'relu');
  if (lo === 0 && hi !== undefined && hi > 0) return out(im, n, { ...x, layer: im.addLayer('ReLU', n.outputs[0]!, { max_value: hi }, [x.layer]) });
  throw unsupported(`node ${n.name} (Clip) to [${lo ?? '-inf'}, ${hi ?? 'inf'}]; only Clip from 0 (ReLU, ReLU6, ReLU(max)) converts to TF.js layers`);
}

/** max(0, min(1, alpha x + beta)) as Rescaling then ReLU(max 1); TF.js's own hard_sigmoid when alpha 0.2, beta 0.5. */
function hardSigmoid(im: Importer, n: OnnxNodeView, x: Val, alpha: number, beta: number, base: string): Val {
  if (Math.abs(alpha - 0.2) < 1e-7 && Math.abs(beta - 0.5) < 1e-7) return { ...x, layer: im.addLayer('Activation', base, { activation: 'hard_sigmoid' }, [x.layer]) };
  const lin = im.addLayer('Rescaling', `${base}_lin`, { scale: alpha, offset: beta }, [x.layer]);
  return { ...x, layer: im.addLayer('ReLU', base, { max_value: 1 }, [lin]) };
}

/** Channel axis of an ONNX value (axis 1), or undefined for a scalar-only op. */
function perChannel(x: Val, c: ConstTensor): Float32Array | 'scalar' | undefined {
  if (c.values.length === 1) return 'scalar';
  const ch = x.dims[1]!;
  const r = x.dims.length;
  // [C], [C,1,1], [1,C,1,1] for rank 4; [C] or [1,C] for rank 2 (numpy broadcasting from the right).
  const padded = [...new Array<number>(Math.max(0, r - c.shape.length)).fill(1), ...c.shape];
  if (padded.length !== r) return undefined;
  const ok = padded.every((d, i) => (i === 1 ? d === ch : d === 1));
  return ok ? c.values : undefined;
}

/** x (op) constant, elementwise: Rescaling for a scalar, a 1x1 depthwise conv per channel (images), a diagonal Dense (vectors). */
export function affineConst(im: Importer, n: OnnxNodeView, x: Val, c: ConstTensor, op: 'add' | 'sub' | 'rsub' | 'mul' | 'div'): Val {
  const k = perChannel(x, c);
  if (!k) throw unsupported(`node ${n.name} (${n.opType}) with a constant of shape [${c.shape.join(',')}] on [${x.dims.join(',')}]; only scalars and per-channel constants are supported`);
  const map = (v: number): [number, number] => {
    switch (op) {
      case 'add': return [1, v];
      case 'sub': return [1, -v];
      case 'rsub': return [-1, v];
      case 'mul': return [v, 0];
      case 'div': return [1 / v, 0];
    }
  };
  const base = n.outputs[0]!;
  if (k === 'scalar') {
    const [scale, offset] = map(c.values[0]!);
    return { ...x, layer: im.addLayer('Rescaling', base, { scale, offset }, [x.layer]) };
  }
  const ch = x.dims[1]!;
  const scale = new Float32Array(ch);
  const offset = new Float32Array(ch);
  k.forEach((v, i) => ([scale[i], offset[i]] = map(v)));
  if (x.dims.length === 4) {
    const layer = im.addLayer('DepthwiseConv2D', base, { kernel_size: [1, 1], strides: [1, 1], padding: 'valid', depth_multiplier: 1, data_format: 'channels_last', activation: 'linear', use_bias: true }, [im.view(x, NHWC_VIEW, n)]);
    im.addWeight(layer, 'depthwise_kernel', [1, 1, ch, 1], scale);
    im.addWeight(layer, 'bias', [ch], offset);
    return { layer, perm: NHWC_VIEW, dims: x.dims };
  }
  if (x.dims.length !== 2) throw unsupported(`node ${n.name} (${n.opType}) with a per-channel constant on a rank-${x.dims.length} value`);
  if (ch > 4096) throw unsupported(`node ${n.name} (${n.opType}) per-channel constant over ${ch} features`);
  const kernel = new Float32Array(ch * ch);
  for (let i = 0; i < ch; i++) kernel[i * ch + i] = scale[i]!;
  const layer = im.addLayer('Dense', base, { units: ch, activation: 'linear', use_bias: true }, [im.view(x, identity(2), n)]);
  im.addWeight(layer, 'kernel', [ch, ch], kernel);
  im.addWeight(layer, 'bias', [ch], offset);
  return { layer, perm: identity(2), dims: x.dims };
}

function binary(im: Importer, n: OnnxNodeView): void {
  const [a, b] = n.inputs;
  if (!a || !b || n.inputs.length !== 2) throw corrupt(`node ${n.name} (${n.opType}) needs two inputs`);
  const ca = im.g.consts.get(a);
  const cb = im.g.consts.get(b);
  if (ca && cb) throw unsupported(`node ${n.name} (${n.opType}) of two constants`);
  const kind = n.opType === 'Mul' ? 'mul' : n.opType === 'Sub' ? 'sub' : 'div';
  if (cb) return out(im, n, affineConst(im, n, im.val(a, n), cb, kind));
  if (ca) {
    if (kind === 'div') throw unsupported(`node ${n.name} (Div) of a constant by a computed value`);
    return out(im, n, affineConst(im, n, im.val(b, n), ca, kind === 'sub' ? 'rsub' : 'mul'));
  }
  if (kind !== 'mul') throw unsupported(`node ${n.name} (${n.opType}) of two computed values; only Mul is supported`);
  let x = im.val(a, n);
  let y = im.val(b, n);
  // Squeeze-and-excitation multiplies [N,C,H,W] by [N,C,1,1]: the full-size operand comes first.
  if (y.dims.some((d, i) => d > x.dims[i]!)) [x, y] = [y, x];
  if (x.dims.length !== y.dims.length || x.dims.some((d, i) => d !== y.dims[i] && y.dims[i] !== 1)) throw unsupported(`node ${n.name} (Mul) broadcasts [${x.dims.join(',')}] with [${y.dims.join(',')}]`);
  out(im, n, { ...x, layer: im.addLayer('Multiply', n.outputs[0]!, {}, [x.layer, im.view(y, x.perm, n)]) });
}

function hardSwish(im: Importer, n: OnnxNodeView): void {
  const x = one(im, n);
  const hs = hardSigmoid(im, n, x, 1 / 6, 0.5, `${n.outputs[0]}_hsig`);
  out(im, n, { ...x, layer: im.addLayer('Multiply', n.outputs[0]!, {}, [x.layer, hs.layer]) });
}

function reduceMean(im: Importer, n: OnnxNodeView): void {
  const x = one(im, n);
  const axes = n.inputs[1] ? Array.from(im.konst(n.inputs[1], n, 'axes').values) : ints(n.attrs, 'axes', []);
  const norm = axes.map((a) => (a < 0 ? a + x.dims.length : a)).sort();
  if (x.dims.length !== 4 || !same(norm, [2, 3])) throw unsupported(`node ${n.name} (ReduceMean) over axes [${axes.join(',')}] of rank ${x.dims.length}; only the image axes [2,3] are supported`);
  const keep = int(n.attrs, 'keepdims', 1) !== 0;
  const c = x.dims[1]!;
  const gap = im.addLayer('GlobalAveragePooling2D', keep ? `${n.outputs[0]}_gap` : n.outputs[0]!, { data_format: 'channels_last' }, [im.view(x, NHWC_VIEW, n)]);
  if (!keep) return out(im, n, { layer: gap, perm: identity(2), dims: [-1, c] });
  out(im, n, { layer: im.addLayer('Reshape', n.outputs[0]!, { target_shape: [1, 1, c] }, [gap]), perm: NHWC_VIEW, dims: [-1, c, 1, 1] });
}

function resize(im: Importer, n: OnnxNodeView): void {
  const x = one(im, n);
  if (x.dims.length !== 4) throw unsupported(`node ${n.name} (${n.opType}) on rank ${x.dims.length}`);
  const mode = String(n.attrs.get('mode') ?? 'nearest');
  const ctm = String(n.attrs.get('coordinate_transformation_mode') ?? (n.opType === 'Upsample' ? 'asymmetric' : 'half_pixel'));
  // Upsample (opset 9) and Resize 10 take scales at input 1; Resize 11+ at input 2, sizes at input 3.
  const si = n.opType === 'Upsample' || im.g.opset < 11 ? 1 : 2;
  let scales: number[] | undefined;
  const sc = n.inputs[si] ? im.g.consts.get(n.inputs[si]!) : undefined;
  if (sc && sc.values.length === 4) scales = Array.from(sc.values);
  const sz = n.inputs[3] ? im.g.consts.get(n.inputs[3]) : undefined;
  if (!scales && sz && sz.values.length === 4) scales = Array.from(sz.values, (v, i) => v / x.dims[i]!);
  if (!scales) throw unsupported(`node ${n.name} (${n.opType}) needs constant scales or sizes`);
  const [sh, sw] = [scales[2]!, scales[3]!];
  if (scales[0] !== 1 && x.dims[0] !== -1) throw unsupported(`node ${n.name} (${n.opType}) scales the batch`);
  if (Math.abs(scales[1]! - 1) > 1e-6 || !Number.isInteger(sh) || !Number.isInteger(sw) || sh < 1 || sw < 1) throw unsupported(`node ${n.name} (${n.opType}) by [${scales.join(',')}]; only integer upscaling of the image axes is supported`);
  let interpolation: string;
  if (mode === 'nearest') interpolation = 'nearest'; // integer factors: floor(d / s) under every transform and rounding but round_prefer_ceil
  else if ((mode === 'linear' || mode === 'bilinear') && ctm === 'asymmetric') interpolation = 'bilinear';
  else throw unsupported(`node ${n.name} (${n.opType}) mode ${mode} with ${ctm} coordinates; TF.js UpSampling2D does nearest, or linear with asymmetric coordinates`);
  if (mode === 'nearest' && String(n.attrs.get('nearest_mode') ?? 'round_prefer_floor') === 'round_prefer_ceil' && ctm !== 'asymmetric') throw unsupported(`node ${n.name} (${n.opType}) nearest_mode round_prefer_ceil`);
  const layer = im.addLayer('UpSampling2D', n.outputs[0]!, { size: [sh, sw], interpolation, data_format: 'channels_last' }, [im.view(x, NHWC_VIEW, n)]);
  out(im, n, { layer, perm: NHWC_VIEW, dims: [-1, x.dims[1]!, x.dims[2]! * sh, x.dims[3]! * sw] });
}

function concat(im: Importer, n: OnnxNodeView): void {
  const vals = n.inputs.map((i) => im.val(i, n));
  if (vals.length < 1) throw corrupt(`node ${n.name} (Concat) has no inputs`);
  const x = vals[0]!;
  const r = x.dims.length;
  const raw = int(n.attrs, 'axis', 1);
  const a = raw < 0 ? raw + r : raw;
  if (a < 1 || a >= r) throw unsupported(`node ${n.name} (Concat) on axis ${raw}`);
  if (vals.some((v) => v.dims.length !== r || v.dims.some((d, i) => i !== a && i !== 0 && d !== x.dims[i]))) throw corrupt(`node ${n.name} (Concat) inputs disagree outside axis ${a}`);
  if (vals.length === 1) return out(im, n, x);
  const layer = im.addLayer('Concatenate', n.outputs[0]!, { axis: x.perm[a] }, vals.map((v) => im.view(v, x.perm, n)));
  const dims = [...x.dims];
  dims[a] = vals.reduce((s, v) => s + v.dims[a]!, 0);
  out(im, n, { layer, perm: x.perm, dims });
}

function pad(im: Importer, n: OnnxNodeView): void {
  const x = one(im, n);
  const mode = String(n.attrs.get('mode') ?? 'constant');
  const p = n.inputs[1] ? Array.from(im.konst(n.inputs[1], n, 'pads').values) : ints(n.attrs, 'pads', []);
  const value = n.inputs[2] ? im.konst(n.inputs[2], n, 'the value').values[0] : num(n, 'value', 0);
  if (mode !== 'constant' || value !== 0) throw unsupported(`node ${n.name} (Pad) mode ${mode} value ${value}; only zero padding is supported`);
  if (x.dims.length !== 4 || p.length !== 8 || p[0] || p[1] || p[4] || p[5] || p.some((v) => v < 0 || v > 1024)) throw unsupported(`node ${n.name} (Pad) pads [${p.join(',')}]; only zero padding of the image axes is supported`);
  const layer = im.addLayer('ZeroPadding2D', n.outputs[0]!, { padding: [[p[2], p[6]], [p[3], p[7]]], data_format: 'channels_last' }, [im.view(x, NHWC_VIEW, n)]);
  out(im, n, { layer, perm: NHWC_VIEW, dims: [-1, x.dims[1]!, x.dims[2]! + p[2]! + p[6]!, x.dims[3]! + p[3]! + p[7]!] });
}

/** 'same' when the pads are TF's, else zero padding then 'valid'. */
function padded(im: Importer, n: OnnxNodeView, x: Val, k: [number, number], s: [number, number], d: [number, number]): { input: string; padding: string; pads: number[] } {
  const pads = windowPads(n, x, k, s, d);
  let input = im.view(x, NHWC_VIEW, n);
  let padding = 'valid';
  if (isSame(x, pads, k, s, d) && pads.some((q) => q > 0)) padding = 'same';
  else if (pads.some((q) => q > 0)) input = im.addLayer('ZeroPadding2D', `${n.outputs[0]}_pad`, { padding: [[pads[0], pads[2]], [pads[1], pads[3]]], data_format: 'channels_last' }, [input]);
  return { input, padding, pads };
}

/**
 * Conv with group > 1. Depthwise (group = input channels, output a multiple of it) becomes a
 * DepthwiseConv2D; other groups a Conv2D whose kernel is block-diagonal (zeros between groups),
 * which computes the same values (fine-tuning may then fill the zeros).
 */
export function convGrouped(im: Importer, n: OnnxNodeView, x: Val, w: ConstTensor): void {
  const group = int(n.attrs, 'group', 1);
  const [cout, cinG, kh, kw] = w.shape as [number, number, number, number];
  const cin = x.dims[1]!;
  if (group < 1 || cin % group !== 0 || cout % group !== 0 || cinG * group !== cin) throw corrupt(`node ${n.name} (Conv) group ${group} does not divide ${cin} input / ${cout} output channels with a [${w.shape.join(',')}] kernel`);
  const { k, s, d } = window(n, x, ints(n.attrs, 'kernel_shape', [kh, kw]));
  if (k[0] !== kh || k[1] !== kw) throw corrupt(`node ${n.name} (Conv) kernel_shape disagrees with its weight`);
  const { input, padding, pads } = padded(im, n, x, k, s, d);
  let bias: Float32Array | undefined;
  if (n.inputs[2]) {
    bias = im.konst(n.inputs[2], n, 'the bias').values;
    if (bias.length !== cout) throw corrupt(`node ${n.name} (Conv) bias is not [${cout}]`);
  }
  let layer: string;
  if (group === cin) {
    const m = cout / cin;
    layer = im.addLayer('DepthwiseConv2D', n.outputs[0]!, {
      kernel_size: k, strides: s, dilation_rate: d, padding, depth_multiplier: m, data_format: 'channels_last', activation: 'linear', use_bias: bias !== undefined,
    }, [input]);
    const kernel = new Float32Array(kh * kw * cin * m);
    for (let c = 0; c < cin; c++) for (let j = 0; j < m; j++) for (let i = 0; i < kh; i++) for (let q = 0; q < kw; q++) {
      kernel[((i * kw + q) * cin + c) * m + j] = w.values[((c * m + j) * kh + i) * kw + q]!;
    }
    im.addWeight(layer, 'depthwise_kernel', [kh, kw, cin, m], kernel);
  } else {
    layer = im.addLayer('Conv2D', n.outputs[0]!, {
      filters: cout, kernel_size: k, strides: s, dilation_rate: d, padding, data_format: 'channels_last', activation: 'linear', use_bias: bias !== undefined,
    }, [input]);
    const kernel = new Float32Array(kh * kw * cin * cout);
    const perOut = cout / group;
    for (let co = 0; co < cout; co++) {
      const g = Math.floor(co / perOut);
      for (let ci = 0; ci < cinG; ci++) for (let i = 0; i < kh; i++) for (let q = 0; q < kw; q++) {
        kernel[((i * kw + q) * cin + g * cinG + ci) * cout + co] = w.values[((co * cinG + ci) * kh + i) * kw + q]!;
      }
    }
    im.addWeight(layer, 'kernel', [kh, kw, cin, cout], kernel);
  }
  if (bias) im.addWeight(layer, 'bias', [cout], bias);
  const dims = [-1, cout, outDim(x.dims[2]!, kh, s[0], d[0], pads[0]!, pads[2]!, n.name), outDim(x.dims[3]!, kw, s[1], d[1], pads[1]!, pads[3]!, n.name)];
  out(im, n, { layer, perm: NHWC_VIEW, dims });
}

/** ConvTranspose as a 'valid' Conv2DTranspose, then Cropping2D for the pads (less output_padding). */
function convTranspose(im: Importer, n: OnnxNodeView): void {
  const x = one(im, n);
  const w = im.konst(n.inputs[1], n, 'the weight');
  if (w.shape.length !== 4) throw unsupported(`node ${n.name} (ConvTranspose) with a rank-${w.shape.length} kernel`);
  const [cin, cout, kh, kw] = w.shape as [number, number, number, number];
  if (int(n.attrs, 'group', 1) !== 1) throw unsupported(`node ${n.name} (ConvTranspose) with groups`);
  if (cin !== x.dims[1]) throw corrupt(`node ${n.name} (ConvTranspose) kernel takes ${cin} channels, input has ${x.dims[1]}`);
  const { k, s, d } = window(n, x, ints(n.attrs, 'kernel_shape', [kh, kw]));
  if (d[0] !== 1 || d[1] !== 1) throw unsupported(`node ${n.name} (ConvTranspose) with dilations`);
  if (k[0] < s[0] || k[1] < s[1]) throw unsupported(`node ${n.name} (ConvTranspose) with a kernel smaller than its stride`);
  if (n.attrs.has('output_shape')) throw unsupported(`node ${n.name} (ConvTranspose) with output_shape; give pads`);
  const auto = String(n.attrs.get('auto_pad') ?? 'NOTSET');
  if (auto !== 'NOTSET' && auto !== 'VALID') throw unsupported(`node ${n.name} (ConvTranspose) auto_pad ${auto}`);
  const p = auto === 'VALID' ? [0, 0, 0, 0] : ints(n.attrs, 'pads', [0, 0, 0, 0]);
  const op = ints(n.attrs, 'output_padding', [0, 0]);
  const crop = [[p[0]!, p[2]! - op[0]!], [p[1]!, p[3]! - op[1]!]];
  if (p.length !== 4 || crop.flat().some((v) => v < 0)) throw unsupported(`node ${n.name} (ConvTranspose) pads [${p.join(',')}] with output_padding [${op.join(',')}]`);
  let bias: Float32Array | undefined;
  if (n.inputs[2]) {
    bias = im.konst(n.inputs[2], n, 'the bias').values;
    if (bias.length !== cout) throw corrupt(`node ${n.name} (ConvTranspose) bias is not [${cout}]`);
  }
  const full = crop.flat().some((v) => v > 0) ? `${n.outputs[0]}_full` : n.outputs[0]!;
  let layer = im.addLayer('Conv2DTranspose', full, {
    filters: cout, kernel_size: k, strides: s, padding: 'valid', data_format: 'channels_last', activation: 'linear', use_bias: bias !== undefined,
  }, [im.view(x, NHWC_VIEW, n)]);
  // TF.js kernel [kh, kw, out, in]; ONNX [in, out, kh, kw].
  const kernel = new Float32Array(w.values.length);
  for (let ci = 0; ci < cin; ci++) for (let co = 0; co < cout; co++) for (let i = 0; i < kh; i++) for (let j = 0; j < kw; j++) {
    kernel[((i * kw + j) * cout + co) * cin + ci] = w.values[((ci * cout + co) * kh + i) * kw + j]!;
  }
  im.addWeight(layer, 'kernel', [kh, kw, cout, cin], kernel);
  if (bias) im.addWeight(layer, 'bias', [cout], bias);
  if (full !== n.outputs[0]) layer = im.addLayer('Cropping2D', n.outputs[0]!, { cropping: crop, data_format: 'channels_last' }, [layer]);
  const size = (i: number, kk: number, ss: number, c: number[]) => (i - 1) * ss + kk - c[0]! - c[1]!;
  out(im, n, { layer, perm: NHWC_VIEW, dims: [-1, cout, size(x.dims[2]!, kh, s[0], crop[0]!), size(x.dims[3]!, kw, s[1], crop[1]!)] });
}

/** Handles a mobile op; false when `n` is none of them. */
export function importMobileOp(im: Importer, n: OnnxNodeView): boolean {
  switch (n.opType) {
    case 'Clip': clip(im, n); return true;
    case 'HardSigmoid': {
      const x = one(im, n);
      out(im, n, hardSigmoid(im, n, x, num(n, 'alpha', 0.2), num(n, 'beta', 0.5), n.outputs[0]!));
      return true;
    }
    case 'HardSwish': hardSwish(im, n); return true;
    case 'Mul':
    case 'Sub':
    case 'Div': binary(im, n); return true;
    case 'ReduceMean': reduceMean(im, n); return true;
    case 'Resize':
    case 'Upsample': resize(im, n); return true;
    case 'Concat': concat(im, n); return true;
    case 'Pad': pad(im, n); return true;
    case 'ConvTranspose': convTranspose(im, n); return true;
    default: return false;
  }
}
