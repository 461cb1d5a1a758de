/**
 * TF.js Layers -> ONNX (opset 13) for the layers of small vision models.
 *
 * TF.js tensors are NHWC; ONNX Conv/Pool/BatchNormalization want NCHW. Each rank-4 value is kept
 * in whichever layout its producer made, and a Transpose is added (once, then cached) when a
 * consumer needs the other: Conv/Pool/BatchNorm take NCHW, Flatten/Reshape/Dense and the graph
 * outputs take NHWC, so Flatten orders its features exactly as TF.js does. The graph input stays
 * NHWC, so the ONNX model takes the same tensors as the TF.js model.
 * Weights: Conv2D kernel [kh,kw,cin,cout] -> [cout,cin,kh,kw]; Dense kernel [in,out] is Gemm's B
 * as is (transB=0). 'same' padding becomes explicit pads (TF puts the odd pixel at the end).
 */
import { FormatError } from './errors.js';
import { attr, OnnxGraphBuilder, type GraphIo } from './convert-onnx-build.js';
import { parseTfjsTopology, type TfjsGraph, type TfjsLayerNode } from './convert-tfjs-topology.js';
import { readTfjsModel } from './tfjs-layers.js';
import { tensorToFloat32, type NamedTensor } from './tensor.js';

export interface FloatWeight {
  readonly shape: readonly number[];
  readonly values: Float32Array;
}

export const TFJS_LAYERS_SUPPORTED = [
  'InputLayer', 'Dense', 'Conv2D', 'MaxPooling2D', 'AveragePooling2D', 'GlobalAveragePooling2D', 'Flatten', 'Reshape',
  'Dropout', 'BatchNormalization', 'Activation', 'ReLU', 'Softmax', 'Add',
  'DepthwiseConv2D', 'SeparableConv2D', 'ZeroPadding2D', 'Concatenate',
] as const;
export const ACTIVATIONS_SUPPORTED = ['linear', 'relu', 'relu6', 'sigmoid', 'tanh', 'softmax'] as const;

/** A value in the graph: its TF.js shape (without batch) and its ONNX names per layout. */
interface Val {
  readonly shape: number[];
  readonly names: { nhwc?: string; nchw?: string };
}

type Cfg = Record<string, unknown>;

const unsupported = (msg: string) => new FormatError('FORMAT_UNSUPPORTED', msg);
const corrupt = (msg: string) => new FormatError('FORMAT_CORRUPT', msg);

function pair(v: unknown, what: string, layer: string): [number, number] {
  const a = typeof v === 'number' ? [v, v] : v;
  if (!Array.isArray(a) || a.length !== 2 || !a.every((x) => Number.isSafeInteger(x) && x >= 1 && x <= 65536)) throw corrupt(`tfjs: layer "${layer}" ${what} ${JSON.stringify(v)} is not two positive integers`);
  return a as [number, number];
}

/** TF 'same' padding for one spatial axis: [begin, end] with the odd pixel at the end. */
export function samePads(size: number, k: number, s: number, d = 1): [number, number] {
  const eff = (k - 1) * d + 1;
  const out = Math.ceil(size / s);
  const total = Math.max((out - 1) * s + eff - size, 0);
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
}

function outSize(size: number, k: number, s: number, d: number, padding: string, layer: string): number {
  const eff = (k - 1) * d + 1;
  const n = padding === 'same' ? Math.ceil(size / s) : Math.floor((size - eff) / s) + 1;
  if (n < 1) throw corrupt(`tfjs: layer "${layer}" window ${k} does not fit its input of size ${size}`);
  return n;
}

class Exporter {
  readonly b = new OnnxGraphBuilder();
  private readonly vals = new Map<string, Val>();

  constructor(private readonly weights: ReadonlyMap<string, FloatWeight>) {}

  weight(layer: string, w: string, shape: readonly number[]): Float32Array {
    const key = `${layer}/${w}`;
    let found = this.weights.get(key);
    if (!found) {
      const hits = [...this.weights.keys()].filter((k) => k.endsWith(`/${key}`));
      if (hits.length === 1) found = this.weights.get(hits[0]!);
    }
    if (!found) throw new FormatError('FORMAT_NOT_FOUND', `tfjs: layer "${layer}" needs weight ${key}, which the weights manifest does not have`);
    if (found.shape.length !== shape.length || found.shape.some((d, i) => d !== shape[i])) throw new FormatError('FORMAT_SHAPE_MISMATCH', `tfjs: weight ${key} has shape [${found.shape.join(', ')}], layer "${layer}" needs [${shape.join(', ')}]`);
    return found.values;
  }

