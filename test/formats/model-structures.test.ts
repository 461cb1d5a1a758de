// Weights wherever real exporters keep them: Constant nodes in nested If branches, QDQ int8 weights,
// TF.js Graph models, quantized and array manifests, sharded safetensors. Checked against
// onnxruntime-node and TF.js (which we did not write), real files from npm, and naive references.
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { embedWeightMarkTrainingFree, generateProjection, meanOverOutputChannels, type KernelLayout } from '../../src/core/index.js';
import {
  detectModelFormat, loadLayersModel, readModelTensors, readTfjsArtifacts, scanOnnx, tensorFromFloat32, tensorToFloat32, writeModelTensors, type NamedTensor,
} from '../../src/formats/index.js';
import { verifyWeightMark } from '../../src/verify/white-box.js';
import { NESTED, nestedIfModel, QDQ, qdqModel, seededValues, shardedSafetensors } from '../../fixtures/make-structures.js';
import { castWeightsToF16, constantsToInitializers, convertStorage, initializersToConstants } from './launder.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'structures-'));
const REAL = join(import.meta.dirname, '../../fixtures/real');

async function run(model: string | Uint8Array, feeds: Record<string, ort.Tensor>, out = 'Y'): Promise<Float32Array> {
  const s = await ort.InferenceSession.create(model as never);
  try {
    return (await s.run(feeds))[out]!.data as Float32Array;
  } finally {
    await s.release();
  }
}
const xIn = (n: number, k: number) => new ort.Tensor('float32', Float32Array.from(seededValues(99, n * k)), [n, k]);
const flag = (b: boolean) => new ort.Tensor('bool', [b], []);
const byName = (ts: NamedTensor[], n: string) => ts.find((t) => t.name === n)!;

function matmul(a: Float32Array, b: Float32Array, n: number, k: number, m: number): Float64Array {
  const out = new Float64Array(n * m);
  for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) {
    let s = 0;
    for (let x = 0; x < k; x++) s += a[i * k + x]! * b[x * m + j]!;
    out[i * m + j] = s;
  }
  return out;
}

describe('ONNX: Constant nodes in nested If subgraphs', () => {
  it('reads every Constant (raw, float_data, value_floats) in every branch; the values compute what onnxruntime computes', async () => {
    const dir = tmp();
    const p = join(dir, 'm.onnx');
    writeFileSync(p, nestedIfModel());
    const ts = (await readModelTensors(p)).tensors;
    expect(ts.map((t) => `${t.name}:${t.dtype}[${t.shape}]`).sort()).toEqual(['B1:F32[64]', 'V1:F32[16,64]', 'V2:F32[64,10]', 'W1:F32[16,64]', 'W2:F32[64,10]', 'W2b:F32[64,10]']);
    // Naive reference for the then/then path: relu(X W1 + B1) W2.
    const x = xIn(3, NESTED.in);
    const h = matmul(x.data as Float32Array, tensorToFloat32(byName(ts, 'W1')), 3, NESTED.in, NESTED.hidden);
    const b1 = tensorToFloat32(byName(ts, 'B1'));
    const hr = Float32Array.from(h, (v, i) => Math.max(0, v + b1[i % NESTED.hidden]!));
    const want = matmul(hr, tensorToFloat32(byName(ts, 'W2')), 3, NESTED.hidden, NESTED.out);
    const got = await run(p, { X: x, c1: flag(true), c2: flag(true) });
    got.forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 4));
  });

  it('writes a deep Constant in place: only that tensor changes, onnxruntime sees the new weight, a no-op write is byte-identical', async () => {
    const dir = tmp();
    const src = join(dir, 'm.onnx');
    const orig = nestedIfModel();
    writeFileSync(src, orig);
    await writeModelTensors(src, join(dir, 'same.onnx'), []);
    expect(Buffer.compare(readFileSync(join(dir, 'same.onnx')), Buffer.from(orig))).toBe(0);
    const ts = (await readModelTensors(src)).tensors;
    for (const name of ['W2', 'B1']) {
      const t = byName(ts, name);
      const v = tensorToFloat32(t).map((a) => a * 2);
      await writeModelTensors(src, join(dir, `${name}.onnx`), [tensorFromFloat32(name, 'F32', t.shape, v)]);
      const after = (await readModelTensors(join(dir, `${name}.onnx`))).tensors;
      for (const u of ts) {
        const same = Buffer.compare(Buffer.from(tensorToFloat32(byName(after, u.name)).buffer), Buffer.from(tensorToFloat32(u).buffer)) === 0;
        expect(same, u.name).toBe(u.name !== name);
      }
      // Outside the changed Constant, the bytes are the same (the enclosing length prefixes aside).
      const a = scanOnnx(orig).tensors.find((l) => l.name === 'V1')!;
      const b = scanOnnx(new Uint8Array(readFileSync(join(dir, `${name}.onnx`)))).tensors.find((l) => l.name === 'V1')!;
      expect(Buffer.compare(Buffer.from(orig.subarray(a.field.start, a.field.end)), readFileSync(join(dir, `${name}.onnx`)).subarray(b.field.start, b.field.end))).toBe(0);
    }
    const x = xIn(2, NESTED.in);
    const y0 = await run(src, { X: x, c1: flag(true), c2: flag(true) });
    const y1 = await run(join(dir, 'W2.onnx'), { X: x, c1: flag(true), c2: flag(true) });
    y1.forEach((v, i) => expect(v).toBeCloseTo(2 * y0[i]!, 4));
  });

  it('the real silero_vad_v5.onnx (weights only as Constants in If branches): all weights read, a no-op write is byte-identical', async () => {
    const p = join(REAL, 'silero-vad-v5/silero_vad_v5.onnx');
    const ts = (await readModelTensors(p)).tensors;
    expect(scanOnnx(new Uint8Array(readFileSync(p))).initializers).toHaveLength(0);
    const big = ts.filter((t) => t.dtype === 'F32' && t.shape.length >= 2);
    expect(big.map((t) => t.name)).toContain('If_0_else_branch__Inline_0__decoder.rnn.weight_ih');
    expect(big.length).toBeGreaterThanOrEqual(16);
    const out = join(tmp(), 's.onnx');
    await writeModelTensors(p, out, []);
    expect(Buffer.compare(readFileSync(out), readFileSync(p))).toBe(0);
  });
});

