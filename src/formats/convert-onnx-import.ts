/**
 * The state of an ONNX -> TF.js import and the helpers the op handlers share.
 *
 * Every ONNX value is held as a TF.js layer output `t` plus a permutation `perm` with
 * onnx = transpose(t, perm). Transpose nodes only change `perm`; Conv/Pool ask for the NHWC view
 * (perm [0,3,1,2]), Flatten/Reshape/Gemm for the plain view (identity), and a Permute layer is
 * added only when a value is not held in the view asked for. Elementwise ops keep their input's
 * view. The TF.js model takes exactly the tensors the ONNX model takes; dim 0 is the batch.
 */
import { FormatError } from './errors.js';
import type { AttrValue, ConstTensor, OnnxGraphView, OnnxNodeView } from './convert-onnx-graph.js';
import { samePads } from './convert-tfjs-to-onnx.js';

export interface Val {
  readonly layer: string;
  readonly perm: readonly number[];
  /** ONNX dims; dims[0] is the batch (-1). */
  readonly dims: readonly number[];
}

export interface LayerRec {
  name: string;
  className: string;
  config: Record<string, unknown>;
  inputs: string[];
}

export const NHWC_VIEW = [0, 3, 1, 2];
export const unsupported = (msg: string) => new FormatError('FORMAT_UNSUPPORTED', `onnx: ${msg}`);
export const corrupt = (msg: string) => new FormatError('FORMAT_CORRUPT', `onnx: ${msg}`);
export const identity = (n: number) => Array.from({ length: n }, (_, i) => i);
export const same = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((x, i) => x === b[i]);

export class Importer {
  readonly layers: LayerRec[] = [];
  readonly byName = new Map<string, LayerRec>();
  readonly weights: { name: string; shape: number[]; values: Float32Array }[] = [];
  private readonly vals = new Map<string, Val>();
  private readonly views = new Map<string, string>();
  private readonly aliases = new Map<string, Set<string>>();
  private readonly names = new Set<string>();
  readonly uses = new Map<string, number>();

  constructor(readonly g: OnnxGraphView) {
    for (const n of g.nodes) for (const i of n.inputs) if (i) this.uses.set(i, (this.uses.get(i) ?? 0) + 1);
    for (const o of g.outputs) this.uses.set(o, (this.uses.get(o) ?? 0) + 1);
  }

  private unique(base: string): string {
    const clean = base.replace(/[^A-Za-z0-9_.-]/g, '_').replace(/^[^A-Za-z]/, 'l$&').slice(0, 100) || 'layer';
    let name = clean;
    for (let i = 1; this.names.has(name); i++) name = `${clean}_${i}`;
    this.names.add(name);
    return name;
  }

  addLayer(className: string, base: string, config: Record<string, unknown>, inputs: string[]): string {
    const name = this.unique(base);
    const rec = { name, className, config, inputs };
    this.layers.push(rec);
    this.byName.set(name, rec);
    return name;
  }

  addWeight(layer: string, w: string, shape: number[], values: Float32Array): void {
    this.weights.push({ name: `${layer}/${w}`, shape, values });
  }

  val(name: string, node: OnnxNodeView): Val {
    const v = this.vals.get(name);
    if (v) return v;
    if (this.g.consts.has(name)) throw unsupported(`node ${node.name} (${node.opType}) takes constant ${name} where the converter needs a computed value`);
    throw corrupt(`node ${node.name} reads ${name}, which no earlier node produces`);
  }

  set(name: string, v: Val): void {
    this.vals.set(name, v);
    const names = this.aliases.get(v.layer) ?? new Set<string>();
    names.add(name);
    this.aliases.set(v.layer, names);
  }

  /**
   * Whether exactly one node (or graph output) reads the layer's output, through any of the ONNX
   * values that alias it (Identity, Dropout, Transpose). Only then may an activation or a bias be
   * folded into the layer without changing what another reader sees.
   */
  soleReader(layer: string): boolean {
    const names = this.aliases.get(layer);
    if (!names || names.size > 8) return false;
    let n = 0;
    for (const v of names) n += this.uses.get(v) ?? 0;
    return n === 1;
  }

  konst(name: string | undefined, node: OnnxNodeView, what: string): ConstTensor {
    const c = name ? this.g.consts.get(name) : undefined;
    if (!c) throw unsupported(`node ${node.name} (${node.opType}): ${what} must be a constant (initializer)`);
    return c;
  }

