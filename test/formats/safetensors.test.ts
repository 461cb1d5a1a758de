import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FormatError } from '../../src/formats/errors.js';
import { encodeSafetensors, parseSafetensors, readSafetensorsFile } from '../../src/formats/safetensors.js';
import { DTYPES, dtypeSize, tensorBytes, type DType, type NamedTensor } from '../../src/formats/tensor.js';

const latin1 = (s: string) => new Uint8Array(Buffer.from(s, 'latin1'));

/** A naive reference writer straight from the format description: u64 LE length, JSON, data. */
function naiveEncode(entries: { name: string; dtype: string; shape: number[]; bytes: Uint8Array }[], pad = 0): Uint8Array {
  let off = 0;
  const header: Record<string, unknown> = Object.create(null);
  for (const e of entries) {
    header[e.name] = { dtype: e.dtype, shape: e.shape, data_offsets: [off, off + e.bytes.length] };
    off += e.bytes.length;
  }
  const json = Buffer.from(JSON.stringify(header) + ' '.repeat(pad));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  return new Uint8Array(Buffer.concat([len, json, ...entries.map((e) => Buffer.from(e.bytes))]));
}

function headerFile(header: unknown, dataLen: number, declaredLen?: bigint): Uint8Array {
  const json = Buffer.from(typeof header === 'string' ? header : JSON.stringify(header));
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(declaredLen ?? BigInt(json.length));
  return new Uint8Array(Buffer.concat([len, json, Buffer.alloc(dataLen)]));
}

function codeOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(FormatError);
    return (e as FormatError).code;
  }
  return 'OK';
}

describe('safetensors: published vectors (huggingface/safetensors bindings/python/tests/test_simple.py)', () => {
  // save({"test": np.zeros((2, 2), dtype=np.int32)}) in the reference implementation.
  const serialized = latin1('@\x00\x00\x00\x00\x00\x00\x00{"test":{"dtype":"I32","shape":[2,2],"data_offsets":[0,16]}}    ' + '\x00'.repeat(16));
  it('writes byte-for-byte what the reference writes', () => {
    const out = encodeSafetensors([{ name: 'test', dtype: 'I32', shape: [2, 2], data: new Int32Array(4) }]);
    expect(Buffer.from(out).equals(Buffer.from(serialized))).toBe(true);
  });
  it('reads the reference serialisation and the metadata example', () => {
    const a = parseSafetensors(serialized);
    expect(a.tensors.map((t) => [t.name, t.dtype, t.shape])).toEqual([['test', 'I32', [2, 2]]]);
    expect(Array.from(new Int32Array(tensorBytes(a.tensors[0]!).slice().buffer))).toEqual([0, 0, 0, 0]);
    const withMeta = latin1('f\x00\x00\x00\x00\x00\x00\x00{"__metadata__":{"framework":"pt"},"test1":{"dtype":"I32","shape":[2,2],"data_offsets":[0,16]}}       ' + '\x00'.repeat(16));
    const b = parseSafetensors(withMeta);
    expect(b.metadata).toEqual({ framework: 'pt' });
    expect(b.tensors[0]!.name).toBe('test1');
  });
});

describe('safetensors: hand-built file from the spec description', () => {
  it('reads F16, BF16, I8, BOOL, U64 and a scalar with the values the bytes encode', () => {
    // f16 1.0 = 0x3c00, -2.0 = 0xc000; bf16 1.0 = 0x3f80, 0.5 = 0x3f00.
    const file = naiveEncode([
      { name: 'h', dtype: 'F16', shape: [2], bytes: new Uint8Array([0x00, 0x3c, 0x00, 0xc0]) },
      { name: 'b', dtype: 'BF16', shape: [2], bytes: new Uint8Array([0x80, 0x3f, 0x00, 0x3f]) },
      { name: 'i', dtype: 'I8', shape: [1, 3], bytes: new Uint8Array([0xff, 0x01, 0x80]) },
      { name: 'flag', dtype: 'BOOL', shape: [1], bytes: new Uint8Array([1]) },
      { name: 'big', dtype: 'U64', shape: [], bytes: new Uint8Array([1, 0, 0, 0, 0, 0, 0, 0x80]) },
      { name: 'empty', dtype: 'F32', shape: [0, 7], bytes: new Uint8Array(0) },
    ], 3);
    const { tensors } = parseSafetensors(file);
    const by = new Map(tensors.map((t) => [t.name, t]));
    expect(Array.from(tensorBytes(by.get('h')!))).toEqual([0x00, 0x3c, 0x00, 0xc0]);
    expect(Array.from(new Int8Array(tensorBytes(by.get('i')!).slice().buffer))).toEqual([-1, 1, -128]);
    expect(by.get('big')!.shape).toEqual([]);
    expect(new BigUint64Array(tensorBytes(by.get('big')!).slice().buffer)[0]).toBe(0x8000000000000001n);
    expect(by.get('empty')!.shape).toEqual([0, 7]);
    expect(tensors.map((t) => t.name)).toEqual(['h', 'b', 'i', 'flag', 'big', 'empty']);
  });
});

const arbTensor = fc
  .record({
    name: fc.string({ minLength: 1, maxLength: 12 }).filter((s) => s !== '__metadata__'),
    dtype: fc.constantFrom(...DTYPES),
    shape: fc.array(fc.integer({ min: 0, max: 5 }), { maxLength: 3 }),
  })
  .chain((r) => {
    const n = r.shape.reduce((a, b) => a * b, 1) * dtypeSize(r.dtype as DType);
    return fc.uint8Array({ minLength: n, maxLength: n }).map((data) => ({ ...r, data }) as NamedTensor);
  });

