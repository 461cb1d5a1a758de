// safetensors (https://github.com/huggingface/safetensors): an 8-byte little-endian header
// length N, N bytes of UTF-8 JSON {name: {dtype, shape, data_offsets: [begin, end]}, __metadata__?},
// then the byte buffer the offsets point into. Every claim of the header is checked against the
// file before anything is sliced, and nothing is allocated from a header's numbers.
import { writeFile } from 'node:fs/promises';
import { FormatError } from './errors.js';
import { checkTensor, expectedByteLength, isDType, tensorBytes, type NamedTensor } from './tensor.js';
import { openRegularFile, readWholeFile } from './read-file.js';

/** The reference implementation refuses headers above 100 MB; so do we. */
export const MAX_HEADER_BYTES = 100_000_000;

// Names the format defines that we do not decode (sub-byte and complex types).
const UNSUPPORTED_DTYPES = new Set(['F4', 'F6_E2M3', 'F6_E3M2', 'F8_E4M3FNUZ', 'F8_E5M2FNUZ', 'C64', 'C128', 'I4', 'U4']);

export interface Safetensors {
  tensors: NamedTensor[];
  metadata: Record<string, string>;
}

function fail(code: ConstructorParameters<typeof FormatError>[0], msg: string): never {
  throw new FormatError(code, `safetensors: ${msg}`);
}

/** Reads and bounds the header length; returns N. */
function readHeaderLength(prefix: Uint8Array, fileSize: number): number {
  if (prefix.byteLength < 8) fail('FORMAT_TRUNCATED', `file has ${fileSize} bytes, shorter than the 8-byte header length`);
  const n = new DataView(prefix.buffer, prefix.byteOffset, 8).getBigUint64(0, true);
  if (n > BigInt(MAX_HEADER_BYTES)) fail('FORMAT_TOO_LARGE', `header length ${n} is over the ${MAX_HEADER_BYTES}-byte limit`);
  if (8n + n > BigInt(fileSize)) fail('FORMAT_TRUNCATED', `header length ${n} points past the end of the ${fileSize}-byte file`);
  return Number(n);
}

function parseHeaderJson(bytes: Uint8Array): Record<string, unknown> {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    fail('FORMAT_CORRUPT', 'header is not valid UTF-8');
  }
  if (!text.startsWith('{')) fail('FORMAT_CORRUPT', 'header does not start with "{"');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    fail('FORMAT_CORRUPT', `header is not valid JSON (${(err as Error).message})`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) fail('FORMAT_CORRUPT', 'header is not a JSON object');
  return value as Record<string, unknown>;
}

interface Entry {
  name: string;
  dtype: NamedTensor['dtype'];
  shape: number[];
  begin: number;
  end: number;
}

function parseEntry(name: string, v: unknown): Entry {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) fail('FORMAT_CORRUPT', `tensor ${name} is not an object`);
  const { dtype, shape, data_offsets: offs } = v as Record<string, unknown>;
  if (typeof dtype !== 'string') fail('FORMAT_CORRUPT', `tensor ${name} has no dtype`);
  if (!isDType(dtype)) fail(UNSUPPORTED_DTYPES.has(dtype) ? 'FORMAT_UNSUPPORTED' : 'FORMAT_CORRUPT', `tensor ${name} has dtype ${dtype.slice(0, 20)}, which we do not read`);
  if (!Array.isArray(shape)) fail('FORMAT_CORRUPT', `tensor ${name} has no shape`);
  if (!Array.isArray(offs) || offs.length !== 2) fail('FORMAT_CORRUPT', `tensor ${name} has no data_offsets [begin, end]`);
  const [begin, end] = offs as unknown[];
  if (!Number.isSafeInteger(begin) || !Number.isSafeInteger(end) || (begin as number) < 0 || (end as number) < (begin as number)) {
    fail('FORMAT_CORRUPT', `tensor ${name} has invalid data_offsets [${String(begin)}, ${String(end)}]`);
  }
  const want = expectedByteLength(dtype, shape, `safetensors: tensor ${name}`);
  const got = (end as number) - (begin as number);
  if (got !== want) fail('FORMAT_SHAPE_MISMATCH', `tensor ${name} has ${got} bytes, but ${dtype}[${shape.join(', ')}] needs ${want}`);
  return { name, dtype, shape: shape as number[], begin: begin as number, end: end as number };
}

function parseMetadata(v: unknown): Record<string, string> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) fail('FORMAT_CORRUPT', '__metadata__ is not an object');
  // Null-prototype objects: a key such as "__proto__" must stay a plain key, not a prototype.
  const out: Record<string, string> = Object.create(null);
  for (const [k, x] of Object.entries(v)) {
    if (typeof x !== 'string') fail('FORMAT_CORRUPT', `__metadata__.${k} is not a string`);
    out[k] = x;
  }
  return out;
}