  val(name: string): Val {
    const v = this.vals.get(name);
    if (!v) throw corrupt(`tfjs: layer "${name}" is used before it is defined`);
    return v;
  }

  set(name: string, v: Val): void {
    this.vals.set(name, v);
  }

  nhwc(v: Val): string {
    if (v.names.nhwc === undefined) v.names.nhwc = this.b.add('Transpose', [v.names.nchw!], `${v.names.nchw}/nhwc`, [attr.ints('perm', [0, 2, 3, 1])]);
    return v.names.nhwc;
  }

  nchw(v: Val, layer: string): string {
    if (v.shape.length !== 3) throw unsupported(`tfjs: layer "${layer}" needs a rank-4 [N,H,W,C] input, got [N,${v.shape.join(',')}]`);
    if (v.names.nchw === undefined) v.names.nchw = this.b.add('Transpose', [v.names.nhwc!], `${v.names.nhwc}/nchw`, [attr.ints('perm', [0, 3, 1, 2])]);
    return v.names.nchw;
  }

  /** Adds an activation after `v` (a value in either layout); returns the new value. */
  activate(v: Val, act: unknown, layer: string): Val {
    const a = act ?? 'linear';
    if (a === 'linear') return v;
    const [layout, input] = v.names.nchw !== undefined ? (['nchw', v.names.nchw] as const) : (['nhwc', v.names.nhwc!] as const);
    let out: string;
    switch (a) {
      case 'relu': out = this.b.add('Relu', [input], `${layer}/relu`); break;
      case 'relu6': out = this.clip(input, 6, `${layer}/relu6`); break;
      case 'sigmoid': out = this.b.add('Sigmoid', [input], `${layer}/sigmoid`); break;
      case 'tanh': out = this.b.add('Tanh', [input], `${layer}/tanh`); break;
      case 'softmax': out = this.b.add('Softmax', [input], `${layer}/softmax`, [attr.int('axis', layout === 'nchw' ? 1 : -1)]); break;
      default: throw unsupported(`tfjs: layer "${layer}" uses activation ${JSON.stringify(a)}, which the converter does not support (supported: ${ACTIVATIONS_SUPPORTED.join(', ')})`);
    }
    return { shape: v.shape, names: { [layout]: out } };
  }

  /** Clip(x, 0, max): min and max are inputs from opset 11 on. */
  clip(input: string, max: number, name: string): string {
    return this.b.add('Clip', [input, this.b.addFloat(`${name}/min`, [], new Float32Array([0])), this.b.addFloat(`${name}/max`, [], new Float32Array([max]))], name);
  }

