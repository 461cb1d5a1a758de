// ONNX models (onnx.proto3, decoded with onnx-proto/protobufjs). The weights are wherever the
// exporter put them (onnx-walk.ts): initializers and Constant nodes, in the main graph and in
// every nested subgraph, plus the float weights behind DequantizeLinear (onnx-dequantize.ts).
// Writing re-encodes only the replaced TensorProtos (or Constant attributes) and splices them in,
// so every other byte of the file (nodes, opsets, metadata, fields newer than our schema) stays.
import { writeFile } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { asFormatError, FormatError } from './errors.js';
import { dequantize, findDequantized, quantize, type DequantizedWeight } from './onnx-dequantize.js';
import { externalRef, inlineBytes, onnx, setTypedData, type TensorProto } from './onnx-tensor.js';
import { spliceFields, walkOnnx, type OnnxNodeInfo, type OnnxStorage, type OnnxTensorLocation } from './onnx-walk.js';
import { concatBytes, readFields, type WireField } from './protobuf-wire.js';
import { readFileRange, readWholeFile } from './read-file.js';
import { resolveExistingInside } from './safe-path.js';
import { checkTensor, expectedByteLength, tensorBytes, tensorToFloat32, type NamedTensor } from './tensor.js';

export type { OnnxStorage, OnnxTensorLocation, OnnxNodeInfo } from './onnx-walk.js';

export interface OnnxInitializer extends OnnxTensorLocation {
  /** The field replaced on write (the last of chain). */
  readonly field: WireField;
}

export interface OnnxScan {
  readonly bytes: Uint8Array;
  readonly graphs: { field: WireField }[];
  /** Every stored tensor: initializers and Constants, main graph and subgraphs, in file order. */
  readonly tensors: OnnxInitializer[];
  /** The initializers of the main graph (what older readers called the weights). */
  readonly initializers: OnnxInitializer[];
  readonly nodes: OnnxNodeInfo[];
}

/** Walks a ModelProto's wire format to every stored tensor. Pure; throws FormatError. */
export function scanOnnx(bytes: Uint8Array): OnnxScan {
  const walk = walkOnnx(bytes);
  const graphs = readFields(bytes, 0, bytes.byteLength, 'onnx model').filter((f) => f.num === 7).map((field) => ({ field }));
  const tensors = walk.tensors.map((t) => ({ ...t, field: t.chain[t.chain.length - 1]! }));
  return { bytes, graphs, tensors, initializers: tensors.filter((t) => t.site === 'initializer' && t.graphPath === ''), nodes: walk.nodes };
}

async function externalBytes(init: OnnxTensorLocation, modelDir: string): Promise<Uint8Array> {
  const ref = externalRef(init.proto, init.name);
  const want = expectedByteLength(init.dtype, init.shape);
  if (ref.length !== undefined && ref.length !== want) {
    throw new FormatError('FORMAT_SHAPE_MISMATCH', `onnx: initializer ${init.name} declares ${ref.length} external bytes, ${init.dtype}[${init.shape.join(', ')}] needs ${want}`);
  }
  return readFileRange(await resolveExistingInside(modelDir, ref.location, 'onnx: external data location'), ref.offset, want);
}

/** The bytes of one stored tensor; external data is read relative to modelDir. */
export async function initializerBytes(init: OnnxTensorLocation, modelDir: string): Promise<Uint8Array> {
  return init.storage === 'external' ? externalBytes(init, modelDir) : inlineBytes(init.proto, init.name, init.dtype, init.shape);
}

async function storedTensors(scan: OnnxScan, dir: string): Promise<Map<OnnxTensorLocation, NamedTensor>> {
  const out = new Map<OnnxTensorLocation, NamedTensor>();
  for (const t of scan.tensors) out.set(t, { name: t.name, dtype: t.dtype, shape: t.shape, data: await initializerBytes(t, dir) });
  return out;
}

function dequantizedOf(scan: OnnxScan, stored: Map<OnnxTensorLocation, NamedTensor>): DequantizedWeight[] {
  return findDequantized(scan.nodes, scan.tensors, (t) => stored.get(t));
}

/**
 * Reads every weight of an ONNX model file as neutral tensors: stored tensors (raw data are views,
 * no copy) in file order, then the F32 weights behind DequantizeLinear, named by the node's output.
 */
export async function readOnnxTensors(path: string): Promise<NamedTensor[]> {
  const scan = scanOnnx(await readWholeFile(path));
  const stored = await storedTensors(scan, dirname(resolve(path)));
  const deq = dequantizedOf(scan, stored).map((d) => dequantize(d, stored.get(d.x)!));
  return [...stored.values(), ...deq];
}

/** Decodes the whole ModelProto (for inspection: opsets, inputs, outputs, nodes). */
export function decodeOnnxModel(bytes: Uint8Array): InstanceType<typeof onnx.ModelProto> {
  scanOnnx(bytes); // our bounded checks first
  try {
    return onnx.ModelProto.decode(bytes);
  } catch (err) {
    throw asFormatError(err, 'FORMAT_CORRUPT', 'onnx: model does not decode');
  }
}