describe('ONNX: weights behind DequantizeLinear', () => {
  it('reads (q - zero point) * scale per axis, and writes back int8 that onnxruntime dequantizes to the new values', async () => {
    const dir = tmp();
    const src = join(dir, 'q.onnx');
    writeFileSync(src, qdqModel());
    const ts = (await readModelTensors(src)).tensors;
    const q = byName(ts, 'Wq');
    const s = tensorToFloat32(byName(ts, 'Ws'));
    const z = new Int8Array(new Uint8Array(byName(ts, 'Wz').data as Uint8Array).buffer);
    const w = byName(ts, 'W');
    expect([w.dtype, w.shape]).toEqual(['F32', [QDQ.in, QDQ.hidden]]);
    const qv = new Int8Array(new Uint8Array(q.data as Uint8Array).slice().buffer);
    const wv = tensorToFloat32(w);
    for (let i = 0; i < wv.length; i++) expect(wv[i]).toBeCloseTo((qv[i]! - z[i % QDQ.hidden]!) * s[i % QDQ.hidden]!, 6);
    // Add 3 quantization steps to column 0: the int8 file holds exactly that.
    const nv = Float32Array.from(wv, (v, i) => (i % QDQ.hidden === 0 ? v + 3 * s[0]! : v));
    await writeModelTensors(src, join(dir, 'q2.onnx'), [tensorFromFloat32('W', 'F32', w.shape, nv)]);
    const back = (await readModelTensors(join(dir, 'q2.onnx'))).tensors;
    expect(byName(back, 'Wq').dtype).toBe('I8');
    const w2 = tensorToFloat32(byName(back, 'W'));
    for (let i = 0; i < wv.length; i++) expect(w2[i]).toBeCloseTo(Math.min(127 - z[i % QDQ.hidden]!, qv[i]! - z[i % QDQ.hidden]! + (i % QDQ.hidden === 0 ? 3 : 0)) * s[i % QDQ.hidden]!, 5);
    const x = xIn(2, QDQ.in);
    expect(Array.from(await run(join(dir, 'q2.onnx'), { X: x }))).not.toEqual(Array.from(await run(src, { X: x })));
  });
});