  layer(l: TfjsLayerNode): Val {
    const c = l.config;
    const one = () => {
      if (l.inputs.length !== 1) throw corrupt(`tfjs: layer "${l.name}" (${l.className}) takes one input, has ${l.inputs.length}`);
      return this.val(l.inputs[0]!);
    };
    switch (l.className) {
      case 'Dense': return this.dense(l, one());
      case 'Conv2D': return this.conv(l, one());
      case 'MaxPooling2D':
      case 'AveragePooling2D': return this.pool(l, one());
      case 'GlobalAveragePooling2D': {
        const x = one();
        this.channelsLast(l);
        const g = this.b.add('GlobalAveragePool', [this.nchw(x, l.name)], `${l.name}/gap`);
        return { shape: [x.shape[2]!], names: { nhwc: this.b.add('Flatten', [g], l.name, [attr.int('axis', 1)]) } };
      }
      case 'Flatten': {
        const x = one();
        if (x.shape.length === 1) return x;
        return { shape: [x.shape.reduce((a, b) => a * b, 1)], names: { nhwc: this.b.add('Flatten', [this.nhwc(x)], l.name, [attr.int('axis', 1)]) } };
      }
      case 'Reshape': return this.reshape(l, one());
      case 'Dropout': return one();
      case 'Activation': return this.activate(one(), c.activation, l.name);
      case 'ReLU':
        if (c.max_value !== null && c.max_value !== undefined) {
          if (typeof c.max_value !== 'number' || !(c.max_value > 0)) throw corrupt(`tfjs: ReLU layer "${l.name}" has max_value ${String(c.max_value)}`);
          if (c.negative_slope || c.threshold) throw unsupported(`tfjs: ReLU layer "${l.name}" with negative_slope or threshold`);
          const x = one();
          const [layout, input] = x.names.nchw !== undefined ? (['nchw', x.names.nchw] as const) : (['nhwc', x.names.nhwc!] as const);
          return { shape: x.shape, names: { [layout]: this.clip(input, c.max_value, l.name) } };
        }
        return this.activate(one(), 'relu', l.name);
      case 'Softmax': {
        const x = one();
        if (c.axis !== undefined && c.axis !== -1 && c.axis !== x.shape.length) throw unsupported(`tfjs: Softmax layer "${l.name}" over axis ${String(c.axis)}; only the last axis is supported`);
        return this.activate(x, 'softmax', l.name);
      }
      case 'BatchNormalization': return this.batchNorm(l, one());
      case 'Add': return this.addLayer(l);
      case 'DepthwiseConv2D': return this.depthwise(l, one());
      case 'SeparableConv2D': return this.separable(l, one());
      case 'ZeroPadding2D': return this.zeroPad(l, one());
      case 'Concatenate': return this.concat(l);
      default:
        throw unsupported(`tfjs: layer "${l.name}" is a ${l.className}, which the converter does not support (supported: ${TFJS_LAYERS_SUPPORTED.join(', ')})`);
    }
  }

  channelsLast(l: TfjsLayerNode): void {
    const f = l.config.data_format;
    if (f !== undefined && f !== null && f !== 'channels_last') throw unsupported(`tfjs: layer "${l.name}" uses data_format ${String(f)}; only channels_last is supported`);
  }

  dense(l: TfjsLayerNode, x: Val): Val {
    const units = l.config.units;
    if (!Number.isSafeInteger(units) || (units as number) < 1) throw corrupt(`tfjs: Dense layer "${l.name}" has units ${String(units)}`);
    const inDim = x.shape[x.shape.length - 1]!;
    const k = this.b.addFloat(`${l.name}/kernel`, [inDim, units as number], this.weight(l.name, 'kernel', [inDim, units as number]));
    const useBias = l.config.use_bias !== false;
    const bias = useBias ? this.b.addFloat(`${l.name}/bias`, [units as number], this.weight(l.name, 'bias', [units as number])) : undefined;
    const shape = [...x.shape.slice(0, -1), units as number];
    let out: string;
    if (x.shape.length === 1) out = this.b.add('Gemm', bias ? [x.names.nhwc ?? this.nhwc(x), k, bias] : [x.names.nhwc ?? this.nhwc(x), k], l.name);
    else {
      // Dense on rank > 2 acts on the last axis of the NHWC tensor: MatMul broadcasts the same way.
      const mm = this.b.add('MatMul', [this.nhwc(x), k], bias ? `${l.name}/matmul` : l.name);
      out = bias ? this.b.add('Add', [mm, bias], l.name) : mm;
    }
    return this.activate({ shape, names: { nhwc: out } }, l.config.activation, l.name);
  }

