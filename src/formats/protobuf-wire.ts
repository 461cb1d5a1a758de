// A bounded walker over the protobuf wire format (https://protobuf.dev/programming-guides/encoding/).
// ONNX files are walked field by field, so that initializers can be found and replaced without
// decoding or re-encoding anything else: bytes we do not touch are copied as they are. Every
// length is checked against the bytes that are really there before it is used.
import { FormatError } from './errors.js';

export interface WireField {
  readonly num: number;
  readonly wire: number;
  /** Offset of the tag. */
  readonly start: number;
  /** Offset of the value (after the length prefix for wire type 2). */
  readonly valueStart: number;
  /** Offset just past the value. */
  readonly end: number;
  /** The varint value for wire type 0. */
  readonly varint?: number;
}

export function readVarint(buf: Uint8Array, pos: number, end: number, what: string): [value: number, next: number] {
  let value = 0;
  let scale = 1;
  for (let i = 0; i < 10; i++) {
    if (pos >= end) throw new FormatError('FORMAT_TRUNCATED', `${what}: a varint runs past the end of its message`);
    const b = buf[pos++]!;
    value += (b & 0x7f) * scale;
    if ((b & 0x80) === 0) return [value, pos];
    scale *= 128;
  }
  throw new FormatError('FORMAT_CORRUPT', `${what}: a varint is longer than 10 bytes`);
}

/** The fields of the message in buf[start, end), in order. Throws FormatError on anything malformed. */
export function readFields(buf: Uint8Array, start: number, end: number, what: string): WireField[] {
  const out: WireField[] = [];
  let pos = start;
  while (pos < end) {
    const fieldStart = pos;
    const [tag, afterTag] = readVarint(buf, pos, end, what);
    const num = Math.floor(tag / 8);
    const wire = tag % 8;
    if (num === 0 || num > 0x1fffffff) throw new FormatError('FORMAT_CORRUPT', `${what}: invalid field number ${num} at byte ${fieldStart}`);
    pos = afterTag;
    switch (wire) {
      case 0: {
        const [v, next] = readVarint(buf, pos, end, what);
        out.push({ num, wire, start: fieldStart, valueStart: pos, end: next, varint: v });
        pos = next;
        break;
      }
      case 1:
      case 5: {
        const size = wire === 1 ? 8 : 4;
        if (pos + size > end) throw new FormatError('FORMAT_TRUNCATED', `${what}: field ${num} runs past the end of its message`);
        out.push({ num, wire, start: fieldStart, valueStart: pos, end: pos + size });
        pos += size;
        break;
      }
      case 2: {
        const [len, next] = readVarint(buf, pos, end, what);
        if (len > buf.byteLength) throw new FormatError('FORMAT_TOO_LARGE', `${what}: field ${num} declares ${len} bytes, more than the whole ${buf.byteLength}-byte file`);
        if (next + len > end) throw new FormatError('FORMAT_TRUNCATED', `${what}: field ${num} declares ${len} bytes, but only ${end - next} remain`);
        out.push({ num, wire, start: fieldStart, valueStart: next, end: next + len });
        pos = next + len;
        break;
      }
      default:
        // Groups (3, 4) are deprecated and never used by ONNX; 6 and 7 do not exist.
        throw new FormatError('FORMAT_CORRUPT', `${what}: wire type ${wire} at byte ${fieldStart} (this is not protobuf ONNX data)`);
    }
  }
  return out;
}

export function encodeVarint(n: number): Uint8Array {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`varint ${n} out of range`);
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n % 128) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return Uint8Array.from(out);
}

/** A length-delimited field: tag (num, wire type 2), length, bytes. */
export function encodeLengthDelimited(num: number, value: Uint8Array): Uint8Array[] {
  return [encodeVarint(num * 8 + 2), encodeVarint(value.byteLength), value];
}

export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
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
