// The training-free weight mark on files we cannot fine-tune: an ONNX model made by the formats
// converter (run before and after by onnxruntime-node directly) and safetensors files in the
// PyTorch layout, F32 and F16. The mark is measured on the written file.
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPrng } from '../../src/core/index.js';
import { embedWatermark } from '../../src/embed/index.js';
import { convertTfjsToOnnx } from '../../src/formats/convert-tfjs-to-onnx.js';
import { readSafetensorsFile, tensorFromFloat32, writeSafetensorsFile } from '../../src/formats/index.js';
import { loadMnist } from '../../src/formats/mnist.js';
import { onnx } from '../../src/formats/onnx-tensor.js';
import { REPO } from '../helpers/paths.js';
import { makeHome, saveSmallModel, type TestHome } from './helpers.js';

let t: TestHome;
const PASS = 'pw-training-free';
const FIXTURE = join(REPO, 'fixtures', 'mnist-cnn');

beforeAll(() => {
  t = makeHome();
});
afterAll(() => {
  t.home.close();
  rmSync(t.dir, { recursive: true, force: true });
});

async function predict(path: string, images: Float32Array, n: number): Promise<Int32Array> {
  const s = await ort.InferenceSession.create(path);
  const out = (await s.run({ [s.inputNames[0]!]: new ort.Tensor('float32', images, [n, 28, 28, 1]) }))[s.outputNames[0]!]!.data as Float32Array;
  await s.release();
  return Int32Array.from({ length: n }, (_, i) => {
    let best = 0;
    for (let j = 1; j < 10; j++) if (out[i * 10 + j]! > out[i * 10 + best]!) best = j;
    return best;
  });
}

describe('training-free weight mark', () => {
  it('marks an ONNX model with BER 0; onnxruntime still runs it and answers as before', async () => {
    const tfjsDir = existsSync(join(FIXTURE, 'model.json')) ? FIXTURE : await saveSmallModel(join(t.dir, 'small'), 5);
    const onnxPath = join(t.dir, 'model.onnx');
    writeFileSync(onnxPath, await convertTfjsToOnnx(tfjsDir));
    const out = join(t.dir, 'marked.onnx');
    const s = await embedWatermark({ ...t.base, model: onnxPath, out, scheme: 'weight', trainingFree: true, dataset: 'mnist', testLimit: 300, passphrase: PASS });
    expect(s.ok).toBe(true);
    console.log(JSON.stringify({ weight: s.weight, fidelity: s.fidelity }));
    // Bits from the detection target (alpha 1e-6, 10% flips tolerated), not a fixed 256.
    expect(s.weight).toMatchObject({ ber: 0, bitErrors: 0, inputMetric: true });
    expect(s.weight!.bits).toBeLessThan(128);
    expect(s.weight!.berBefore).toBeGreaterThan(0.2);
    expect(s.weight!.relativeChange).toBeLessThan(0.05);
    expect(s.fidelity!.source).toBe('dataset');
    expect(s.fidelity!.top1Agreement).toBeGreaterThanOrEqual(0.99);
    expect(s.output.format).toBe('onnx');
    expect(s.cleanAccuracyBefore).toBeTypeOf('number');
    expect(s.cleanAccuracyAfter).toBeTypeOf('number');
    const types = t.home.ledger.list({}).map((e) => e.entry.type);
    expect(types.slice(-3)).toEqual(['watermark.committed', 'model.registered', 'lineage.derived']);
    const test = (await loadMnist()).test;
    const n = 300;
    const images = Float32Array.from(test.images.subarray(0, n * 784));
    const [a, b] = [await predict(onnxPath, images, n), await predict(out, images, n)];
    const agree = a.filter((v, i) => v === b[i]).length / n;
    expect(agree).toBeGreaterThanOrEqual(0.99);
  });

  it('refuses past a fidelity limit, naming the figures, and neither commits nor writes', async () => {
    const tfjsDir = existsSync(join(FIXTURE, 'model.json')) ? FIXTURE : await saveSmallModel(join(t.dir, 'small2'), 5);
    const onnxPath = join(t.dir, 'model2.onnx');
    writeFileSync(onnxPath, await convertTfjsToOnnx(tfjsDir));
    const out = join(t.dir, 'refused.onnx');
    const entries = t.home.ledger.list({}).length;
    const err = await embedWatermark({ ...t.base, model: onnxPath, out, scheme: 'weight', trainingFree: true, passphrase: PASS, calibration: { count: 64 }, limits: { maxAbsChange: 1e-9 } }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'FIDELITY_LIMIT_EXCEEDED' });
    expect((err as Error).message).toMatch(/max \|change\| [0-9.e-]+ > 1e-9/);
    expect(existsSync(out)).toBe(false);
    expect(t.home.ledger.list({}).map((e) => e.entry.type).slice(entries)).not.toContain('watermark.committed');
  });

  for (const dtype of ['F32', 'F16'] as const) {
    it(`marks a ${dtype} safetensors file in the PyTorch layout, leaving other tensors as they were`, async () => {
      const rng = createPrng(new Uint8Array(32).fill(dtype === 'F32' ? 1 : 2));
      const make = (name: string, shape: number[], scale: number) => {
        const v = new Float32Array(shape.reduce((x, y) => x * y, 1));
        rng.fillGaussian(v);
        return tensorFromFloat32(name, dtype, shape, v.map((x) => x * scale));
      };
      const tensors = [make('features.0.weight', [8, 1, 3, 3], 0.3), make('classifier.weight', [10, 600], 0.05), make('classifier.bias', [10], 0.01)];
      const path = join(t.dir, `m-${dtype}.safetensors`);
      await writeSafetensorsFile(path, tensors, { note: 'kept' });
      const out = join(t.dir, `m-${dtype}-marked.safetensors`);
      const s = await embedWatermark({ ...t.base, model: path, out, scheme: 'weight', trainingFree: true, bits: 64, passphrase: PASS });
      expect(s.weight).toMatchObject({ layer: 'classifier.weight', layout: 'OI', ber: 0 });
      expect(s.cleanAccuracyBefore).toBeUndefined();
      const before = await readSafetensorsFile(path);
      const after = await readSafetensorsFile(out);
      expect(after.metadata).toEqual(before.metadata);
      for (const name of ['features.0.weight', 'classifier.bias']) {
        const bytes = (ts: typeof before.tensors) => {
          const d = ts.find((x) => x.name === name)!.data;
          return Buffer.from(d.buffer, d.byteOffset, d.byteLength);
        };
        expect(bytes(after.tensors)).toEqual(bytes(before.tensors));
      }
      expect(readFileSync(out).equals(readFileSync(path))).toBe(false);
    });
  }
});

