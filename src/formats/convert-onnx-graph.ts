// The parts of an ONNX model the ONNX -> TF.js converter needs, read into plain values: the
// default-domain opset, graph inputs with their dims, outputs, nodes with decoded attributes, and
// constants (initializers and Constant nodes) as float or integer arrays. Sizes are bounded and
// every decode failure is a FormatError.
import { FormatError } from './errors.js';
import { decodeOnnxModel } from './onnx.js';
import { dimsOf, dtypeOf, EXTERNAL, inlineBytes, onnx, type TensorProto } from './onnx-tensor.js';
import { tensorToFloat32 } from './tensor.js';

export type AttrValue = number | string | number[] | ConstTensor;

export interface OnnxNodeView {
  readonly opType: string;
  readonly name: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly attrs: ReadonlyMap<string, AttrValue>;
}

export interface ConstTensor {
  readonly shape: readonly number[];
  /** Values as float32 (integer tensors too: shapes and axes are small integers). */
  readonly values: Float32Array;
  readonly integer: boolean;
}

export interface OnnxGraphView {
  readonly name: string;
  readonly opset: number;
  /** Graph inputs that are not initializers; dims[0] is the batch, null where symbolic. */
  readonly inputs: readonly { name: string; dims: (number | null)[]; problem?: string }[];
  readonly outputs: readonly string[];
  readonly nodes: readonly OnnxNodeView[];
  readonly consts: ReadonlyMap<string, ConstTensor>;
}

const MAX_NODES = 100_000;
const corrupt = (msg: string) => new FormatError('FORMAT_CORRUPT', `onnx: ${msg}`);

type Long = number | { low: number; high: number };
function num(v: Long | null | undefined): number {
  if (v === null || v === undefined) return 0;
  if (typeof v === 'number') return v;
  const n = v.high * 2 ** 32 + (v.low >>> 0);
  if (!Number.isSafeInteger(n)) throw corrupt(`an integer attribute is out of range`);
  return n;
}

function constOf(t: TensorProto, name: string): ConstTensor {
  if (t.dataLocation === EXTERNAL) throw new FormatError('FORMAT_UNSUPPORTED', `onnx: initializer ${name} is stored in an external file; the converter takes a self-contained model`);
  const dtype = dtypeOf(t, name);
  const shape = dimsOf(t, name);
  const data = inlineBytes(t, name, dtype, shape);
  const integer = !['F32', 'F64', 'F16', 'BF16'].includes(dtype);
  return { shape, values: tensorToFloat32({ name, dtype, shape, data }), integer };
}

function attrOf(a: InstanceType<typeof onnx.AttributeProto>, node: string): AttrValue | undefined {
  const where = `node ${node} attribute ${a.name}`;
  switch (a.type) {
    case 1: return a.f;
    case 2: return num(a.i as Long);
    case 3: return new TextDecoder().decode(a.s);
    case 4: if (!a.t) throw corrupt(`${where} has no tensor`); return constOf(a.t as TensorProto, where);
    case 6: return [...a.floats];
    case 7: if (a.ints.length > 64) throw corrupt(`${where} has ${a.ints.length} ints`); return (a.ints as Long[]).map(num);
    // Graphs (If/Loop/Scan bodies), strings and sparse tensors: no supported op reads them, and
    // the op that does is listed with the other unsupported ops.
    default: return undefined;
  }
}

export function readOnnxGraph(bytes: Uint8Array): OnnxGraphView {
  const model = decodeOnnxModel(bytes);
  // Decoded messages carry defaults (empty lists, empty strings) for absent fields.
  const g = model.graph as InstanceType<typeof onnx.GraphProto> | null | undefined;
  if (!g) throw corrupt('the model has no graph');
  const opsets = model.opsetImport.filter((o) => !o.domain || o.domain === 'ai.onnx');
  const opset = opsets.length ? num(opsets[0]!.version as Long) : 1;
  if (g.node.length > MAX_NODES) throw new FormatError('FORMAT_TOO_LARGE', `onnx: ${g.node.length} nodes, over ${MAX_NODES}`);
  const consts = new Map<string, ConstTensor>();
  for (const t of g.initializer as TensorProto[]) consts.set(t.name, constOf(t as TensorProto, t.name));
  const nodes: OnnxNodeView[] = [];
  for (const [i, n] of (g.node as InstanceType<typeof onnx.NodeProto>[]).entries()) {
    const name = n.name || `#${i}`;
    const attrs = new Map<string, AttrValue>();
    for (const a of n.attribute as InstanceType<typeof onnx.AttributeProto>[]) {
      const v = attrOf(a, name);
      if (v !== undefined) attrs.set(a.name, v);
    }
    // An op outside the default domain keeps its domain in its type, so it is never taken for a default op.
    const opType = n.domain && n.domain !== 'ai.onnx' ? `${n.domain}.${n.opType}` : n.opType;
    if (opType === 'Constant') {
      const v = attrs.get('value');
      if (typeof v !== 'object' || Array.isArray(v) || n.output.length !== 1) throw new FormatError('FORMAT_UNSUPPORTED', `onnx: Constant node ${name} has no tensor value (only value= is supported)`);
      consts.set(n.output[0]!, v);
      continue;
    }
    nodes.push({ opType, name, inputs: [...n.input], outputs: [...n.output], attrs });
  }
  const inputs = (g.input as InstanceType<typeof onnx.ValueInfoProto>[]).filter((v) => !consts.has(v.name)).map((v) => {
    const dims = v.type?.tensorType?.shape?.dim;
    // Checked by the converter after the op list, so a model with unsupported ops hears about all of them first.
    const problem = !dims ? `onnx: input ${v.name} has no tensor shape` : v.type?.tensorType?.elemType !== 1 ? `onnx: input ${v.name} is not float32` : undefined;
    return { name: v.name, dims: (dims ?? []).map((d) => (d.dimValue !== undefined && d.dimValue !== null && num(d.dimValue as Long) > 0 ? num(d.dimValue as Long) : null)), ...(problem ? { problem } : {}) };
  });
  return { name: g.name || 'onnx', opset, inputs, outputs: (g.output as InstanceType<typeof onnx.ValueInfoProto>[]).map((o) => o.name), nodes, consts };
}
