// ONNX TensorProto <-> neutral tensor. The data of a TensorProto is in raw_data (little-endian),
// in one of the typed repeated fields (float_data, int32_data, ...; onnx.proto3 says which field
// each data type uses), or in an external file. All three are read; a tensor is written back in
// the form it was read in.
import onnxProto from 'onnx-proto';
import { FormatError } from './errors.js';
import { elementCount, expectedByteLength, tensorBytes, type DType, type NamedTensor } from './tensor.js';

export const { onnx } = onnxProto;
export type TensorProto = InstanceType<typeof onnx.TensorProto>;

/** TensorProto.DataType numbers (onnx.proto3) to our dtypes. */
const FROM_ONNX: Record<number, DType> = {
  1: 'F32', 2: 'U8', 3: 'I8', 4: 'U16', 5: 'I16', 6: 'I32', 7: 'I64', 9: 'BOOL',
  10: 'F16', 11: 'F64', 12: 'U32', 13: 'U64', 16: 'BF16', 17: 'F8_E4M3', 19: 'F8_E5M2',
};
const ONNX_NAMES: Record<number, string> = { 0: 'UNDEFINED', 8: 'STRING', 14: 'COMPLEX64', 15: 'COMPLEX128', 18: 'FLOAT8E4M3FNUZ', 20: 'FLOAT8E5M2FNUZ', 21: 'UINT4', 22: 'INT4' };
export const TO_ONNX: Partial<Record<DType, number>> = Object.fromEntries(Object.entries(FROM_ONNX).map(([k, v]) => [v, Number(k)]));

export const EXTERNAL = 1; // TensorProto.DataLocation.EXTERNAL

type LongLike = number | { low: number; high: number; unsigned?: boolean };

function toBigInt(x: LongLike, unsigned: boolean): bigint {
  if (typeof x === 'number') return BigInt(Math.trunc(x));
  const v = (BigInt(x.high >>> 0) << 32n) | BigInt(x.low >>> 0);
  return unsigned ? v : BigInt.asIntN(64, v);
}

function toLong(v: bigint): { low: number; high: number } {
  const u = BigInt.asUintN(64, v);
  return { low: Number(u & 0xffffffffn) | 0, high: Number(u >> 32n) | 0 };
}

export function dimsOf(t: TensorProto, name: string): number[] {
  return (t.dims as LongLike[]).map((d) => {
    const v = toBigInt(d, false);
    if (v < 0n || v > BigInt(Number.MAX_SAFE_INTEGER)) throw new FormatError('FORMAT_CORRUPT', `onnx: initializer ${name} has dimension ${v}`);
    return Number(v);
  });
}

export function dtypeOf(t: TensorProto, name: string): DType {
  const d = FROM_ONNX[t.dataType];
  if (!d) throw new FormatError('FORMAT_UNSUPPORTED', `onnx: initializer ${name} has data type ${ONNX_NAMES[t.dataType] ?? t.dataType}, which we do not read`);
  return d;
}

type TypedField = 'floatData' | 'doubleData' | 'int32Data' | 'int64Data' | 'uint64Data';

/** The typed repeated field onnx.proto3 assigns to each data type. */
export function typedFieldOf(dtype: DType): TypedField {
  switch (dtype) {
    case 'F32': return 'floatData';
    case 'F64': return 'doubleData';
    case 'I64': return 'int64Data';
    case 'U32': case 'U64': return 'uint64Data';
    default: return 'int32Data'; // I32, I16, I8, U16, U8, BOOL, and the bits of F16, BF16, F8
  }
}

/** Which storage a (non-external) TensorProto uses. */
export function hasTypedData(t: TensorProto): boolean {
  return t.floatData.length + t.doubleData.length + t.int32Data.length + t.int64Data.length + t.uint64Data.length > 0;
}