describe('a shortlisted mark in a branch the calibration inputs never run', () => {
  /** Y = If(c) { X A[32, 8] } else { X B[32, 6] }: two kernels of different shapes (not twins), one per branch. */
  function twoBranchModel(): Uint8Array {
    const w = (name: string, cols: number, seed: number) => {
      const prng = createPrng(new Uint8Array(32).fill(seed));
      return { opType: 'Constant', output: [name], attribute: [{ name: 'value', type: 4, t: { dims: [32, cols], dataType: 1, floatData: Array.from({ length: 32 * cols }, () => prng.nextFloat() - 0.5) } }] };
    };
    const branch = (name: string, k: string, cols: number, seed: number) => ({ name, node: [w(k, cols, seed), { opType: 'MatMul', input: ['X', k], output: [`${name}_y`] }], output: [{ name: `${name}_y` }] });
    return onnx.ModelProto.encode(onnx.ModelProto.create({
      irVersion: 8, opsetImport: [{ domain: '', version: 13 }],
      graph: {
        name: 'two_branches',
        node: [{ opType: 'If', input: ['c'], output: ['Y'], attribute: [{ name: 'then_branch', type: 5, g: branch('run', 'A', 8, 1) }, { name: 'else_branch', type: 5, g: branch('idle', 'B', 6, 2) }] }],
        input: [{ name: 'X', type: { tensorType: { elemType: 1, shape: { dim: [{ dimParam: 'N' }, { dimValue: 32 }] } } } }, { name: 'c', type: { tensorType: { elemType: 9, shape: { dim: [] } } } }],
        output: [{ name: 'Y', type: { tensorType: { elemType: 1 } } }],
      },
    })).finish();
  }

  it('is ranked last (its effect is unmeasured, not nil) and said so; the kernel that runs is marked', async () => {
    const model = join(t.dir, 'two-branches.onnx');
    writeFileSync(model, twoBranchModel());
    const s = await embedWatermark({
      ...t.base, model, out: join(t.dir, 'two-branches-marked.onnx'), scheme: 'weight', trainingFree: true, passphrase: PASS, bits: 8,
      calibration: { count: 16, fixed: { c: 1 } }, limits: { minTop1Agreement: 0 },
    });
    expect(s.weight!.layer).toBe('A');
    expect(s.weight!.reason).toMatch(/B not run by the calibration inputs\)/);
    expect(s.fidelity!.maxAbsChange).toBeGreaterThan(0);
  });
});