  /** The layer whose output t satisfies onnx = transpose(t, want), adding a Permute if needed. */
  view(v: Val, want: readonly number[], node: OnnxNodeView): string {
    if (same(v.perm, want)) return v.layer;
    const inv = new Array<number>(want.length);
    want.forEach((w, i) => (inv[w] = i));
    const r = inv.map((q) => v.perm[q]!);
    if (r[0] !== 0) throw unsupported(`node ${node.name} needs a transpose that moves the batch axis`);
    const key = `${v.layer}|${r.join(',')}`;
    let layer = this.views.get(key);
    if (!layer) {
      layer = this.addLayer('Permute', `${v.layer}_permute`, { dims: r.slice(1) }, [v.layer]);
      this.views.set(key, layer);
    }
    return layer;
  }
}

export function int(attrs: ReadonlyMap<string, AttrValue>, k: string, d: number): number {
  const v = attrs.get(k);
  if (v === undefined) return d;
  if (typeof v !== 'number') throw corrupt(`attribute ${k} is not a number`);
  return v;
}

export function ints(attrs: ReadonlyMap<string, AttrValue>, k: string, d: number[]): number[] {
  const v = attrs.get(k);
  if (v === undefined) return d;
  if (!Array.isArray(v)) throw corrupt(`attribute ${k} is not a list of ints`);
  return v;
}

/** [top, left, bottom, right] pads for a 2-D window op, resolving auto_pad. */
export function windowPads(n: OnnxNodeView, x: Val, k: [number, number], s: [number, number], d: [number, number]): number[] {
  const auto = n.attrs.get('auto_pad') ?? 'NOTSET';
  const [h, w] = [x.dims[2]!, x.dims[3]!];
  if (auto === 'VALID') return [0, 0, 0, 0];
  if (auto === 'SAME_UPPER' || auto === 'SAME_LOWER') {
    const [t, b] = samePads(h, k[0], s[0], d[0]);
    const [l, r] = samePads(w, k[1], s[1], d[1]);
    return auto === 'SAME_UPPER' ? [t, l, b, r] : [b, r, t, l];
  }
  if (auto !== 'NOTSET') throw corrupt(`node ${n.name} has auto_pad ${String(auto)}`);
  const p = ints(n.attrs, 'pads', [0, 0, 0, 0]);
  if (p.length !== 4 || p.some((v) => !Number.isSafeInteger(v) || v < 0 || v > 1024)) throw corrupt(`node ${n.name} has pads [${p.join(',')}]`);
  return p;
}

/** Whether explicit pads are what TF 'same' would use for this input. */
export function isSame(x: Val, pads: number[], k: [number, number], s: [number, number], d: [number, number]): boolean {
  const [t, b] = samePads(x.dims[2]!, k[0], s[0], d[0]);
  const [l, r] = samePads(x.dims[3]!, k[1], s[1], d[1]);
  return same(pads, [t, l, b, r]);
}

export function outDim(size: number, k: number, s: number, d: number, p0: number, p1: number, node: string): number {
  const n = Math.floor((size + p0 + p1 - ((k - 1) * d + 1)) / s) + 1;
  if (n < 1) throw corrupt(`node ${node}: window ${k} does not fit input of size ${size}`);
  return n;
}

export function window(n: OnnxNodeView, x: Val, kernel: number[]): { k: [number, number]; s: [number, number]; d: [number, number] } {
  if (x.dims.length !== 4) throw unsupported(`node ${n.name} (${n.opType}) on a rank-${x.dims.length} input; only 2-D images (rank 4) are supported`);
  if (x.dims.slice(1).some((v) => v < 1)) throw unsupported(`node ${n.name} (${n.opType}) needs static image sizes, got [${x.dims.join(',')}]`);
  const two = (v: number[], what: string): [number, number] => {
    if (v.length !== 2 || v.some((e) => !Number.isSafeInteger(e) || e < 1 || e > 65536)) throw corrupt(`node ${n.name} ${what} [${v.join(',')}] is not two positive integers`);
    return [v[0]!, v[1]!];
  };
  return { k: two(kernel, 'kernel_shape'), s: two(ints(n.attrs, 'strides', [1, 1]), 'strides'), d: two(ints(n.attrs, 'dilations', [1, 1]), 'dilations') };
}

