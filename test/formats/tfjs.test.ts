import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadLayersModel, saveLayersModel } from '../../src/formats/tfjs-io.js';
import { readTfjsModel, writeTfjsTensors } from '../../src/formats/tfjs-layers.js';
import { tensorFromFloat32, tensorToFloat32 } from '../../src/formats/tensor.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'tfjs-'));

function buildModel(): tf.Sequential {
  const m = tf.sequential();
  m.add(tf.layers.conv2d({ inputShape: [6, 6, 1], filters: 2, kernelSize: 3, activation: 'relu', name: 'conv' }));
  m.add(tf.layers.flatten({ name: 'flat' }));
  m.add(tf.layers.dense({ units: 3, name: 'out', biasInitializer: 'randomNormal' }));
  return m;
}

function predict(model: tf.LayersModel, x: tf.Tensor): number[] {
  return Array.from((model.predict(x) as tf.Tensor).dataSync());
}

describe('tfjs layers: disk round trip through our reader and writer', () => {
  let dir: string;
  let model: tf.Sequential;
  let x: tf.Tensor;
  beforeAll(async () => {
    await tf.setBackend('cpu');
    dir = tmp();
    model = buildModel();
    x = tf.randomUniform([4, 6, 6, 1], -1, 1, 'float32', 7);
    await saveLayersModel(model, dir, 64); // tiny shards: weights straddle shard boundaries
  });

  it('saves model.json + several shards, and reads every weight exactly', async () => {
    expect(readdirSync(dir).filter((f) => f.endsWith('.bin')).length).toBeGreaterThan(2);
    const m = await readTfjsModel(dir);
    expect(m.tensors.map((t) => [t.name, t.dtype, t.shape])).toEqual([
      ['conv/kernel', 'F32', [3, 3, 1, 2]], ['conv/bias', 'F32', [2]], ['out/kernel', 'F32', [32, 3]], ['out/bias', 'F32', [3]],
    ]);
    const want = model.getWeights().map((w) => Array.from(w.dataSync()));
    expect(m.tensors.map((t) => Array.from(tensorToFloat32(t)))).toEqual(want);
  });

  it('loaded back with tf.loadLayersModel, it predicts exactly as the original', async () => {
    const loaded = await loadLayersModel(join(dir, 'model.json'));
    expect(predict(loaded, x)).toEqual(predict(model, x));
  });

  it('a changed weight changes predictions as expected; model.json is untouched', async () => {
    const m = await readTfjsModel(dir);
    const bias = m.tensors.find((t) => t.name === 'out/bias')!;
    const b = tensorToFloat32(bias).map((v, i) => v + [1, -2, 0.5][i]!);
    const out = tmp();
    await writeTfjsTensors(dir, out, [tensorFromFloat32('out/bias', 'F32', [3], b)]);
    expect(readFileSync(join(out, 'model.json')).equals(readFileSync(join(dir, 'model.json')))).toBe(true);
    const before = predict(model, x);
    const after = predict(await loadLayersModel(out), x);
    after.forEach((v, i) => expect(v).toBeCloseTo(before[i]! + [1, -2, 0.5][i % 3]!, 5));
    // Zeroing the conv kernel leaves relu(conv bias) everywhere: every row predicts the same.
    await writeTfjsTensors(dir, out, [tensorFromFloat32('conv/kernel', 'F32', [3, 3, 1, 2], new Float32Array(18))]);
    const flat = predict(await loadLayersModel(out), x);
    expect(flat.slice(0, 3)).toEqual(flat.slice(9, 12));
  });

  it('float16-quantized weights read as F16 and still load in tfjs', async () => {
    const out = tmp();
    const m = await readTfjsModel(dir);
    await writeTfjsTensors(dir, out, []);
    const json = JSON.parse(readFileSync(join(out, 'model.json'), 'utf8'));
    // Re-store out/kernel (in the last bytes before out/bias) as float16.
    const k = m.tensors.find((t) => t.name === 'out/kernel')!;
    const f16 = tensorFromFloat32('out/kernel', 'F16', [32, 3], tensorToFloat32(k));
    const all = Buffer.concat(m.tensors.map((t) => (t.name === 'out/kernel' ? f16.data : t.data) as Uint8Array));
    for (const f of readdirSync(out)) if (f.endsWith('.bin')) rmSync(join(out, f));
    writeFileSync(join(out, 'w.bin'), all);
    json.weightsManifest = [{ paths: ['w.bin'], weights: json.weightsManifest[0].weights.map((w: any) => (w.name === 'out/kernel' ? { ...w, quantization: { dtype: 'float16' } } : w)) }];
    writeFileSync(join(out, 'model.json'), JSON.stringify(json));
    const q = await readTfjsModel(out);
    expect(q.tensors.find((t) => t.name === 'out/kernel')!.dtype).toBe('F16');
    const p = predict(await loadLayersModel(out), x);
    predict(model, x).forEach((v, i) => expect(p[i]!).toBeCloseTo(v, 2));
  });

  it('refuses traversal, missing shards, wrong byte totals and non-models with FormatError', async () => {
    const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
    const variant = async (mutate: (j: any) => void, code: string, extra?: (d: string) => void) => {
      const d = tmp();
      await writeTfjsTensors(dir, d, []);
      const j = structuredClone(json);
      mutate(j);
      writeFileSync(join(d, 'model.json'), JSON.stringify(j));
      extra?.(d);
      await expect(readTfjsModel(d)).rejects.toMatchObject({ name: 'FormatError', code });
    };
    await variant((j) => (j.weightsManifest[0].paths[0] = '../../etc/passwd'), 'FORMAT_UNSAFE_PATH');
    await variant((j) => (j.weightsManifest[0].paths[0] = '/etc/passwd'), 'FORMAT_UNSAFE_PATH');
    await variant((j) => (j.weightsManifest[0].paths[0] = 'missing.bin'), 'FORMAT_NOT_FOUND');
    await variant((j) => j.weightsManifest[0].paths.pop(), 'FORMAT_TRUNCATED');
    await variant((j) => (j.weightsManifest[0].weights[0].shape = [1e6, 1e6, 1e6]), 'FORMAT_TOO_LARGE');
    await variant((j) => (j.weightsManifest[0].weights[0].shape = [1]), 'FORMAT_SHAPE_MISMATCH');
    await variant((j) => (j.weightsManifest[0].weights[0].dtype = 'string'), 'FORMAT_UNSUPPORTED');
    await variant((j) => delete j.weightsManifest, 'FORMAT_CORRUPT');
    await variant(() => undefined, 'FORMAT_CORRUPT', (d) => writeFileSync(join(d, 'model.json'), '\x08\x01garbage'));
    await expect(writeTfjsTensors(dir, tmp(), [tensorFromFloat32('out/bias', 'F32', [4], new Float32Array(4))])).rejects.toMatchObject({ code: 'FORMAT_SHAPE_MISMATCH' });
  });
});