/** Marks one tensor with core's training-free mark, writes it, and returns the verification key. */
async function markTensor(src: string, dest: string, name: string, layout: KernelLayout, bits = 64) {
  const t = byName((await readModelTensors(src)).tensors, name);
  const features = layout === 'IO' ? t.shape[0]! : layout === 'OI' ? t.shape[1]! : 0;
  const seed = new Uint8Array(32).fill(7);
  const projection = generateProjection(seed, bits, features);
  const b = Uint8Array.from({ length: bits }, (_, i) => (i * 7 + 3) % 5 > 1 ? 1 : 0);
  const kernel = tensorToFloat32(t);
  const rms = Math.sqrt(kernel.reduce((a, v) => a + v * v, 0) / kernel.length);
  const r = embedWeightMarkTrainingFree({ kernel, shape: t.shape, layout, projection, bits: b, margin: 0.05 * rms * Math.sqrt(features) });
  await writeModelTensors(src, dest, [tensorFromFloat32(name, 'F32', t.shape, r.kernel)]);
  expect(meanOverOutputChannels(r.kernel, t.shape, layout).length).toBe(features);
  return { bits: b, projectionSeed: seed, features };
}

describe('laundering rewrites keep the mark readable', () => {
  const rewrites: [string, (b: Uint8Array) => Uint8Array][] = [
    ['Constant -> initializer', constantsToInitializers],
    ['initializer -> Constant -> initializer', (b) => constantsToInitializers(initializersToConstants(b))],
    ['raw -> typed', (b) => convertStorage(b, 'typed')],
    ['Constant -> initializer, typed -> raw', (b) => convertStorage(constantsToInitializers(convertStorage(b, 'typed')), 'raw')],
    ['cast to F16 (+ Cast nodes)', castWeightsToF16],
  ];
  it.each(rewrites)('nested-If fixture: %s (outputs unchanged, mark found at p < 1e-6)', async (_, f) => {
    const dir = tmp();
    writeFileSync(join(dir, 'm.onnx'), nestedIfModel());
    const key = await markTensor(join(dir, 'm.onnx'), join(dir, 'marked.onnx'), 'W2', 'IO', 32);
    const marked = new Uint8Array(readFileSync(join(dir, 'marked.onnx')));
    writeFileSync(join(dir, 'l.onnx'), f(marked));
    const x = xIn(2, NESTED.in);
    const feeds = { X: x, c1: flag(true), c2: flag(true) };
    const [a, b] = [await run(join(dir, 'marked.onnx'), feeds), await run(join(dir, 'l.onnx'), feeds)];
    a.forEach((v, i) => expect(b[i]).toBeCloseTo(v, 2));
    const r = verifyWeightMark((await readModelTensors(join(dir, 'l.onnx'))).tensors, key);
    expect(r.log10CorrectedPValue).toBeLessThan(-6);
    expect(r.best.ber).toBe(0);
  });

  it('a main-graph initializer moved into a Constant node is still found (the one-line laundering attack)', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'q.onnx'), qdqModel());
    const key = await markTensor(join(dir, 'q.onnx'), join(dir, 'marked.onnx'), 'W2', 'OI', 16);
    writeFileSync(join(dir, 'l.onnx'), initializersToConstants(new Uint8Array(readFileSync(join(dir, 'marked.onnx')))));
    expect(scanOnnx(new Uint8Array(readFileSync(join(dir, 'l.onnx')))).initializers).toHaveLength(0);
    const r = verifyWeightMark((await readModelTensors(join(dir, 'l.onnx'))).tensors, key);
    expect(r.best.ber).toBe(0);
    expect(r.log10CorrectedPValue).toBeLessThan(-3);
  });

  it('the real silero model: a mark in a Constant deep in an If branch survives Constant -> initializer and F16', async () => {
    const dir = tmp();
    const src = join(REAL, 'silero-vad-v5/silero_vad_v5.onnx');
    const key = await markTensor(src, join(dir, 'marked.onnx'), 'If_0_else_branch__Inline_0__decoder.rnn.weight_ih', 'OI');
    for (const f of [constantsToInitializers, castWeightsToF16]) {
      writeFileSync(join(dir, 'l.onnx'), f(new Uint8Array(readFileSync(join(dir, 'marked.onnx')))));
      const r = verifyWeightMark((await readModelTensors(join(dir, 'l.onnx'))).tensors, key);
      expect(r.log10CorrectedPValue).toBeLessThan(-6);
    }
  });
});

