// ONNX models (onnx.proto3, decoded with onnx-proto/protobufjs). Initializers of the main graph are
// the model's weights. Reading walks ModelProto -> graph -> initializer on the wire and decodes only
// the TensorProtos; writing re-encodes only the replaced TensorProtos and splices them in, so every
// other byte of the file (nodes, opsets, metadata, fields newer than our schema) stays as it was.
import { writeFile } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { asFormatError, FormatError } from './errors.js';
import { dimsOf, dtypeOf, EXTERNAL, externalRef, hasTypedData, inlineBytes, onnx, setTypedData, type TensorProto } from './onnx-tensor.js';
import { concatBytes, encodeLengthDelimited, readFields, type WireField } from './protobuf-wire.js';
import { readFileRange, readWholeFile } from './read-file.js';
import { resolveExistingInside } from './safe-path.js';
import { checkTensor, expectedByteLength, tensorBytes, type DType, type NamedTensor } from './tensor.js';

const MODEL_GRAPH = 7; // ModelProto.graph
const GRAPH_INITIALIZER = 5; // GraphProto.initializer

export type OnnxStorage = 'raw' | 'typed' | 'external';

export interface OnnxInitializer {
  readonly name: string;
  readonly dtype: DType;
  readonly shape: number[];
  readonly storage: OnnxStorage;
  readonly proto: TensorProto;
  /** Which graph field of the model (usually the only one) and which field inside it. */
  readonly graphIndex: number;
  readonly field: WireField;
}

export interface OnnxScan {
  readonly bytes: Uint8Array;
  readonly modelFields: WireField[];
  readonly graphs: { field: WireField; fields: WireField[] }[];
  readonly initializers: OnnxInitializer[];
}

/** Walks a ModelProto's wire format down to the main graph's initializers. Pure; throws FormatError. */
export function scanOnnx(bytes: Uint8Array): OnnxScan {
  const modelFields = readFields(bytes, 0, bytes.byteLength, 'onnx model');
  const graphs = modelFields
    .filter((f) => f.num === MODEL_GRAPH)
    .map((field) => {
      if (field.wire !== 2) throw new FormatError('FORMAT_CORRUPT', 'onnx: the graph field is not a message (this is not an ONNX model)');
      return { field, fields: readFields(bytes, field.valueStart, field.end, 'onnx graph') };
    });
  if (graphs.length === 0) throw new FormatError('FORMAT_CORRUPT', 'onnx: the file has no graph (this is not an ONNX model)');
  const initializers: OnnxInitializer[] = [];
  graphs.forEach((g, graphIndex) => {
    for (const field of g.fields) {
      if (field.num !== GRAPH_INITIALIZER) continue;
      if (field.wire !== 2) throw new FormatError('FORMAT_CORRUPT', 'onnx: an initializer is not a message');
      let proto: TensorProto;
      try {
        proto = onnx.TensorProto.decode(bytes.subarray(field.valueStart, field.end));
      } catch (err) {
        throw asFormatError(err, 'FORMAT_CORRUPT', `onnx: initializer #${initializers.length} does not decode`);
      }
      const name = proto.name || `#${initializers.length}`;
      const dtype = dtypeOf(proto, name);
      const shape = dimsOf(proto, name);
      expectedByteLength(dtype, shape, `onnx: initializer ${name}`);
      const storage: OnnxStorage = proto.dataLocation === EXTERNAL ? 'external' : hasTypedData(proto) ? 'typed' : 'raw';
      initializers.push({ name, dtype, shape, storage, proto, graphIndex, field });
    }
  });
  return { bytes, modelFields, graphs, initializers };
}

async function externalBytes(init: OnnxInitializer, modelDir: string): Promise<Uint8Array> {
  const ref = externalRef(init.proto, init.name);
  const want = expectedByteLength(init.dtype, init.shape);
  if (ref.length !== undefined && ref.length !== want) {
    throw new FormatError('FORMAT_SHAPE_MISMATCH', `onnx: initializer ${init.name} declares ${ref.length} external bytes, ${init.dtype}[${init.shape.join(', ')}] needs ${want}`);
  }
  return readFileRange(await resolveExistingInside(modelDir, ref.location, 'onnx: external data location'), ref.offset, want);
}

/** The bytes of one initializer; external data is read relative to modelDir. */
export async function initializerBytes(init: OnnxInitializer, modelDir: string): Promise<Uint8Array> {
  return init.storage === 'external' ? externalBytes(init, modelDir) : inlineBytes(init.proto, init.name, init.dtype, init.shape);
}