  conv(l: TfjsLayerNode, x: Val): Val {
    const c = l.config;
    this.channelsLast(l);
    const filters = c.filters;
    if (!Number.isSafeInteger(filters) || (filters as number) < 1) throw corrupt(`tfjs: Conv2D layer "${l.name}" has filters ${String(filters)}`);
    const [kh, kw] = pair(c.kernel_size, 'kernel_size', l.name);
    const [sh, sw] = pair(c.strides ?? 1, 'strides', l.name);
    const [dh, dw] = pair(c.dilation_rate ?? 1, 'dilation_rate', l.name);
    const padding = this.padding(l);
    const input = this.nchw(x, l.name);
    const [h, w, cin] = x.shape as [number, number, number];
    const cout = filters as number;
    const kernel = this.weight(l.name, 'kernel', [kh, kw, cin, cout]);
    // [kh,kw,cin,cout] -> [cout,cin,kh,kw]
    const t = new Float32Array(kernel.length);
    for (let i = 0; i < kh; i++) for (let j = 0; j < kw; j++) for (let ci = 0; ci < cin; ci++) for (let co = 0; co < cout; co++) {
      t[((co * cin + ci) * kh + i) * kw + j] = kernel[((i * kw + j) * cin + ci) * cout + co]!;
    }
    const inputs = [input, this.b.addFloat(`${l.name}/kernel`, [cout, cin, kh, kw], t)];
    if (c.use_bias !== false) inputs.push(this.b.addFloat(`${l.name}/bias`, [cout], this.weight(l.name, 'bias', [cout])));
    const [pt, pb] = padding === 'same' ? samePads(h, kh, sh, dh) : [0, 0];
    const [pl, pr] = padding === 'same' ? samePads(w, kw, sw, dw) : [0, 0];
    const out = this.b.add('Conv', inputs, l.name, [
      attr.ints('kernel_shape', [kh, kw]), attr.ints('strides', [sh, sw]), attr.ints('dilations', [dh, dw]), attr.ints('pads', [pt, pl, pb, pr]), attr.int('group', 1),
    ]);
    const shape = [outSize(h, kh, sh, dh, padding, l.name), outSize(w, kw, sw, dw, padding, l.name), cout];
    return this.activate({ shape, names: { nchw: out } }, c.activation, l.name);
  }

  /** A depthwise conv (group = input channels) on NCHW; kernel [kh,kw,cin,m] -> [cin*m,1,kh,kw]. */
  depthwiseConv(l: TfjsLayerNode, x: Val, weightName: string, bias: boolean, name: string): { out: string; shape: number[] } {
    const c = l.config;
    this.channelsLast(l);
    const [kh, kw] = pair(c.kernel_size, 'kernel_size', l.name);
    const [sh, sw] = pair(c.strides ?? 1, 'strides', l.name);
    const [dh, dw] = pair(c.dilation_rate ?? 1, 'dilation_rate', l.name);
    const m = c.depth_multiplier ?? 1;
    if (!Number.isSafeInteger(m) || (m as number) < 1) throw corrupt(`tfjs: layer "${l.name}" has depth_multiplier ${String(m)}`);
    const padding = this.padding(l);
    const [h, w, cin] = x.shape as [number, number, number];
    const k = this.weight(l.name, weightName, [kh, kw, cin, m as number]);
    const t = new Float32Array(k.length);
    for (let i = 0; i < kh; i++) for (let j = 0; j < kw; j++) for (let ci = 0; ci < cin; ci++) for (let q = 0; q < (m as number); q++) {
      t[((ci * (m as number) + q) * kh + i) * kw + j] = k[((i * kw + j) * cin + ci) * (m as number) + q]!;
    }
    const cout = cin * (m as number);
    const inputs = [this.nchw(x, l.name), this.b.addFloat(`${l.name}/${weightName}`, [cout, 1, kh, kw], t)];
    if (bias) inputs.push(this.b.addFloat(`${l.name}/bias`, [cout], this.weight(l.name, 'bias', [cout])));
    const [pt, pb] = padding === 'same' ? samePads(h, kh, sh, dh) : [0, 0];
    const [pl, pr] = padding === 'same' ? samePads(w, kw, sw, dw) : [0, 0];
    const out = this.b.add('Conv', inputs, name, [
      attr.ints('kernel_shape', [kh, kw]), attr.ints('strides', [sh, sw]), attr.ints('dilations', [dh, dw]), attr.ints('pads', [pt, pl, pb, pr]), attr.int('group', cin),
    ]);
    return { out, shape: [outSize(h, kh, sh, dh, padding, l.name), outSize(w, kw, sw, dw, padding, l.name), cout] };
  }

  depthwise(l: TfjsLayerNode, x: Val): Val {
    const { out, shape } = this.depthwiseConv(l, x, 'depthwise_kernel', l.config.use_bias !== false, l.name);
    return this.activate({ shape, names: { nchw: out } }, l.config.activation, l.name);
  }