describe('TF.js Graph models, quantized weights and array manifests (real files)', () => {
  it('human emotion.json is a Graph model; its weights read, a change reaches tf.loadGraphModel', async () => {
    const p = join(REAL, 'human-emotion/emotion.json');
    expect((await detectModelFormat(p)).format).toBe('tfjs-graph');
    const { tensors } = await readModelTensors(p);
    const k = tensors.find((t) => t.shape.length === 4 && t.shape[3]! > 1 && t.shape[2]! > 1)!;
    expect(k.dtype).toBe('F32');
    const dir = tmp();
    await writeModelTensors(p, dir, [tensorFromFloat32(k.name, 'F32', k.shape, tensorToFloat32(k).map((v) => -v))]);
    const json = readdirSync(dir).find((f) => f.endsWith('.json'))!;
    expect(readFileSync(join(dir, json))).toEqual(readFileSync(p));
    const x = tf.randomUniform([1, 64, 64, 1], 0, 1, 'float32', 3);
    const before = await tf.loadGraphModel(tf.io.fromMemory(await readTfjsArtifacts(p)));
    const after = await tf.loadGraphModel(tf.io.fromMemory(await readTfjsArtifacts(join(dir, json))));
    const [a, b] = [(before.predict(x) as tf.Tensor).dataSync(), (after.predict(x) as tf.Tensor).dataSync()];
    expect(a.length).toBe(7);
    expect(Array.from(a)).not.toEqual(Array.from(b));
  });

  it('human antispoof.json (float16-quantized) reads as F16 and runs after a write', async () => {
    const p = join(REAL, 'human-antispoof/antispoof.json');
    const { format, tensors } = await readModelTensors(p);
    expect(format).toBe('tfjs-graph');
    expect(tensors.filter((t) => t.dtype === 'F16').length).toBe(10);
    const dir = tmp();
    await writeModelTensors(p, dir, []);
    expect(readFileSync(join(dir, 'model.json'))).toEqual(readFileSync(p));
    expect(readFileSync(join(dir, 'antispoof.bin'))).toEqual(readFileSync(join(REAL, 'human-antispoof/antispoof.bin')));
    const m = await tf.loadGraphModel(tf.io.fromMemory(await readTfjsArtifacts(dir)));
    expect((m.predict(tf.zeros([1, 128, 128, 3])) as tf.Tensor).shape).toEqual([1, 1]);
  });

  it('face-api weights manifest (a JSON array, uint8-quantized): dequantized on read, written back as uint8', async () => {
    const p = join(REAL, 'faceapi-expression/face_expression_model-weights_manifest.json');
    expect((await detectModelFormat(p)).format).toBe('tfjs-weights');
    const manifest = JSON.parse(readFileSync(p, 'utf8')) as { weights: { name: string; shape: number[]; quantization?: { scale: number; min: number } }[] }[];
    const w0 = manifest[0]!.weights[0]!;
    const bin = readFileSync(join(REAL, 'faceapi-expression/face_expression_model.bin'));
    const { tensors } = await readModelTensors(p);
    const t0 = tensorToFloat32(tensors[0]!);
    for (let i = 0; i < 20; i++) expect(t0[i]).toBeCloseTo(bin[i]! * w0.quantization!.scale + w0.quantization!.min, 6);
    const dir = tmp();
    await writeModelTensors(p, dir, []);
    expect(readFileSync(join(dir, 'face_expression_model.bin'))).toEqual(bin);
    // One quantization step up on the first weight: exactly one byte changes, by one.
    const v = Float32Array.from(t0);
    v[0] = v[0]! + w0.quantization!.scale;
    await writeModelTensors(p, join(dir, 'b'), [tensorFromFloat32(tensors[0]!.name, 'F32', tensors[0]!.shape, v)]);
    const nb = readFileSync(join(dir, 'b', 'face_expression_model.bin'));
    expect(nb[0]).toBe(bin[0]! + 1);
    expect(nb.subarray(1)).toEqual(bin.subarray(1));
  });
});