describe('safetensors: properties', () => {
  it('our writer and the naive reference writer read back to the same tensors', () => {
    fc.assert(
      fc.property(fc.uniqueArray(arbTensor, { selector: (t) => t.name, maxLength: 6 }), (ts) => {
        const ours = parseSafetensors(encodeSafetensors(ts));
        const ref = parseSafetensors(naiveEncode(ts.map((t) => ({ name: t.name, dtype: t.dtype, shape: [...t.shape], bytes: tensorBytes(t) }))));
        const norm = (x: typeof ours) => x.tensors.map((t) => ({ ...t, data: Array.from(tensorBytes(t)) })).sort((a, b) => (a.name < b.name ? -1 : 1));
        expect(norm(ours)).toEqual(norm(ref));
        expect(norm(ours)).toEqual(norm({ tensors: ts, metadata: {} }));
      }),
      { numRuns: 200 },
    );
  });
});

describe('safetensors: strict validation', () => {
  const ok = { a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } };
  it('accepts the well-formed baseline', () => expect(codeOf(() => parseSafetensors(headerFile(ok, 8)))).toBe('OK'));
  it.each([
    ['shorter than 8 bytes', new Uint8Array(5), 'FORMAT_TRUNCATED'],
    ['header length past the end', headerFile(ok, 8, 1000n), 'FORMAT_TRUNCATED'],
    ['header length of terabytes', headerFile(ok, 8, 2n ** 42n), 'FORMAT_TOO_LARGE'],
    ['header length 2^64-1', headerFile(ok, 8, 2n ** 64n - 1n), 'FORMAT_TOO_LARGE'],
    ['JSON that is not an object', headerFile('[1,2]', 0), 'FORMAT_CORRUPT'],
    ['broken JSON', headerFile('{"a":', 0), 'FORMAT_CORRUPT'],
    ['invalid UTF-8', (() => { const f = headerFile('{"\u00e9":1}', 0); f[10] = 0xff; return f; })(), 'FORMAT_CORRUPT'],
    ['unknown dtype', headerFile({ a: { dtype: 'Q7', shape: [2], data_offsets: [0, 8] } }, 8), 'FORMAT_CORRUPT'],
    ['sub-byte dtype', headerFile({ a: { dtype: 'F4', shape: [2], data_offsets: [0, 1] } }, 1), 'FORMAT_UNSUPPORTED'],
    ['shape does not match the byte length', headerFile({ a: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, 8), 'FORMAT_SHAPE_MISMATCH'],
    ['terabyte shape', headerFile({ a: { dtype: 'F32', shape: [1 << 20, 1 << 20, 1 << 20], data_offsets: [0, 8] } }, 8), 'FORMAT_TOO_LARGE'],
    ['negative dim', headerFile({ a: { dtype: 'F32', shape: [-2], data_offsets: [0, 8] } }, 8), 'FORMAT_CORRUPT'],
    ['offsets past the data', headerFile({ a: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }, 8), 'FORMAT_TRUNCATED'],
    ['a hole', headerFile({ a: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, 8), 'FORMAT_CORRUPT'],
    ['overlap', headerFile({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, 8), 'FORMAT_CORRUPT'],
    ['trailing bytes', headerFile(ok, 12), 'FORMAT_CORRUPT'],
    ['end before begin', headerFile({ a: { dtype: 'F32', shape: [0], data_offsets: [8, 0] } }, 8), 'FORMAT_CORRUPT'],
    ['metadata not strings', headerFile({ __metadata__: { x: 1 } }, 0), 'FORMAT_CORRUPT'],
  ])('%s', (_name, bytes, code) => {
    expect(codeOf(() => parseSafetensors(bytes))).toBe(code);
  });

  it('reads from disk and refuses a missing file with FORMAT_NOT_FOUND', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'st-'));
    writeFileSync(join(dir, 'm.safetensors'), encodeSafetensors([{ name: 'w', dtype: 'F32', shape: [1], data: new Float32Array([3]) }], { k: 'v' }));
    const r = await readSafetensorsFile(join(dir, 'm.safetensors'));
    expect(r.metadata).toEqual({ k: 'v' });
    await expect(readSafetensorsFile(join(dir, 'nope'))).rejects.toMatchObject({ code: 'FORMAT_NOT_FOUND' });
    await expect(readSafetensorsFile(dir)).rejects.toMatchObject({ code: 'FORMAT_NOT_FOUND' }); // a folder, not a file
    writeFileSync(join(dir, 'lie.safetensors'), headerFile(ok, 8, 2n ** 40n));
    await expect(readSafetensorsFile(join(dir, 'lie.safetensors'))).rejects.toMatchObject({ code: 'FORMAT_TOO_LARGE' });
  });
});

describe('safetensors: names that are special in JavaScript', () => {
  // Found by the property test above: a plain {} header turned "__proto__" into a prototype.
  it('writes and reads tensors named __proto__, constructor and toString as ordinary tensors', () => {
    const names = ['__proto__', 'constructor', 'toString'];
    const ts = names.map((name, i) => ({ name, dtype: 'F32' as const, shape: [1], data: new Uint8Array(new Float32Array([i + 0.5]).buffer) }));
    const metadata = JSON.parse('{"__proto__":"meta"}') as Record<string, string>; // an own key, as a file would hold
    const back = parseSafetensors(encodeSafetensors(ts, metadata));
    expect(back.tensors.map((t) => t.name).sort()).toEqual([...names].sort());
    expect(Object.getOwnPropertyDescriptor(back.metadata, '__proto__')?.value).toBe('meta');
  });
});