  /** Depthwise (no bias) then a 1x1 pointwise Conv with the bias. */
  separable(l: TfjsLayerNode, x: Val): Val {
    const filters = l.config.filters;
    if (!Number.isSafeInteger(filters) || (filters as number) < 1) throw corrupt(`tfjs: SeparableConv2D layer "${l.name}" has filters ${String(filters)}`);
    const d = this.depthwiseConv(l, x, 'depthwise_kernel', false, `${l.name}/depthwise`);
    const mid = d.shape[2]!;
    const cout = filters as number;
    const k = this.weight(l.name, 'pointwise_kernel', [1, 1, mid, cout]);
    const t = new Float32Array(k.length);
    for (let ci = 0; ci < mid; ci++) for (let co = 0; co < cout; co++) t[co * mid + ci] = k[ci * cout + co]!;
    const inputs = [d.out, this.b.addFloat(`${l.name}/pointwise_kernel`, [cout, mid, 1, 1], t)];
    if (l.config.use_bias !== false) inputs.push(this.b.addFloat(`${l.name}/bias`, [cout], this.weight(l.name, 'bias', [cout])));
    const out = this.b.add('Conv', inputs, l.name, [attr.ints('kernel_shape', [1, 1]), attr.ints('strides', [1, 1]), attr.ints('pads', [0, 0, 0, 0]), attr.int('group', 1)]);
    return this.activate({ shape: [d.shape[0]!, d.shape[1]!, cout], names: { nchw: out } }, l.config.activation, l.name);
  }

  zeroPad(l: TfjsLayerNode, x: Val): Val {
    this.channelsLast(l);
    const p = l.config.padding ?? 1;
    const two = (v: unknown): [number, number] => (typeof v === 'number' ? [v, v] : (v as [number, number]));
    const rows = Array.isArray(p) ? two(p[0]) : two(p);
    const cols = Array.isArray(p) ? two(p[1]) : two(p);
    const all = [...rows, ...cols];
    if (!Array.isArray(rows) || !Array.isArray(cols) || all.length !== 4 || !all.every((v) => Number.isSafeInteger(v) && v >= 0 && v <= 4096)) throw corrupt(`tfjs: ZeroPadding2D layer "${l.name}" has padding ${JSON.stringify(p)}`);
    const pads = this.b.addInt64(`${l.name}/pads`, [0, 0, rows[0], cols[0], 0, 0, rows[1], cols[1]]);
    const out = this.b.add('Pad', [this.nchw(x, l.name), pads], l.name);
    const [h, w, ch] = x.shape as [number, number, number];
    return { shape: [h + rows[0] + rows[1], w + cols[0] + cols[1], ch], names: { nchw: out } };
  }

  concat(l: TfjsLayerNode): Val {
    if (l.inputs.length < 2) throw corrupt(`tfjs: Concatenate layer "${l.name}" has ${l.inputs.length} inputs`);
    const xs = l.inputs.map((n) => this.val(n));
    const rank = xs[0]!.shape.length + 1;
    const raw = l.config.axis ?? -1;
    if (!Number.isSafeInteger(raw)) throw corrupt(`tfjs: Concatenate layer "${l.name}" has axis ${JSON.stringify(raw)}`);
    const a = (raw as number) < 0 ? (raw as number) + rank : (raw as number);
    if (a < 1 || a >= rank) throw unsupported(`tfjs: Concatenate layer "${l.name}" on axis ${String(raw)}`);
    for (const [i, x] of xs.entries()) if (x.shape.length !== rank - 1 || x.shape.some((d, j) => j !== a - 1 && d !== xs[0]!.shape[j])) throw new FormatError('FORMAT_SHAPE_MISMATCH', `tfjs: Concatenate layer "${l.name}" input ${i} is [${x.shape.join(',')}], input 0 is [${xs[0]!.shape.join(',')}]`);
    const shape = [...xs[0]!.shape];
    shape[a - 1] = xs.reduce((s, x) => s + x.shape[a - 1]!, 0);
    // Images concatenate in NCHW when any input already is (channel axis 3 -> 1).
    const useNchw = rank === 4 && xs.some((x) => x.names.nchw !== undefined);
    const names = xs.map((x) => (useNchw ? this.nchw(x, l.name) : this.nhwc(x)));
    const out = this.b.add('Concat', names, l.name, [attr.int('axis', useNchw ? [0, 2, 3, 1][a]! : a)]);
    return { shape, names: useNchw ? { nchw: out } : { nhwc: out } };
  }