/** The new value of a Constant's value_float(s)/value_int(s) attribute. */
function encodeListAttribute(scan: OnnxScan, loc: OnnxInitializer, t: NamedTensor): Uint8Array {
  const a = onnx.AttributeProto.decode(scan.bytes.subarray(loc.field.valueStart, loc.field.end));
  if (loc.dtype === 'F32') {
    const v = Array.from(tensorToFloat32(t));
    if (a.name === 'value_float') a.f = v[0]!;
    else a.floats = v;
  } else {
    const v = Array.from(new BigInt64Array(tensorBytes(t).slice().buffer), (x) => Number(x));
    if (a.name === 'value_int') a.i = v[0]!;
    else a.ints = v;
  }
  return onnx.AttributeProto.encode(a).finish();
}

function sameShape(a: NamedTensor | OnnxTensorLocation, b: NamedTensor): boolean {
  return a.dtype === b.dtype && a.shape.length === b.shape.length && a.shape.every((d, k) => d === b.shape[k]);
}

/**
 * Writes `dest`: the model at `src` with the named tensors replaced (same dtype and shape; a
 * DequantizeLinear weight takes F32 values and is quantized back). Each tensor keeps its storage
 * (raw_data, typed field, external). External data, changed or not, goes to one new file
 * `<dest name>.data` next to dest, so src's data files are never overwritten.
 */
export async function writeOnnxTensors(src: string, dest: string, replacements: readonly NamedTensor[]): Promise<void> {
  const scan = scanOnnx(await readWholeFile(src));
  const srcDir = dirname(resolve(src));
  const byName = new Map<string, NamedTensor>();
  for (const t of replacements) {
    checkTensor(t);
    byName.set(t.name, t);
  }
  const locByName = new Map(scan.tensors.map((t) => [t.name, t]));
  const stored = await storedTensors(scan, srcDir);
  for (const d of dequantizedOf(scan, stored)) {
    const t = byName.get(d.name);
    if (!t) continue;
    if (byName.has(d.x.name)) throw new FormatError('FORMAT_SHAPE_MISMATCH', `onnx: both ${d.name} and the quantized ${d.x.name} behind it are replaced`);
    if (!['F32', 'F16', 'BF16', 'F64'].includes(t.dtype) || t.shape.length !== d.shape.length || t.shape.some((x, k) => x !== d.shape[k])) {
      throw new FormatError('FORMAT_SHAPE_MISMATCH', `onnx: ${d.name} is F32[${d.shape.join(', ')}], the replacement is ${t.dtype}[${t.shape.join(', ')}]`);
    }
    byName.delete(d.name);
    byName.set(d.x.name, quantize(d, tensorToFloat32(t)));
  }
  for (const [n, t] of byName) {
    const loc = locByName.get(n);
    if (!loc) throw new FormatError('FORMAT_NOT_FOUND', `onnx: ${src} has no tensor named ${n}`);
    if (!sameShape(loc, t)) throw new FormatError('FORMAT_SHAPE_MISMATCH', `onnx: tensor ${n} is ${loc.dtype}[${loc.shape.join(', ')}], the replacement is ${t.dtype}[${t.shape.join(', ')}]`);
  }

  const sidecarName = `${basename(dest)}.data`;
  const sidecar: Uint8Array[] = [];
  let sidecarLen = 0;
  const edits: { chain: readonly WireField[]; value: Uint8Array }[] = [];
  for (const loc of scan.tensors) {
    const t = byName.get(loc.name);
    if (!t && loc.storage !== 'external') continue;
    if (loc.site === 'constant-list') {
      edits.push({ chain: loc.chain, value: encodeListAttribute(scan, loc, t!) });
      continue;
    }
    const proto: TensorProto = onnx.TensorProto.decode(scan.bytes.subarray(loc.field.valueStart, loc.field.end));
    const data = t ? tensorBytes(t) : stored.get(loc)!.data as Uint8Array;
    if (loc.storage === 'raw') proto.rawData = data;
    else if (loc.storage === 'typed') setTypedData(proto, { name: loc.name, dtype: loc.dtype, shape: loc.shape, data });
    else {
      proto.externalData = [
        { key: 'location', value: sidecarName },
        { key: 'offset', value: String(sidecarLen) },
        { key: 'length', value: String(data.byteLength) },
      ];
      sidecar.push(data);
      sidecarLen += data.byteLength;
    }
    edits.push({ chain: loc.chain, value: onnx.TensorProto.encode(proto).finish() });
  }
  const out = edits.length > 0 ? spliceFields(scan.bytes, edits) : scan.bytes;
  if (sidecar.length > 0) await writeFile(resolve(dirname(resolve(dest)), sidecarName), concatBytes(sidecar));
  await writeFile(dest, out);
}
