// Finds every weight an ONNX file holds, wherever the exporter put it: initializers of the main
// graph and of every nested subgraph (If branches, Loop and Scan bodies, any attribute of type
// GRAPH or GRAPHS), and the value of every Constant node (value, value_float(s), value_int(s)).
// The walk is on the wire (protobuf-wire.ts): each weight is located by the chain of fields that
// leads to it, so a writer can replace exactly those bytes and copy everything else.
import { asFormatError, FormatError } from './errors.js';
import { EXTERNAL, dimsOf, dtypeOf, hasTypedData, onnx, type TensorProto } from './onnx-tensor.js';
import { readFields, type WireField } from './protobuf-wire.js';
import { expectedByteLength, type DType } from './tensor.js';

const MODEL_GRAPH = 7;
const GRAPH = { node: 1, initializer: 5 } as const;
const NODE = { input: 1, output: 2, opType: 4, attribute: 5 } as const;
const ATTR = { name: 1, f: 2, i: 3, t: 5, g: 6, floats: 7, ints: 8, graphs: 11 } as const;
/** Subgraphs nest (If inside Loop inside If...); real models go a few levels deep. */
export const MAX_GRAPH_DEPTH = 32;

export type OnnxStorage = 'raw' | 'typed' | 'external';
/** Where a weight lives: an initializer, a Constant's `value` tensor, or a Constant's value_float(s)/value_int(s). */
export type OnnxSite = 'initializer' | 'constant' | 'constant-list';

export interface OnnxTensorLocation {
  readonly name: string;
  readonly dtype: DType;
  readonly shape: number[];
  readonly storage: OnnxStorage;
  readonly site: OnnxSite;
  /** For 'initializer' and 'constant' sites. For 'constant-list', a TensorProto built from the attribute. */
  readonly proto: TensorProto;
  /** Fields from the file's top level down to the field replaced on write (the tensor, or the attribute for 'constant-list'). */
  readonly chain: readonly WireField[];
  /** '' for the main graph, else the path of subgraph names, e.g. "If_0/else_branch". */
  readonly graphPath: string;
}

export interface OnnxNodeInfo {
  readonly opType: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  /** Integer attributes (group, transB, axis...). */
  readonly ints: ReadonlyMap<string, number>;
  readonly graphPath: string;
}

export interface OnnxWalk {
  readonly tensors: OnnxTensorLocation[];
  readonly nodes: OnnxNodeInfo[];
}

const utf8 = new TextDecoder('utf-8');
const str = (bytes: Uint8Array, f: WireField) => utf8.decode(bytes.subarray(f.valueStart, f.end));

function decodeTensor(bytes: Uint8Array, f: WireField, what: string): TensorProto {
  if (f.wire !== 2) throw new FormatError('FORMAT_CORRUPT', `onnx: ${what} is not a message`);
  try {
    return onnx.TensorProto.decode(bytes.subarray(f.valueStart, f.end));
  } catch (err) {
    throw asFormatError(err, 'FORMAT_CORRUPT', `onnx: ${what} does not decode`);
  }
}

function locate(proto: TensorProto, name: string, site: OnnxSite, chain: WireField[], graphPath: string): OnnxTensorLocation {
  const dtype = dtypeOf(proto, name);
  const shape = dimsOf(proto, name);
  expectedByteLength(dtype, shape, `onnx: tensor ${name}`);
  const storage: OnnxStorage = proto.dataLocation === EXTERNAL ? 'external' : hasTypedData(proto) ? 'typed' : 'raw';
  return { name, dtype, shape, storage, site, proto, chain, graphPath };
}

/** value_float(s) / value_int(s) of a Constant as a TensorProto (scalar for the singular forms). */
function listConstant(bytes: Uint8Array, attrField: WireField, name: string): TensorProto | undefined {
  let a;
  try {
    a = onnx.AttributeProto.decode(bytes.subarray(attrField.valueStart, attrField.end));
  } catch (err) {
    throw asFormatError(err, 'FORMAT_CORRUPT', `onnx: Constant ${name} attribute does not decode`);
  }
  switch (a.name) {
    case 'value_float': return onnx.TensorProto.create({ name, dataType: 1, dims: [], floatData: [a.f] });
    case 'value_floats': return onnx.TensorProto.create({ name, dataType: 1, dims: [a.floats.length], floatData: [...a.floats] });
    case 'value_int': return onnx.TensorProto.create({ name, dataType: 7, dims: [], int64Data: [a.i] });
    case 'value_ints': return onnx.TensorProto.create({ name, dataType: 7, dims: [a.ints.length], int64Data: [...a.ints] });
    default: return undefined; // value_string(s), sparse_value: not weights we read
  }
}

interface Ctx {
  readonly bytes: Uint8Array;
  readonly out: OnnxWalk;
  readonly names: Map<string, number>;
}

/** Names are unique per graph in ONNX, not across subgraphs; later repeats get "#n". */
function uniqueName(ctx: Ctx, name: string): string {
  const n = ctx.names.get(name) ?? 0;
  ctx.names.set(name, n + 1);
  return n === 0 ? name : `${name}#${n + 1}`;
}

