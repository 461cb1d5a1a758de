// Reads a TF.js Layers `modelTopology` (Sequential or functional Model) into a flat list of layer
// nodes in topological order, each naming the layers it takes its input from. Keys stay in the
// snake_case of model.json. Anything outside that shape (nested models, shared layers, layers with
// several outputs) is refused here with the class or layer it is about.
import { FormatError } from './errors.js';

export interface TfjsLayerNode {
  readonly name: string;
  readonly className: string;
  readonly config: Record<string, unknown>;
  /** Names of the layers whose outputs feed this one; empty for InputLayer. */
  readonly inputs: readonly string[];
}

export interface TfjsGraph {
  readonly name: string;
  readonly layers: readonly TfjsLayerNode[];
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
}

// Small vision models have tens of layers; the bound keeps the recursive walk well inside the stack.
const MAX_LAYERS = 2000;
type Obj = Record<string, unknown>;

const corrupt = (msg: string) => new FormatError('FORMAT_CORRUPT', `tfjs topology: ${msg}`);
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function layerName(l: Obj, i: number): string {
  const cfg = isObj(l.config) ? l.config : {};
  const name = l.name ?? cfg.name;
  if (typeof name !== 'string' || name.length === 0 || name.length > 500) throw corrupt(`layer ${i} has no name`);
  return name;
}

function className(l: Obj, i: number): string {
  if (typeof l.class_name !== 'string' || l.class_name.length > 100) throw corrupt(`layer ${i} has no class_name`);
  if (['Sequential', 'Model', 'Functional'].includes(l.class_name)) throw new FormatError('FORMAT_UNSUPPORTED', `tfjs: nested model layer "${layerName(l, i)}" (${l.class_name}) is not supported by the converter; flatten the model first`);
  return l.class_name;
}

export function parseTfjsTopology(topology: unknown): TfjsGraph {
  if (!isObj(topology)) throw corrupt('modelTopology is not an object');
  const top = isObj(topology.model_config) ? topology.model_config : topology;
  const cls = top.class_name;
  if (cls === 'Sequential') return parseSequential(top.config);
  if (cls === 'Model' || cls === 'Functional') return parseFunctional(top.config);
  throw new FormatError('FORMAT_UNSUPPORTED', `tfjs: model class ${JSON.stringify(cls)} is not Sequential or Model`);
}

function layerList(config: unknown): Obj[] {
  const list = Array.isArray(config) ? config : isObj(config) ? config.layers : undefined;
  if (!Array.isArray(list) || list.length === 0) throw corrupt('the model has no layers');
  if (list.length > MAX_LAYERS) throw new FormatError('FORMAT_TOO_LARGE', `tfjs topology: ${list.length} layers, over ${MAX_LAYERS}`);
  return list.map((l, i) => {
    if (!isObj(l) || !isObj(l.config)) throw corrupt(`layer ${i} is not { class_name, config }`);
    return l;
  });
}

function parseSequential(config: unknown): TfjsGraph {
  const list = layerList(config);
  const layers: TfjsLayerNode[] = [];
  const first = list[0]!;
  let prev: string;
  if (first.class_name === 'InputLayer') {
    prev = layerName(first, 0);
    layers.push({ name: prev, className: 'InputLayer', config: first.config as Obj, inputs: [] });
  } else {
    const cfg = first.config as Obj;
    const shape = cfg.batch_input_shape ?? cfg.batch_shape ?? (Array.isArray(cfg.input_shape) ? [null, ...cfg.input_shape] : undefined);
    if (!Array.isArray(shape)) throw corrupt('the first layer of a Sequential model has no batch_input_shape');
    // TF.js names the implicit input "<first layer>_input".
    prev = `${layerName(first, 0)}_input`;
    layers.push({ name: prev, className: 'InputLayer', config: { batch_input_shape: shape, dtype: cfg.dtype ?? 'float32', name: prev }, inputs: [] });
  }
  const inputs = [prev];
  list.forEach((l, i) => {
    if (i === 0 && l.class_name === 'InputLayer') return;
    const name = layerName(l, i);
    layers.push({ name, className: className(l, i), config: l.config as Obj, inputs: [prev] });
    prev = name;
  });
  checkUnique(layers);
  return { name: typeof (config as Obj)?.name === 'string' ? ((config as Obj).name as string) : 'sequential', layers, inputs, outputs: [prev] };
}