/** Parses a header and checks that its tensors tile the data section exactly (no holes, no overlap). */
function parseHeader(headerBytes: Uint8Array, dataLength: number): { entries: Entry[]; metadata: Record<string, string> } {
  const header = parseHeaderJson(headerBytes);
  let metadata: Record<string, string> = {};
  const entries: Entry[] = [];
  for (const [name, v] of Object.entries(header)) {
    if (name === '__metadata__') metadata = parseMetadata(v);
    else entries.push(parseEntry(name, v));
  }
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let pos = 0;
  for (const e of entries) {
    if (e.end > dataLength) fail('FORMAT_TRUNCATED', `tensor ${e.name} ends at ${e.end}, past the ${dataLength}-byte data section`);
    if (e.begin !== pos) fail('FORMAT_CORRUPT', `tensor ${e.name} starts at ${e.begin}, expected ${pos} (tensors must be contiguous and not overlap)`);
    pos = e.end;
  }
  if (pos !== dataLength) fail('FORMAT_CORRUPT', `${dataLength - pos} bytes after the last tensor`);
  return { entries, metadata };
}

/** Parses a whole safetensors file held in memory. Tensor data are views into `bytes`, in file order. */
export function parseSafetensors(bytes: Uint8Array): Safetensors {
  const n = readHeaderLength(bytes.subarray(0, 8), bytes.byteLength);
  const dataStart = 8 + n;
  const { entries, metadata } = parseHeader(bytes.subarray(8, dataStart), bytes.byteLength - dataStart);
  const tensors = entries.map((e) => ({
    name: e.name,
    dtype: e.dtype,
    shape: e.shape,
    data: bytes.subarray(dataStart + e.begin, dataStart + e.end),
  }));
  return { tensors, metadata };
}

/** Serialises tensors (in the given order) and string metadata; the header is space-padded to 8 bytes as the reference does. */
export function encodeSafetensors(tensors: readonly NamedTensor[], metadata?: Record<string, string>): Uint8Array {
  // Null prototype, so that a tensor named "__proto__" is written as a tensor (found by fast-check).
  const header: Record<string, unknown> = Object.create(null);
  if (metadata && Object.keys(metadata).length > 0) {
    for (const [k, v] of Object.entries(metadata)) if (typeof v !== 'string') throw new TypeError(`metadata ${k} must be a string`);
    header.__metadata__ = metadata;
  }
  let offset = 0;
  const seen = new Set<string>();
  for (const t of tensors) {
    checkTensor(t);
    if (t.name === '__metadata__' || seen.has(t.name)) throw new TypeError(`tensor name ${t.name} is reserved or repeated`);
    seen.add(t.name);
    const len = tensorBytes(t).byteLength;
    header[t.name] = { dtype: t.dtype, shape: [...t.shape], data_offsets: [offset, offset + len] };
    offset += len;
  }
  let json = JSON.stringify(header);
  const enc = new TextEncoder();
  const raw = enc.encode(json);
  const padded = Math.ceil(raw.byteLength / 8) * 8;
  json += ' '.repeat(padded - raw.byteLength);
  const out = new Uint8Array(8 + padded + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(padded), true);
  out.set(enc.encode(json), 8);
  let pos = 8 + padded;
  for (const t of tensors) {
    const b = tensorBytes(t);
    out.set(b, pos);
    pos += b.byteLength;
  }
  return out;
}

export interface SafetensorsLayout {
  readonly entries: { name: string; dtype: NamedTensor['dtype']; shape: number[]; begin: number; end: number }[];
  readonly metadata: Record<string, string>;
  /** File offset of the data section (8 + header length). */
  readonly dataStart: number;
  readonly size: number;
}

/** Reads only the header of a safetensors file (bounded), checked against the file size: no tensor data is read. */
export async function readSafetensorsLayout(path: string): Promise<SafetensorsLayout> {
  const { fh, size } = await openRegularFile(path);
  try {
    const prefix = new Uint8Array(Math.min(8, size));
    await fh.read(prefix, 0, prefix.byteLength, 0);
    const n = readHeaderLength(prefix, size);
    const header = new Uint8Array(n);
    const { bytesRead } = await fh.read(header, 0, n, 8);
    if (bytesRead !== n) fail('FORMAT_TRUNCATED', `header of ${n} bytes is cut short`);
    const { entries, metadata } = parseHeader(header, size - 8 - n);
    return { entries, metadata, dataStart: 8 + n, size };
  } finally {
    await fh.close();
  }
}

/** Reads a safetensors file: the header is bounded and checked against the file size before the data is read. */
export async function readSafetensorsFile(path: string): Promise<Safetensors> {
  const { fh, size } = await openRegularFile(path);
  try {
    const prefix = new Uint8Array(Math.min(8, size));
    await fh.read(prefix, 0, prefix.byteLength, 0);
    readHeaderLength(prefix, size); // bound the header before reading the file
  } finally {
    await fh.close();
  }
  return parseSafetensors(await readWholeFile(path));
}

export async function writeSafetensorsFile(path: string, tensors: readonly NamedTensor[], metadata?: Record<string, string>): Promise<void> {
  await writeFile(path, encodeSafetensors(tensors, metadata));
}
