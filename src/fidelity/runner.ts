// Runs a model file on feeds, whatever its format: ONNX with onnxruntime-node, TF.js Layers and
// Graph models with TF.js. Also reads the activations that enter the layer holding a weight, for
// the input-covariance metric of the training-free mark. safetensors has no graph: not runnable.
import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';
import { decodeOnnxModel, loadLayersModel, readModelJson, readTfjsArtifacts, recurrentInputWeights, scanOnnx, type ModelFormat } from '../formats/index.js';
import { readWholeFile } from '../formats/read-file.js';
import { onnx } from '../formats/onnx-tensor.js';
import { FidelityError } from './errors.js';

export interface InputSpec {
  readonly name: string;
  /** null for a dynamic dimension. */
  readonly dims: readonly (number | null)[];
  readonly dtype: 'float32' | 'int64' | 'int32' | 'bool' | 'other';
}
export interface Feed {
  readonly data: Float32Array | BigInt64Array | Int32Array | Uint8Array;
  readonly dims: readonly number[];
  readonly dtype: InputSpec['dtype'];
}
export interface Output {
  readonly name: string;
  readonly data: Float32Array;
  readonly dims: readonly number[];
}
export interface Activation {
  readonly data: Float32Array;
  readonly dims: readonly number[];
  /** Axis of the channels (input features) of the layer: 1 for ONNX Conv (NCHW), else the last. */
  readonly channelAxis: number;
}

export interface ModelRunner {
  readonly inputs: readonly InputSpec[];
  run(feeds: Record<string, Feed>): Promise<Output[]>;
  /** Activations entering the layer that uses weight `name`, or undefined when we cannot reach them. */
  layerInput(name: string, feeds: Record<string, Feed>): Promise<Activation | undefined>;
  close(): Promise<void>;
}

type Long = number | { low: number; high: number };
const num = (v: Long | null | undefined) => (v == null ? 0 : typeof v === 'number' ? v : v.high * 2 ** 32 + (v.low >>> 0));
const ONNX_DTYPES: Record<number, InputSpec['dtype']> = { 1: 'float32', 7: 'int64', 6: 'int32', 9: 'bool' };

async function openOnnx(path: string): Promise<ModelRunner> {
  const bytes = await readWholeFile(path);
  const m = decodeOnnxModel(bytes);
  const inits = new Set((m.graph?.initializer ?? []).map((t) => t.name));
  const inputs = (m.graph?.input ?? []).filter((i) => !inits.has(i.name ?? '')).map((i) => ({
    name: i.name ?? '',
    dims: (i.type?.tensorType?.shape?.dim ?? []).map((d) => (d.dimValue != null && num(d.dimValue as Long) > 0 ? num(d.dimValue as Long) : null)),
    dtype: ONNX_DTYPES[i.type?.tensorType?.elemType ?? 0] ?? 'other',
  }));
  const session = await ort.InferenceSession.create(bytes).catch((err: Error) => {
    throw new FidelityError('FIDELITY_UNSUPPORTED', `onnxruntime cannot load ${path}: ${err.message.split('\n')[0]}`, { cause: err });
  });
  const toOrt = (feeds: Record<string, Feed>) => Object.fromEntries(Object.entries(feeds).map(([k, f]) => [k, new ort.Tensor(f.dtype as 'float32', f.data as Float32Array, [...f.dims])]));
  const scan = scanOnnx(bytes);
  const recurrent = recurrentInputWeights(scan.nodes);
  /** The nodes that multiply the weight with the layer input (input 0): Conv, MatMul, Gemm (also behind DequantizeLinear), or the LSTMs, GRUs or RNNs whose W it becomes. */
  const layersOf = (weight: string) => {
    const layer = (n: (typeof scan.nodes)[number]) => ['Conv', 'MatMul', 'Gemm'].includes(n.opType);
    const node = scan.nodes.find((n) => layer(n) && n.inputs[1] === weight);
    const deq = node ? undefined : scan.nodes.find((n) => n.opType === 'DequantizeLinear' && n.inputs[0] === weight);
    const user = node ?? (deq && scan.nodes.find((n) => layer(n) && n.graphPath === deq.graphPath && n.inputs[1] === deq.outputs[0]));
    return user ? [user] : recurrent.get(weight)?.nodes ?? [];
  };
  /** The activations entering `user`, or undefined when its branch does not run on these feeds. */
  const inputOf = async (user: (typeof scan.nodes)[number], feeds: Record<string, Feed>): Promise<Activation | undefined> => {
    const copy = onnx.ModelProto.decode(bytes);
    const probe = exposeValue(copy, user.inputs[0]!, user.graphPath);
    if (!probe) return undefined; // inside a Loop or Scan body
    const s = await ort.InferenceSession.create(onnx.ModelProto.encode(copy).finish()).catch(() => undefined);
    if (!s) return undefined;
    try {
      const out = await s.run(toOrt(feeds));
      const t = out[probe]!;
      if (!t || t.dims.length < 2) return undefined; // the other branch ran: this layer is not used on these inputs
      return { data: Float32Array.from(t.data as Float32Array), dims: [...t.dims], channelAxis: user.opType === 'Conv' ? 1 : t.dims.length - 1 };
    } finally {
      await s.release();
    }
  };
  return {
    inputs,
    async run(feeds) {
      const out = await session.run(toOrt(feeds));
      return session.outputNames.map((n) => ({ name: n, data: Float32Array.from(out[n]!.data as Float32Array), dims: [...out[n]!.dims] }));
    },
    async layerInput(weight, feeds) {
      for (const user of layersOf(weight)) {
        if (!user.inputs[0]) continue;
        const a = await inputOf(user, feeds);
        if (a) return a;
      }
      return undefined; // not a plain layer, or not run on these inputs: no calibration metric
    },
    close: () => session.release(),
  };
}

