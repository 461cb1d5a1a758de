// The neutral tensor form every adapter reads into and writes from. Data is kept as the raw
// little-endian bytes of the stored dtype, so nothing is lost on a read/write round trip and a
// tensor's digest is the digest of exactly the bytes in the file.
import { endianness } from 'node:os';
import { FormatError } from './errors.js';

if (endianness() !== 'LE') throw new Error('hallmark formats need a little-endian host');

/** The dtype names of safetensors, which every other format maps onto. */
export const DTYPES = [
  'F64', 'F32', 'F16', 'BF16', 'F8_E5M2', 'F8_E4M3', 'F8_E8M0',
  'I64', 'I32', 'I16', 'I8', 'U64', 'U32', 'U16', 'U8', 'BOOL',
] as const;
export type DType = (typeof DTYPES)[number];

const SIZES: Record<DType, number> = {
  F64: 8, F32: 4, F16: 2, BF16: 2, F8_E5M2: 1, F8_E4M3: 1, F8_E8M0: 1,
  I64: 8, I32: 4, I16: 2, I8: 1, U64: 8, U32: 4, U16: 2, U8: 1, BOOL: 1,
};

export type TensorData =
  | Uint8Array | Int8Array | Uint16Array | Int16Array | Uint32Array | Int32Array
  | Float32Array | Float64Array | BigInt64Array | BigUint64Array;

export interface NamedTensor {
  readonly name: string;
  readonly dtype: DType;
  readonly shape: readonly number[];
  /** Readers return the raw little-endian bytes; writers also accept a typed array of the dtype's width. */
  readonly data: TensorData;
}

export function isDType(s: unknown): s is DType {
  return typeof s === 'string' && (DTYPES as readonly string[]).includes(s);
}

export function dtypeSize(dtype: DType): number {
  return SIZES[dtype];
}

/** Number of elements of a shape; dims must be safe non-negative integers and the product bounded. */
export function elementCount(shape: readonly unknown[], context = 'shape'): number {
  let n = 1;
  for (const d of shape) {
    if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0) {
      throw new FormatError('FORMAT_CORRUPT', `${context}: dimension ${String(d)} is not a non-negative integer`);
    }
    n *= d;
    if (n > Number.MAX_SAFE_INTEGER) throw new FormatError('FORMAT_TOO_LARGE', `${context}: [${shape.join(', ')}] has too many elements`);
  }
  return n;
}

/** Byte length that a tensor of this dtype and shape must have. */
export function expectedByteLength(dtype: DType, shape: readonly unknown[], context = 'shape'): number {
  const n = elementCount(shape, context) * SIZES[dtype];
  if (!Number.isSafeInteger(n)) throw new FormatError('FORMAT_TOO_LARGE', `${context}: byte length overflows`);
  return n;
}

/** The little-endian bytes of a tensor's data (a view, no copy). */
export function tensorBytes(t: NamedTensor): Uint8Array {
  const d = t.data;
  return d instanceof Uint8Array && d.constructor === Uint8Array ? d : new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
}

/** Checks that a tensor's bytes match its dtype and shape. */
export function checkTensor(t: NamedTensor): void {
  if (typeof t.name !== 'string') throw new TypeError('tensor name must be a string');
  if (!isDType(t.dtype)) throw new TypeError(`tensor ${t.name}: unknown dtype ${String(t.dtype)}`);
  const want = expectedByteLength(t.dtype, t.shape, `tensor ${t.name}`);
  const got = tensorBytes(t).byteLength;
  if (got !== want) {
    throw new FormatError('FORMAT_SHAPE_MISMATCH', `tensor ${t.name}: ${got} bytes, but ${t.dtype}[${t.shape.join(', ')}] needs ${want}`);
  }
}

// IEEE 754 half precision, round-to-nearest-even, via a shared f32 view.
const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

export function f16BitsToF32(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 0x1f) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}

export function f32ToF16Bits(v: number): number {
  f32[0] = v;
  const x = u32[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  let e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    let r = mant >> shift;
    const rest = mant & ((1 << shift) - 1);
    if (rest > half || (rest === half && r & 1)) r++;
    return sign | r;
  }
  let r = mant >> 13;
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && r & 1)) {
    r++;
    if (r === 0x400) {
      r = 0;
      e++;
      if (e >= 0x1f) return sign | 0x7c00;
    }
  }
  return sign | (e << 10) | r;
}

export function bf16BitsToF32(b: number): number {
  u32[0] = (b & 0xffff) << 16;
  return f32[0]!;
}

export function f32ToBf16Bits(v: number): number {
  f32[0] = v;
  const x = u32[0]!;
  if ((x & 0x7f800000) === 0x7f800000 && x & 0x7fffff) return ((x >>> 16) | 0x40) & 0xffff; // keep NaN a NaN
  return ((x + 0x7fff + ((x >>> 16) & 1)) >>> 16) & 0xffff;
}

/** Values of a floating or integer tensor as Float32Array (a copy; F32 input is copied too). */
export function tensorToFloat32(t: NamedTensor): Float32Array {
  checkTensor(t);
  const b = tensorBytes(t);
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const n = b.byteLength / SIZES[t.dtype];
  const out = new Float32Array(n);
  const read: Partial<Record<DType, (i: number) => number>> = {
    F64: (i) => dv.getFloat64(i * 8, true),
    F32: (i) => dv.getFloat32(i * 4, true),
    F16: (i) => f16BitsToF32(dv.getUint16(i * 2, true)),
    BF16: (i) => bf16BitsToF32(dv.getUint16(i * 2, true)),
    I64: (i) => Number(dv.getBigInt64(i * 8, true)),
    I32: (i) => dv.getInt32(i * 4, true),
    I16: (i) => dv.getInt16(i * 2, true),
    I8: (i) => dv.getInt8(i),
    U64: (i) => Number(dv.getBigUint64(i * 8, true)),
    U32: (i) => dv.getUint32(i * 4, true),
    U16: (i) => dv.getUint16(i * 2, true),
    U8: (i) => dv.getUint8(i),
    BOOL: (i) => dv.getUint8(i),
  };
  const f = read[t.dtype];
  if (!f) throw new FormatError('FORMAT_UNSUPPORTED', `tensor ${t.name}: cannot convert ${t.dtype} to F32`);
  if (t.dtype === 'F32') out.set(new Float32Array(b.slice().buffer));
  else for (let i = 0; i < n; i++) out[i] = f(i);
  return out;
}

/** A tensor of the given float dtype (F64/F32/F16/BF16) from F32 values, rounding to nearest even. */
export function tensorFromFloat32(name: string, dtype: 'F64' | 'F32' | 'F16' | 'BF16', shape: readonly number[], values: Float32Array): NamedTensor {
  const n = elementCount(shape, `tensor ${name}`);
  if (values.length !== n) throw new RangeError(`tensor ${name}: ${values.length} values for shape [${shape.join(', ')}]`);
  let data: TensorData;
  if (dtype === 'F32') data = new Uint8Array(values.slice().buffer);
  else if (dtype === 'F64') data = new Uint8Array(Float64Array.from(values).buffer);
  else {
    const bits = new Uint16Array(n);
    const conv = dtype === 'F16' ? f32ToF16Bits : f32ToBf16Bits;
    for (let i = 0; i < n; i++) bits[i] = conv(values[i]!);
    data = new Uint8Array(bits.buffer);
  }
  return { name, dtype, shape: [...shape], data };
}