function walkNode(ctx: Ctx, nodeField: WireField, chain: WireField[], graphPath: string, depth: number): void {
  const { bytes } = ctx;
  const fields = readFields(bytes, nodeField.valueStart, nodeField.end, 'onnx node');
  let opType = '';
  const inputs: string[] = [];
  const outputs: string[] = [];
  const attrs: { field: WireField; name: string; sub: WireField[] }[] = [];
  for (const f of fields) {
    if (f.wire !== 2) continue;
    if (f.num === NODE.opType) opType = str(bytes, f);
    else if (f.num === NODE.input) inputs.push(str(bytes, f));
    else if (f.num === NODE.output) outputs.push(str(bytes, f));
    else if (f.num === NODE.attribute) {
      const sub = readFields(bytes, f.valueStart, f.end, 'onnx attribute');
      const nameField = sub.find((s) => s.num === ATTR.name && s.wire === 2);
      attrs.push({ field: f, name: nameField ? str(bytes, nameField) : '', sub });
    }
  }
  const ints = new Map<string, number>();
  for (const a of attrs) {
    const i = a.sub.find((s) => s.num === ATTR.i && s.wire === 0);
    if (i?.varint !== undefined) ints.set(a.name, i.varint > 2 ** 63 ? i.varint - 2 ** 64 : i.varint);
  }
  ctx.out.nodes.push({ opType, inputs, outputs, ints, graphPath });
  const nodeChain = [...chain, nodeField];
  for (const a of attrs) {
    if (opType === 'Constant' && outputs[0]) {
      const name = outputs[0];
      if (a.name === 'value') {
        const t = a.sub.find((s) => s.num === ATTR.t);
        if (t) {
          const proto = decodeTensor(bytes, t, `Constant ${name}`);
          ctx.out.tensors.push(locate(proto, uniqueName(ctx, name), 'constant', [...nodeChain, a.field, t], graphPath));
        }
      } else if (/^value_(float|int)s?$/.test(a.name)) {
        const proto = listConstant(bytes, a.field, name);
        if (proto) ctx.out.tensors.push(locate(proto, uniqueName(ctx, name), 'constant-list', [...nodeChain, a.field], graphPath));
      }
    }
    for (const g of a.sub) {
      if ((g.num === ATTR.g || g.num === ATTR.graphs) && g.wire === 2) {
        walkGraph(ctx, g, [...nodeChain, a.field], `${graphPath}${graphPath ? '/' : ''}${outputs[0] ?? opType}.${a.name}`, depth + 1);
      }
    }
  }
}

function walkGraph(ctx: Ctx, graphField: WireField, chain: WireField[], graphPath: string, depth: number): void {
  if (depth > MAX_GRAPH_DEPTH) throw new FormatError('FORMAT_TOO_LARGE', `onnx: subgraphs nest deeper than ${MAX_GRAPH_DEPTH} levels`);
  const { bytes } = ctx;
  const fields = readFields(bytes, graphField.valueStart, graphField.end, 'onnx graph');
  const graphChain = [...chain, graphField];
  for (const f of fields) {
    if (f.num === GRAPH.initializer) {
      const proto = decodeTensor(bytes, f, 'an initializer');
      const name = proto.name || `#${ctx.out.tensors.length}`;
      ctx.out.tensors.push(locate(proto, uniqueName(ctx, name), 'initializer', [...graphChain, f], graphPath));
    } else if (f.num === GRAPH.node) {
      if (f.wire !== 2) throw new FormatError('FORMAT_CORRUPT', 'onnx: a node is not a message');
      walkNode(ctx, f, graphChain, graphPath, depth);
    }
  }
}

/** Every weight and every node of a ModelProto, main graph first, subgraphs in file order. Pure; throws FormatError. */
export function walkOnnx(bytes: Uint8Array): OnnxWalk {
  const modelFields = readFields(bytes, 0, bytes.byteLength, 'onnx model');
  const graphs = modelFields.filter((f) => f.num === MODEL_GRAPH);
  if (graphs.length === 0) throw new FormatError('FORMAT_CORRUPT', 'onnx: the file has no graph (this is not an ONNX model)');
  const ctx: Ctx = { bytes, out: { tensors: [], nodes: [] }, names: new Map() };
  for (const g of graphs) {
    if (g.wire !== 2) throw new FormatError('FORMAT_CORRUPT', 'onnx: the graph field is not a message (this is not an ONNX model)');
    walkGraph(ctx, g, [], '', 0);
  }
  return ctx.out;
}

/**
 * Replaces the values of nested fields and returns the new file. Each edit names the chain of
 * fields down to the one replaced; every enclosing message gets its new length prefix, and all
 * other bytes are copied as they are.
 */
export function spliceFields(bytes: Uint8Array, edits: readonly { chain: readonly WireField[]; value: Uint8Array }[]): Uint8Array {
  return concat(rebuild(bytes, 0, bytes.byteLength, edits, 0));
}

function rebuild(bytes: Uint8Array, start: number, end: number, edits: readonly { chain: readonly WireField[]; value: Uint8Array }[], depth: number): Uint8Array[] {
  const groups = new Map<number, { field: WireField; edits: typeof edits[number][] }>();
  for (const e of edits) {
    const f = e.chain[depth]!;
    const g = groups.get(f.start) ?? { field: f, edits: [] };
    g.edits.push(e);
    groups.set(f.start, g);
  }
  const parts: Uint8Array[] = [];
  let pos = start;
  for (const { field, edits: es } of [...groups.values()].sort((a, b) => a.field.start - b.field.start)) {
    parts.push(bytes.subarray(pos, field.start));
    const leaf = es.find((e) => e.chain.length === depth + 1);
    const inner = leaf ? leaf.value : concat(rebuild(bytes, field.valueStart, field.end, es, depth + 1));
    parts.push(encodeVarintBytes(field.num * 8 + 2), encodeVarintBytes(inner.byteLength), inner);
    pos = field.end;
  }
  parts.push(bytes.subarray(pos, end));
  return parts;
}

function encodeVarintBytes(n: number): Uint8Array {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n % 128) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return Uint8Array.from(out);
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.byteLength;
  const out = new Uint8Array(n);
  let pos = 0;
  for (const p of parts) {
    out.set(p, pos);
    pos += p.byteLength;
  }
  return out;
}