type Graph = NonNullable<InstanceType<typeof onnx.ModelProto>['graph']>;

/** "<if output>.then_branch/<if output>.else_branch/..." -> the Ifs and branches down to a subgraph; undefined for Loop or Scan bodies. */
function ifPath(graphPath: string): { node: string; branch: string }[] | undefined {
  const steps: { node: string; branch: string }[] = [];
  const re = /(.+?)\.(then_branch|else_branch)(?:\/|$)/y;
  let m: RegExpExecArray | null;
  while (re.lastIndex < graphPath.length && (m = re.exec(graphPath))) steps.push({ node: m[1]!, branch: m[2]! });
  return re.lastIndex === graphPath.length || graphPath === '' ? steps : undefined;
}

/**
 * Makes value `name` a graph output of `model` and returns the output's name. A value inside If
 * branches, nested to any depth (graphPath "<if output>.then_branch/<if output>.else_branch"), is
 * passed out through a new output of each If on the way; each other branch returns an empty float
 * tensor in its place, so a run that takes another branch yields an empty probe.
 */
function exposeValue(model: InstanceType<typeof onnx.ModelProto>, name: string, graphPath: string): string | undefined {
  const steps = ifPath(graphPath);
  const g = model.graph!;
  const value = steps && passOut(g, name, steps);
  if (!value) return undefined;
  g.output!.push(onnx.ValueInfoProto.create({ name: value }));
  return value;
}

/** The name, in graph `g`, of a value that carries `name` out of the subgraph `steps` lead to. */
function passOut(g: Graph, name: string, steps: readonly { node: string; branch: string }[]): string | undefined {
  if (steps.length === 0) return name;
  const [step, ...rest] = steps;
  const node = (g.node ?? []).find((n) => n.opType === 'If' && n.output?.[0] === step!.node);
  const branches = (node?.attribute ?? []).filter((a) => a.g && (a.name === 'then_branch' || a.name === 'else_branch'));
  const taken = branches.find((a) => a.name === step!.branch);
  if (!node || !taken || branches.length !== 2) return undefined;
  const inner = passOut(taken.g!, name, rest);
  if (!inner) return undefined;
  const probe = `${inner}__hallmark_probe`;
  for (const a of branches) {
    if (a === taken) a.g!.output!.push(onnx.ValueInfoProto.create({ name: inner }));
    else {
      const empty = `${probe}__empty`;
      a.g!.node!.push(onnx.NodeProto.create({ opType: 'Constant', output: [empty], attribute: [onnx.AttributeProto.create({ name: 'value', type: 4, t: onnx.TensorProto.create({ dataType: 1, dims: [0] }) })] }));
      a.g!.output!.push(onnx.ValueInfoProto.create({ name: empty }));
    }
  }
  node.output!.push(probe);
  return probe;
}

const TF_DTYPES: Record<string, InputSpec['dtype']> = { float32: 'float32', int32: 'int32', bool: 'bool' };
const toTf = (f: Feed) => tf.tensor(f.data as Float32Array, [...f.dims], f.dtype === 'int64' ? 'int32' : (f.dtype as 'float32'));

