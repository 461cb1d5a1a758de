import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { FormatError } from '../../src/formats/errors.js';
import { decodeOnnxModel, readOnnxTensors, scanOnnx, writeOnnxTensors } from '../../src/formats/onnx.js';
import { onnx } from '../../src/formats/onnx-tensor.js';
import { concatBytes, encodeLengthDelimited } from '../../src/formats/protobuf-wire.js';
import { tensorFromFloat32, tensorToFloat32, tensorBytes } from '../../src/formats/tensor.js';
import { B0, gemmRelu, gemmReluModel, matmulAddReshapeModel, W0 } from './onnx-fixtures.js';

const X = [1, 2, 3, 4, -1, 0.5, -2, 1];

async function runModel(model: Uint8Array | string, input = 'X', output = 'Y'): Promise<number[]> {
  const s = await ort.InferenceSession.create(model as never);
  const out = await s.run({ [input]: new ort.Tensor('float32', Float32Array.from(X), [2, 4]) });
  const y = Array.from(out[output]!.data as Float32Array);
  await s.release();
  return y;
}

const tmp = () => mkdtempSync(join(tmpdir(), 'onnx-'));
const close = (a: number[], b: number[]) => a.forEach((v, i) => expect(v).toBeCloseTo(b[i]!, 5));

describe('onnx: read', () => {
  it('the test model is valid: onnxruntime computes relu(XW+B) as the naive reference does', async () => {
    close(await runModel(gemmReluModel()), gemmRelu(X, W0, B0));
  });

  it('reads raw_data, float_data and int64_data initializers', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'a.onnx'), gemmReluModel());
    const ts = await readOnnxTensors(join(dir, 'a.onnx'));
    expect(ts.map((t) => [t.name, t.dtype, t.shape])).toEqual([['W', 'F32', [4, 3]], ['B', 'F32', [3]]]);
    close(Array.from(tensorToFloat32(ts[0]!)), W0);
    close(Array.from(tensorToFloat32(ts[1]!)), B0);
    writeFileSync(join(dir, 'b.onnx'), matmulAddReshapeModel());
    const s = (await readOnnxTensors(join(dir, 'b.onnx'))).find((t) => t.name === 'S')!;
    expect(s.dtype).toBe('I64');
    expect(Array.from(new BigInt64Array(tensorBytes(s).slice().buffer))).toEqual([3n, 2n]);
    expect(await runModel(join(dir, 'b.onnx'), 'X', 'Z')).toHaveLength(6);
  });

  it('reads external data relative to the model folder, as onnxruntime does', async () => {
    const dir = tmp();
    mkdirSync(join(dir, 'weights'));
    writeFileSync(join(dir, 'weights', 'w.bin'), Buffer.concat([Buffer.alloc(16, 7), Buffer.from(Float32Array.from(W0).buffer)]));
    writeFileSync(join(dir, 'm.onnx'), gemmReluModel({ w: 'external', location: 'weights/w.bin', offset: 16 }));
    close(await runModel(join(dir, 'm.onnx')), gemmRelu(X, W0, B0));
    const w = (await readOnnxTensors(join(dir, 'm.onnx')))[0]!;
    close(Array.from(tensorToFloat32(w)), W0);
  });

  it('refuses external locations that leave the model folder', async () => {
    const outside = tmp();
    writeFileSync(join(outside, 'secret.bin'), Buffer.alloc(48));
    for (const location of ['../secret.bin', `${outside}/secret.bin`, 'a/../../secret.bin', 'C:\\secret.bin', 'link.bin']) {
      const dir = tmp();
      symlinkSync(join(outside, 'secret.bin'), join(dir, 'link.bin'));
      writeFileSync(join(dir, 'm.onnx'), gemmReluModel({ w: 'external', location }));
      await expect(readOnnxTensors(join(dir, 'm.onnx'))).rejects.toMatchObject({ code: 'FORMAT_UNSAFE_PATH' });
    }
  });
});