describe('a real MobileNetV2 in TF.js Layers format with uint8 weights (nsfwjs)', () => {
  const p = join(REAL, 'nsfwjs-mobilenet-v2/model.json');
  const shard = () => readFileSync(join(REAL, 'nsfwjs-mobilenet-v2/group1-shard1of1'));

  it('is read as Layers, every weight dequantized; a no-op write is byte-identical', async () => {
    const { format, tensors } = await readModelTensors(p);
    expect(format).toBe('tfjs-layers');
    expect(tensors).toHaveLength(266);
    const manifest = (JSON.parse(readFileSync(p, 'utf8')) as { weightsManifest: { weights: { name: string; shape: number[]; quantization: { scale: number; min: number; dtype: string } }[] }[] }).weightsManifest[0]!.weights;
    expect(new Set(manifest.map((w) => w.quantization.dtype))).toEqual(new Set(['uint8']));
    const first = tensorToFloat32(tensors.find((t) => t.name === manifest[0]!.name)!);
    const q = manifest[0]!.quantization;
    for (let i = 0; i < 20; i++) expect(first[i]).toBeCloseTo(shard()[i]! * q.scale + q.min, 6);
    const dir = tmp();
    await writeModelTensors(p, dir, []);
    expect(readFileSync(join(dir, 'model.json'))).toEqual(readFileSync(p));
    expect(readFileSync(join(dir, 'group1-shard1of1'))).toEqual(shard());
  });

  it('runs in TF.js as MobileNetV2 (depthwise convs, ReLU6, residual adds); a changed dense kernel changes its answers', async () => {
    const m = await loadLayersModel(p);
    const classes = new Set(m.layers.map((l) => l.getClassName()));
    for (const c of ['DepthwiseConv2D', 'ZeroPadding2D', 'Add', 'BatchNormalization', 'ReLU', 'Dense']) expect(classes.has(c), c).toBe(true);
    const x = tf.randomUniform([2, 224, 224, 3], 0, 1, 'float32', 11);
    const a = (m.predict(x) as tf.Tensor).arraySync() as number[][];
    m.dispose();
    for (const row of a) expect(row.reduce((s, v) => s + v, 0)).toBeCloseTo(1, 4);
    const { tensors } = await readModelTensors(p);
    const k = tensors.find((t) => t.name === 'dense_3/kernel')!;
    const dir = tmp();
    await writeModelTensors(p, dir, [tensorFromFloat32(k.name, 'F32', k.shape, tensorToFloat32(k).map((v) => -v))]);
    const m2 = await loadLayersModel(join(dir, 'model.json'));
    const b = (m2.predict(x) as tf.Tensor).arraySync() as number[][];
    m2.dispose();
    expect(b[0]).not.toEqual(a[0]);
  });
});

describe('sharded safetensors', () => {
  it('reads the index and shards lazily; a write rewrites only the replaced tensor range', async () => {
    const dir = tmp();
    const index = shardedSafetensors(join(dir, 'ckpt'));
    expect((await detectModelFormat(join(dir, 'ckpt'))).path).toBe(index);
    const { tensors } = await readModelTensors(index);
    expect(tensors.map((t) => t.name)).toEqual(['embed.weight', 'layer.0.weight', 'layer.1.weight', 'head.weight', 'head.bias']);
    const h = byName(tensors, 'head.weight');
    expect(Array.from(tensorToFloat32(h).slice(0, 3))).toEqual(seededValues(14, 3, 0.1));
    await writeModelTensors(index, join(dir, 'out'), [tensorFromFloat32('head.weight', 'F32', h.shape, new Float32Array(640).fill(1))]);
    const s1 = 'model-00001-of-00002.safetensors';
    const s2 = 'model-00002-of-00002.safetensors';
    expect(readFileSync(join(dir, 'out', s1))).toEqual(readFileSync(join(dir, 'ckpt', s1)));
    expect(readFileSync(join(dir, 'out', 'model.safetensors.index.json'))).toEqual(readFileSync(index));
    const [a, b] = [readFileSync(join(dir, 'ckpt', s2)), readFileSync(join(dir, 'out', s2))];
    expect(a.length).toBe(b.length);
    let diff = 0;
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) diff++;
    expect(diff).toBeGreaterThan(0);
    expect(diff).toBeLessThanOrEqual(640 * 4);
    const back = byName((await readModelTensors(join(dir, 'out'))).tensors, 'head.weight');
    expect(tensorToFloat32(back).every((v) => v === 1)).toBe(true);
  });

  it('refuses a weight_map that names a tensor its shard lacks, or a shard outside the folder', async () => {
    const dir = tmp();
    const index = shardedSafetensors(dir);
    const j = JSON.parse(readFileSync(index, 'utf8'));
    j.weight_map['ghost'] = 'model-00001-of-00002.safetensors';
    writeFileSync(index, JSON.stringify(j));
    await expect(readModelTensors(index)).rejects.toMatchObject({ code: 'FORMAT_NOT_FOUND' });
    delete j.weight_map.ghost;
    j.weight_map['head.bias'] = '../../etc/passwd';
    writeFileSync(index, JSON.stringify(j));
    await expect(readModelTensors(index)).rejects.toMatchObject({ code: 'FORMAT_UNSAFE_PATH' });
  });
});