function refName(ref: unknown, where: string): string {
  // Keras refs are [layer_name, node_index, tensor_index, kwargs?]; we take node 0, tensor 0 only.
  if (!Array.isArray(ref) || typeof ref[0] !== 'string') throw corrupt(`${where}: malformed layer reference`);
  if ((ref[1] ?? 0) !== 0 || (ref[2] ?? 0) !== 0) throw new FormatError('FORMAT_UNSUPPORTED', `tfjs: ${where} uses node ${String(ref[1])} / output ${String(ref[2])} of "${ref[0]}"; shared layers and multi-output layers are not supported by the converter`);
  return ref[0];
}

function parseFunctional(config: unknown): TfjsGraph {
  if (!isObj(config)) throw corrupt('Model config is not an object');
  const list = layerList(config);
  const nodes = new Map<string, TfjsLayerNode>();
  list.forEach((l, i) => {
    const name = layerName(l, i);
    const cls = className(l, i);
    const inbound = l.inbound_nodes ?? [];
    if (!Array.isArray(inbound)) throw corrupt(`layer "${name}" inbound_nodes is not a list`);
    if (inbound.length > 1) throw new FormatError('FORMAT_UNSUPPORTED', `tfjs: layer "${name}" (${cls}) is applied ${inbound.length} times; shared layers are not supported by the converter`);
    const refs = inbound.length === 0 ? [] : inbound[0];
    if (!Array.isArray(refs)) throw corrupt(`layer "${name}" inbound node is not a list`);
    if (nodes.has(name)) throw corrupt(`two layers are named "${name}"`);
    nodes.set(name, { name, className: cls, config: l.config as Obj, inputs: refs.map((r) => refName(r, `layer "${name}"`)) });
  });
  const ends = (key: string): string[] => {
    const v = config[key];
    if (!Array.isArray(v) || v.length === 0) throw corrupt(`Model config has no ${key}`);
    return v.map((r) => refName(r, key));
  };
  const inputs = ends('input_layers');
  const outputs = ends('output_layers');
  for (const n of [...inputs, ...outputs]) if (!nodes.has(n)) throw corrupt(`"${n}" is not a layer of the model`);
  for (const n of inputs) if (nodes.get(n)!.className !== 'InputLayer') throw corrupt(`input "${n}" is not an InputLayer`);
  // Depth-first topological order from the outputs; layers not reaching an output are dropped.
  const order: TfjsLayerNode[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (name: string, from: string): void => {
    const node = nodes.get(name);
    if (!node) throw corrupt(`layer "${from}" takes input from unknown layer "${name}"`);
    const s = state.get(name);
    if (s === 'done') return;
    if (s === 'visiting') throw corrupt(`layer "${name}" is part of a cycle`);
    state.set(name, 'visiting');
    // Iterative enough: depth is bounded by MAX_LAYERS and each frame is small.
    for (const i of node.inputs) visit(i, name);
    state.set(name, 'done');
    order.push(node);
  };
  for (const o of outputs) visit(o, 'output_layers');
  return { name: typeof config.name === 'string' ? config.name : 'model', layers: order, inputs, outputs };
}

function checkUnique(layers: readonly TfjsLayerNode[]): void {
  const seen = new Set<string>();
  for (const l of layers) {
    if (seen.has(l.name)) throw corrupt(`two layers are named "${l.name}"`);
    seen.add(l.name);
  }
}