describe('onnx: write back changed initializers', () => {
  const W1 = W0.map((v, i) => v * -1.5 + i / 10);
  const B1 = [1, 2, -3];

  it('outputs change as the new weights say; every other field stays equal', async () => {
    const dir = tmp();
    const src = join(dir, 'a.onnx');
    const orig = gemmReluModel();
    writeFileSync(src, orig);
    await writeOnnxTensors(src, join(dir, 'b.onnx'), [
      tensorFromFloat32('W', 'F32', [4, 3], Float32Array.from(W1)),
      tensorFromFloat32('B', 'F32', [3], Float32Array.from(B1)),
    ]);
    const out = readFileSync(join(dir, 'b.onnx'));
    close(await runModel(new Uint8Array(out)), gemmRelu(X, W1, B1));
    const back = await readOnnxTensors(join(dir, 'b.onnx'));
    close(Array.from(tensorToFloat32(back[0]!)), W1);
    close(Array.from(tensorToFloat32(back[1]!)), B1);
    // B was float_data and stays float_data.
    expect(scanOnnx(new Uint8Array(out)).initializers.map((i) => i.storage)).toEqual(['raw', 'typed']);

    const a = onnx.ModelProto.toObject(decodeOnnxModel(orig), { longs: String, bytes: Array }) as Record<string, any>;
    const b = onnx.ModelProto.toObject(decodeOnnxModel(new Uint8Array(out)), { longs: String, bytes: Array }) as Record<string, any>;
    expect(b.graph.initializer).not.toEqual(a.graph.initializer);
    const strip = (m: Record<string, any>) => ({ ...m, graph: { ...m.graph, initializer: m.graph.initializer.map((t: any) => ({ name: t.name, dims: t.dims, dataType: t.dataType })) } });
    expect(strip(b)).toEqual(strip(a));
  });

  it('keeps unknown fields and untouched initializers byte for byte', async () => {
    const dir = tmp();
    // A field number our schema does not know (as a newer ONNX would write) at model and graph level.
    const extra = concatBytes(encodeLengthDelimited(99, new TextEncoder().encode('from the future')));
    const orig = concatBytes([gemmReluModel(), extra]);
    writeFileSync(join(dir, 'a.onnx'), orig);
    await writeOnnxTensors(join(dir, 'a.onnx'), join(dir, 'b.onnx'), [tensorFromFloat32('B', 'F32', [3], Float32Array.from(B1))]);
    const out = new Uint8Array(readFileSync(join(dir, 'b.onnx')));
    const s0 = scanOnnx(orig);
    const s1 = scanOnnx(out);
    const w0 = s0.initializers[0]!.field;
    const w1 = s1.initializers[0]!.field;
    expect(Buffer.from(out.subarray(w1.start, w1.end)).equals(Buffer.from(orig.subarray(w0.start, w0.end)))).toBe(true);
    // Everything before the graph and after it (the unknown field included) is identical.
    const g0 = s0.graphs[0]!.field;
    const g1 = s1.graphs[0]!.field;
    expect(Buffer.from(out.subarray(0, g1.start)).equals(Buffer.from(orig.subarray(0, g0.start)))).toBe(true);
    expect(Buffer.from(out.subarray(g1.end)).equals(Buffer.from(orig.subarray(g0.end)))).toBe(true);
    expect(Buffer.from(out.subarray(g1.end)).toString()).toContain('from the future');
    close(await runModel(out), gemmRelu(X, W0, B1));
  });

  it('external initializers are written to <out>.data next to the output, which onnxruntime loads', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'w.bin'), Buffer.from(Float32Array.from(W0).buffer));
    writeFileSync(join(dir, 'm.onnx'), gemmReluModel({ w: 'external', location: 'w.bin' }));
    const outDir = tmp();
    await writeOnnxTensors(join(dir, 'm.onnx'), join(outDir, 'n.onnx'), [tensorFromFloat32('W', 'F32', [4, 3], Float32Array.from(W1))]);
    expect(readFileSync(join(dir, 'w.bin')).equals(Buffer.from(Float32Array.from(W0).buffer))).toBe(true); // source untouched
    close(await runModel(join(outDir, 'n.onnx')), gemmRelu(X, W1, B0));
    // Unchanged external data is carried over too.
    await writeOnnxTensors(join(dir, 'm.onnx'), join(outDir, 'same.onnx'), []);
    close(await runModel(join(outDir, 'same.onnx')), gemmRelu(X, W0, B0));
  });

  it('refuses replacements of the wrong shape or name', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'a.onnx'), gemmReluModel());
    await expect(writeOnnxTensors(join(dir, 'a.onnx'), join(dir, 'b.onnx'), [tensorFromFloat32('W', 'F32', [3, 4], new Float32Array(12))])).rejects.toMatchObject({ code: 'FORMAT_SHAPE_MISMATCH' });
    await expect(writeOnnxTensors(join(dir, 'a.onnx'), join(dir, 'b.onnx'), [tensorFromFloat32('Q', 'F32', [1], new Float32Array(1))])).rejects.toMatchObject({ code: 'FORMAT_NOT_FOUND' });
  });
});

describe('onnx: bad input gives FormatError', () => {
  const model = gemmReluModel();
  const cases: [string, Uint8Array, string][] = [
    ['JSON in place of protobuf', new TextEncoder().encode('{"graph": {"initializer": []}}'), 'FORMAT_CORRUPT'],
    ['empty file', new Uint8Array(0), 'FORMAT_CORRUPT'],
    ['truncated', model.subarray(0, model.length - 7), 'FORMAT_TRUNCATED'],
    // graph field (7, wire 2) declaring 2^40 bytes
    ['a terabyte length', Uint8Array.from([0x3a, 0x80, 0x80, 0x80, 0x80, 0x80, 0x20, 1, 2, 3]), 'FORMAT_TOO_LARGE'],
    ['a varint that never ends', Uint8Array.from([0x08, ...new Array(12).fill(0xff)]), 'FORMAT_CORRUPT'],
  ];
  it.each(cases)('%s', (_n, bytes, code) => {
    let err: unknown;
    try {
      scanOnnx(bytes);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(FormatError);
    expect((err as FormatError).code).toBe(code);
  });

  it('a tensor whose dims claim terabytes is refused before anything is allocated', () => {
    const m = onnx.ModelProto.create({ irVersion: 8, graph: { initializer: [{ name: 'T', dims: [1 << 20, 1 << 20, 1 << 20], dataType: 1, rawData: new Uint8Array(4) }] } });
    const bytes = onnx.ModelProto.encode(m).finish();
    expect(() => scanOnnx(bytes)).toThrow(FormatError);
    const m2 = onnx.ModelProto.create({ irVersion: 8, graph: { initializer: [{ name: 'T', dims: [5], dataType: 1, rawData: new Uint8Array(4) }] } });
    return expect(readFromBytes(onnx.ModelProto.encode(m2).finish())).rejects.toMatchObject({ code: 'FORMAT_SHAPE_MISMATCH' });
  });
});

async function readFromBytes(b: Uint8Array) {
  const dir = tmp();
  writeFileSync(join(dir, 'x.onnx'), b);
  return readOnnxTensors(join(dir, 'x.onnx'));
}