  padding(l: TfjsLayerNode): 'valid' | 'same' {
    const p = l.config.padding ?? 'valid';
    if (p !== 'valid' && p !== 'same') throw unsupported(`tfjs: layer "${l.name}" uses padding ${JSON.stringify(p)}; only valid and same are supported`);
    return p;
  }

  pool(l: TfjsLayerNode, x: Val): Val {
    const c = l.config;
    this.channelsLast(l);
    const [kh, kw] = pair(c.pool_size ?? 2, 'pool_size', l.name);
    const [sh, sw] = pair(c.strides ?? [kh, kw], 'strides', l.name);
    const padding = this.padding(l);
    const input = this.nchw(x, l.name);
    const [h, w, ch] = x.shape as [number, number, number];
    const [pt, pb] = padding === 'same' ? samePads(h, kh, sh) : [0, 0];
    const [pl, pr] = padding === 'same' ? samePads(w, kw, sw) : [0, 0];
    const attrs = [attr.ints('kernel_shape', [kh, kw]), attr.ints('strides', [sh, sw]), attr.ints('pads', [pt, pl, pb, pr])];
    // TF averages over the pixels inside the image only: count_include_pad = 0.
    if (l.className === 'AveragePooling2D') attrs.push(attr.int('count_include_pad', 0));
    const out = this.b.add(l.className === 'MaxPooling2D' ? 'MaxPool' : 'AveragePool', [input], l.name, attrs);
    return { shape: [outSize(h, kh, sh, 1, padding, l.name), outSize(w, kw, sw, 1, padding, l.name), ch], names: { nchw: out } };
  }

  reshape(l: TfjsLayerNode, x: Val): Val {
    const target = l.config.target_shape;
    const total = x.shape.reduce((a, b) => a * b, 1);
    if (!Array.isArray(target) || target.length === 0 || target.length > 6 || !target.every((d) => d === -1 || d === null || (Number.isSafeInteger(d) && d >= 1))) throw corrupt(`tfjs: Reshape layer "${l.name}" has target_shape ${JSON.stringify(target)}`);
    const dims = target.map((d) => (d === null ? -1 : (d as number)));
    const known = dims.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
    const free = dims.filter((d) => d === -1).length;
    if (free > 1 || (free === 0 ? known !== total : total % known !== 0)) throw new FormatError('FORMAT_SHAPE_MISMATCH', `tfjs: Reshape layer "${l.name}" cannot make [${target.join(',')}] from [${x.shape.join(',')}]`);
    const shape = dims.map((d) => (d === -1 ? total / known : d));
    const s = this.b.addInt64(`${l.name}/shape`, [-1, ...shape]);
    return { shape, names: { nhwc: this.b.add('Reshape', [this.nhwc(x), s], l.name) } };
  }

  batchNorm(l: TfjsLayerNode, x: Val): Val {
    const c = l.config;
    const axis = c.axis ?? -1;
    const rank = x.shape.length + 1;
    if (axis !== -1 && axis !== rank - 1 && !(Array.isArray(axis) && axis.length === 1 && (axis[0] === -1 || axis[0] === rank - 1))) throw unsupported(`tfjs: BatchNormalization layer "${l.name}" normalizes axis ${JSON.stringify(axis)}; only the channel (last) axis is supported`);
    const ch = x.shape[x.shape.length - 1]!;
    const eps = typeof c.epsilon === 'number' ? c.epsilon : 1e-3;
    const gamma = c.scale === false ? new Float32Array(ch).fill(1) : this.weight(l.name, 'gamma', [ch]);
    const beta = c.center === false ? new Float32Array(ch) : this.weight(l.name, 'beta', [ch]);
    const p = [
      this.b.addFloat(`${l.name}/gamma`, [ch], gamma), this.b.addFloat(`${l.name}/beta`, [ch], beta),
      this.b.addFloat(`${l.name}/moving_mean`, [ch], this.weight(l.name, 'moving_mean', [ch])), this.b.addFloat(`${l.name}/moving_variance`, [ch], this.weight(l.name, 'moving_variance', [ch])),
    ];
    // ONNX normalizes axis 1: NCHW for images, [N, C] for vectors.
    const input = x.shape.length === 3 ? this.nchw(x, l.name) : x.shape.length === 1 ? (x.names.nhwc ?? this.nhwc(x)) : undefined;
    if (input === undefined) throw unsupported(`tfjs: BatchNormalization layer "${l.name}" on a rank-${rank} input is not supported`);
    const out = this.b.add('BatchNormalization', [input, ...p], l.name, [attr.float('epsilon', eps)]);
    return { shape: x.shape, names: x.shape.length === 3 ? { nchw: out } : { nhwc: out } };
  }