async function openTfjsLayers(path: string): Promise<ModelRunner> {
  await tf.ready();
  const model = await loadLayersModel(path);
  const inputs = model.inputs.map((t) => ({ name: t.name, dims: t.shape.map((d) => (d === null || d < 0 ? null : d)), dtype: TF_DTYPES[t.dtype] ?? 'other' }));
  // Two copies of one Layers model loaded in a process get different auto-generated input names
  // (input_1, input_1_1): feeds made for one are matched to the other by position.
  const feedList = (feeds: Record<string, Feed>) => model.inputs.map((t, i) => toTf(feeds[t.name] ?? Object.values(feeds)[i]!));
  const collect = async (ys: tf.Tensor | tf.Tensor[], names: string[]) => {
    const list = Array.isArray(ys) ? ys : [ys];
    const out = await Promise.all(list.map(async (y, i) => ({ name: names[i] ?? `output_${i}`, data: Float32Array.from(await y.data() as Float32Array), dims: y.shape })));
    tf.dispose(list);
    return out;
  };
  return {
    inputs,
    async run(feeds) {
      const xs = feedList(feeds);
      const out = await collect(model.predict(xs.length === 1 ? xs[0]! : xs) as tf.Tensor, model.outputNames);
      tf.dispose(xs);
      return out;
    },
    async layerInput(weight, feeds) {
      const layer = model.layers.find((l) => l.weights.some((w) => w.originalName === weight || w.name === weight));
      if (!layer) return undefined;
      const sub = tf.model({ inputs: model.inputs, outputs: layer.input as tf.SymbolicTensor });
      const xs = feedList(feeds);
      const [a] = await collect(sub.predict(xs.length === 1 ? xs[0]! : xs) as tf.Tensor, ['x']);
      tf.dispose(xs);
      return { data: a!.data, dims: a!.dims, channelAxis: a!.dims.length - 1 };
    },
    async close() {
      model.dispose();
    },
  };
}

async function openTfjsGraph(path: string): Promise<ModelRunner> {
  await tf.ready();
  const model = await tf.loadGraphModel(tf.io.fromMemory(await readTfjsArtifacts(path)));
  const { json } = await readModelJson(path);
  const nodes = ((json.modelTopology as { node?: { name: string; op: string; input?: string[] }[] }).node ?? []);
  const inputs = model.inputs.map((t) => ({ name: t.name, dims: (t.shape ?? []).map((d) => (d < 0 ? null : d)), dtype: TF_DTYPES[t.dtype] ?? 'other' }));
  const feedMap = (feeds: Record<string, Feed>) => Object.fromEntries(model.inputs.map((t) => [t.name, toTf(feeds[t.name]!)]));
  const exec = async (feeds: Record<string, Feed>, outputs: string[]) => {
    const xs = feedMap(feeds);
    let ys: tf.Tensor | tf.Tensor[];
    try {
      ys = model.execute(xs, outputs);
    } catch {
      ys = (await model.executeAsync(xs, outputs)) as tf.Tensor | tf.Tensor[]; // control flow needs the async executor
    }
    const list = Array.isArray(ys) ? ys : [ys];
    const out = await Promise.all(list.map(async (y, i) => ({ name: outputs[i]!, data: Float32Array.from(await y.data() as Float32Array), dims: y.shape })));
    tf.dispose([...list, ...Object.values(xs)]);
    return out;
  };
  return {
    inputs,
    run: (feeds) => exec(feeds, model.outputs.map((o) => o.name)),
    async layerInput(weight, feeds) {
      const user = nodes.find((n) => /Conv2D|MatMul/.test(n.op) && !/Depthwise/.test(n.op) && (n.input ?? [])[1]?.split(':')[0] === weight);
      const src = user?.input?.[0]?.split(':')[0];
      if (!src) return undefined;
      const [a] = await exec(feeds, [src]);
      return { data: a!.data, dims: a!.dims, channelAxis: a!.dims.length - 1 };
    },
    async close() {
      model.dispose();
    },
  };
}

/** A runner for the model file, or FIDELITY_UNSUPPORTED for formats without a graph. */
export async function openRunner(path: string, format: ModelFormat): Promise<ModelRunner> {
  switch (format) {
    case 'onnx': return openOnnx(path);
    case 'tfjs-layers': return openTfjsLayers(path);
    case 'tfjs-graph': return openTfjsGraph(path);
    default: throw new FidelityError('FIDELITY_UNSUPPORTED', `a ${format} file holds weights without a graph to run, so its answers cannot be measured`);
  }
}