/** Reads the initializers of an ONNX model file as neutral tensors (raw data are views, no copy). */
export async function readOnnxTensors(path: string): Promise<NamedTensor[]> {
  const scan = scanOnnx(await readWholeFile(path));
  const dir = dirname(resolve(path));
  const out: NamedTensor[] = [];
  for (const init of scan.initializers) {
    out.push({ name: init.name, dtype: init.dtype, shape: init.shape, data: await initializerBytes(init, dir) });
  }
  return out;
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

/**
 * Replaces TensorProtos (by index into scan.initializers) and returns the new file. Only the
 * replaced initializer fields and the length prefix of their graph change.
 */
export function spliceInitializers(scan: OnnxScan, replaced: ReadonlyMap<number, Uint8Array>): Uint8Array {
  const newGraphs = scan.graphs.map((g, gi) => {
    const parts: Uint8Array[] = [];
    let pos = g.field.valueStart;
    scan.initializers.forEach((init, i) => {
      const enc = replaced.get(i);
      if (init.graphIndex !== gi || !enc) return;
      parts.push(scan.bytes.subarray(pos, init.field.start), ...encodeLengthDelimited(GRAPH_INITIALIZER, enc));
      pos = init.field.end;
    });
    parts.push(scan.bytes.subarray(pos, g.field.end));
    return concatBytes(parts);
  });
  const parts: Uint8Array[] = [];
  let pos = 0;
  scan.graphs.forEach((g, gi) => {
    parts.push(scan.bytes.subarray(pos, g.field.start), ...encodeLengthDelimited(MODEL_GRAPH, newGraphs[gi]!));
    pos = g.field.end;
  });
  parts.push(scan.bytes.subarray(pos));
  return concatBytes(parts);
}

/**
 * Writes `dest`: the model at `src` with the named initializers replaced (same dtype and shape).
 * Each initializer keeps its storage (raw_data, typed field, external). External data, changed or
 * not, goes to one new file `<dest name>.data` next to dest, so src's data files are never
 * overwritten; only the location/offset/length entries of external initializers change.
 */
export async function writeOnnxTensors(src: string, dest: string, replacements: readonly NamedTensor[]): Promise<void> {
  const scan = scanOnnx(await readWholeFile(src));
  const srcDir = dirname(resolve(src));
  const byName = new Map<string, NamedTensor>();
  for (const t of replacements) {
    checkTensor(t);
    byName.set(t.name, t);
  }
  const names = new Set(scan.initializers.map((i) => i.name));
  for (const n of byName.keys()) if (!names.has(n)) throw new FormatError('FORMAT_NOT_FOUND', `onnx: ${src} has no initializer named ${n}`);

  const sidecarName = `${basename(dest)}.data`;
  const sidecar: Uint8Array[] = [];
  let sidecarLen = 0;
  const replaced = new Map<number, Uint8Array>();
  for (const [i, init] of scan.initializers.entries()) {
    const t = byName.get(init.name);
    if (t && (t.dtype !== init.dtype || t.shape.length !== init.shape.length || t.shape.some((d, k) => d !== init.shape[k]))) {
      throw new FormatError('FORMAT_SHAPE_MISMATCH', `onnx: initializer ${init.name} is ${init.dtype}[${init.shape.join(', ')}], the replacement is ${t.dtype}[${t.shape.join(', ')}]`);
    }
    if (!t && init.storage !== 'external') continue;
    const proto = onnx.TensorProto.decode(scan.bytes.subarray(init.field.valueStart, init.field.end));
    const data = t ? tensorBytes(t) : await externalBytes(init, srcDir);
    if (init.storage === 'raw') proto.rawData = data;
    else if (init.storage === 'typed') setTypedData(proto, { name: init.name, dtype: init.dtype, shape: init.shape, data });
    else {
      proto.externalData = [
        { key: 'location', value: sidecarName },
        { key: 'offset', value: String(sidecarLen) },
        { key: 'length', value: String(data.byteLength) },
      ];
      sidecar.push(data);
      sidecarLen += data.byteLength;
    }
    replaced.set(i, onnx.TensorProto.encode(proto).finish());
  }
  const out = spliceInitializers(scan, replaced);
  if (sidecar.length > 0) await writeFile(resolve(dirname(resolve(dest)), sidecarName), concatBytes(sidecar));
  await writeFile(dest, out);
}