  addLayer(l: TfjsLayerNode): Val {
    if (l.inputs.length < 2) throw corrupt(`tfjs: Add layer "${l.name}" has ${l.inputs.length} inputs`);
    const xs = l.inputs.map((n) => this.val(n));
    const shape = xs[0]!.shape;
    for (const [i, x] of xs.entries()) if (x.shape.join() !== shape.join()) throw new FormatError('FORMAT_SHAPE_MISMATCH', `tfjs: Add layer "${l.name}" input ${i} is [${x.shape.join(',')}], input 0 is [${shape.join(',')}]`);
    // Add in NCHW when any input already is, so a residual block needs no extra transposes.
    const useNchw = shape.length === 3 && xs.some((x) => x.names.nchw !== undefined);
    const names = xs.map((x) => (useNchw ? this.nchw(x, l.name) : this.nhwc(x)));
    let acc = names[0]!;
    for (let i = 1; i < names.length; i++) acc = this.b.add('Add', [acc, names[i]!], i === names.length - 1 ? l.name : `${l.name}/partial`);
    return { shape, names: useNchw ? { nchw: acc } : { nhwc: acc } };
  }
}

function inputDims(l: TfjsLayerNode): number[] {
  // Keras 3 writes batch_shape where TF.js and Keras 2 write batch_input_shape.
  const s = l.config.batch_input_shape ?? l.config.batch_shape;
  if (!Array.isArray(s) || s.length < 2 || s.length > 6) throw corrupt(`tfjs: input "${l.name}" has no batch_input_shape`);
  const dims = s.slice(1);
  if (!dims.every((d) => Number.isSafeInteger(d) && d >= 1 && d <= 1 << 20)) throw unsupported(`tfjs: input "${l.name}" has shape [${s.map(String).join(', ')}]; the converter needs every dimension but the batch fixed`);
  if (l.config.dtype !== undefined && l.config.dtype !== 'float32') throw unsupported(`tfjs: input "${l.name}" has dtype ${String(l.config.dtype)}; only float32 is supported`);
  return dims as number[];
}

/** Converts a parsed TF.js graph and its float weights into an ONNX model (bytes). */
export function tfjsGraphToOnnx(graph: TfjsGraph, weights: ReadonlyMap<string, FloatWeight>): Uint8Array {
  const ex = new Exporter(weights);
  const inputs: GraphIo[] = [];
  for (const l of graph.layers) {
    if (l.className === 'InputLayer') {
      const dims = inputDims(l);
      ex.set(l.name, { shape: dims, names: { nhwc: ex.b.reserve(l.name) } });
      inputs.push({ name: l.name, dims });
      continue;
    }
    ex.set(l.name, ex.layer(l));
  }
  const outputs: GraphIo[] = graph.outputs.map((o) => {
    const v = ex.val(o);
    let name = ex.nhwc(v);
    // An output that is also an input, or a Dropout alias, still needs its own graph output name.
    if (inputs.some((i) => i.name === name)) name = ex.b.add('Identity', [name], `${o}/output`);
    return { name, dims: v.shape };
  });
  return ex.b.toBytes(graph.name, inputs, outputs);
}

/** Converts a TF.js Layers model given its topology and its weights in the neutral form. */
export function tfjsArtifactsToOnnx(modelTopology: unknown, tensors: readonly NamedTensor[]): Uint8Array {
  const weights = new Map<string, FloatWeight>();
  for (const t of tensors) weights.set(t.name, { shape: t.shape, values: tensorToFloat32(t) });
  return tfjsGraphToOnnx(parseTfjsTopology(modelTopology), weights);
}

/** Reads a TF.js Layers model (folder or model.json) and returns the equivalent ONNX model bytes. */
export async function convertTfjsToOnnx(modelDir: string): Promise<Uint8Array> {
  const m = await readTfjsModel(modelDir);
  return tfjsArtifactsToOnnx(m.json.modelTopology, m.tensors);
}