/** Bytes of an in-file TensorProto (raw_data or typed field), checked against dtype and shape. */
export function inlineBytes(t: TensorProto, name: string, dtype: DType, shape: number[]): Uint8Array {
  const want = expectedByteLength(dtype, shape, `onnx: initializer ${name}`);
  if (t.segment) throw new FormatError('FORMAT_UNSUPPORTED', `onnx: initializer ${name} is segmented`);
  if (!hasTypedData(t)) {
    const raw = t.rawData ?? new Uint8Array(0);
    if (raw.byteLength !== want) throw new FormatError('FORMAT_SHAPE_MISMATCH', `onnx: initializer ${name} has ${raw.byteLength} bytes of raw_data, ${dtype}[${shape.join(', ')}] needs ${want}`);
    return raw;
  }
  const field = typedFieldOf(dtype);
  const values = t[field] as LongLike[];
  const n = elementCount(shape);
  if (values.length !== n || (t.rawData && t.rawData.byteLength > 0)) {
    throw new FormatError('FORMAT_SHAPE_MISMATCH', `onnx: initializer ${name} has ${values.length} values in ${field}, [${shape.join(', ')}] needs ${n}`);
  }
  switch (dtype) {
    case 'F32': return bytesOf(Float32Array.from(values as number[]));
    case 'F64': return bytesOf(Float64Array.from(values as number[]));
    case 'I32': return bytesOf(Int32Array.from(values as number[]));
    case 'I16': return bytesOf(Int16Array.from(values as number[]));
    case 'I8': return bytesOf(Int8Array.from(values as number[]));
    case 'U16': case 'F16': case 'BF16': return bytesOf(Uint16Array.from(values as number[]));
    case 'U8': case 'BOOL': case 'F8_E4M3': case 'F8_E5M2': case 'F8_E8M0': return Uint8Array.from(values as number[]);
    case 'I64': return bytesOf(BigInt64Array.from(values, (v) => toBigInt(v, false)));
    case 'U64': return bytesOf(BigUint64Array.from(values, (v) => toBigInt(v, true)));
    case 'U32': return bytesOf(Uint32Array.from(values, (v) => Number(toBigInt(v, true) & 0xffffffffn)));
  }
}

function bytesOf(a: ArrayBufferView): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/** Sets a TensorProto's typed field from tensor bytes (the inverse of inlineBytes). */
export function setTypedData(p: TensorProto, t: NamedTensor): void {
  const b = tensorBytes(t).slice();
  const field = typedFieldOf(t.dtype);
  const view = (() => {
    switch (t.dtype) {
      case 'F32': return Array.from(new Float32Array(b.buffer));
      case 'F64': return Array.from(new Float64Array(b.buffer));
      case 'I32': return Array.from(new Int32Array(b.buffer));
      case 'I16': return Array.from(new Int16Array(b.buffer));
      case 'I8': return Array.from(new Int8Array(b.buffer));
      case 'U16': case 'F16': case 'BF16': return Array.from(new Uint16Array(b.buffer));
      case 'I64': return Array.from(new BigInt64Array(b.buffer), toLong);
      case 'U64': return Array.from(new BigUint64Array(b.buffer), toLong);
      case 'U32': return Array.from(new Uint32Array(b.buffer), (v) => toLong(BigInt(v)));
      default: return Array.from(b);
    }
  })();
  (p as unknown as Record<string, unknown>)[field] = view;
}

/** External data entries (location, offset, length) of a TensorProto, parsed and bounded. */
export function externalRef(t: TensorProto, name: string): { location: string; offset: number; length?: number } {
  const kv = new Map<string, string>();
  for (const e of t.externalData) kv.set(e.key ?? '', e.value ?? '');
  const location = kv.get('location');
  if (!location) throw new FormatError('FORMAT_CORRUPT', `onnx: initializer ${name} is external but names no location`);
  const num = (k: string): number | undefined => {
    const s = kv.get(k);
    if (s === undefined) return undefined;
    if (!/^\d{1,16}$/.test(s) || !Number.isSafeInteger(Number(s))) throw new FormatError('FORMAT_CORRUPT', `onnx: initializer ${name} has external ${k} ${JSON.stringify(s.slice(0, 30))}`);
    return Number(s);
  };
  const length = num('length');
  return { location, offset: num('offset') ?? 0, ...(length === undefined ? {} : { length }) };
}
