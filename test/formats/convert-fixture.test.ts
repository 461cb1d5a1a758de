// The trained fixture CNN (fixtures/mnist-cnn) converted both ways: the same predictions on real
// MNIST test images from tfjs, onnxruntime and the round-tripped tfjs model.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { convertOnnxToTfjs } from '../../src/formats/convert-onnx-to-tfjs.js';
import { convertTfjsToOnnx } from '../../src/formats/convert-tfjs-to-onnx.js';
import { loadMnist } from '../../src/formats/mnist.js';
import { loadLayersModel, writeTfjsArtifacts } from '../../src/formats/tfjs-io.js';
import { REPO } from '../helpers/paths.js';
import { maxAbsDiff, predictOnnx, predictTfjs, tfReady } from './convert-helpers.js';

const FIXTURE = join(REPO, 'fixtures/mnist-cnn');
const N = 500;
const root = mkdtempSync(join(tmpdir(), 'hallmark-convert-fx-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const argmax = (out: Float32Array, i: number) => {
  const row = out.subarray(i * 10, i * 10 + 10);
  return row.indexOf(Math.max(...row));
};

describe.runIf(existsSync(join(FIXTURE, 'model.json')))('fixture mnist-cnn', () => {
  it(`converts to ONNX and back with outputs within 1e-4 on ${N} MNIST test images`, async () => {
    await tfReady();
    const { test } = await loadMnist({ seed: 0 });
    const data = test.images.slice(0, N * 784);
    const shape = [N, 28, 28, 1];
    const original = await loadLayersModel(FIXTURE);
    const onnxBytes = await convertTfjsToOnnx(FIXTURE);
    await writeTfjsArtifacts(join(root, 'back'), convertOnnxToTfjs(onnxBytes));
    const back = await loadLayersModel(join(root, 'back'));
    const want = predictTfjs(original, data, shape);
    const viaOrt = await predictOnnx(onnxBytes, data, shape);
    const viaBack = predictTfjs(back, data, shape);
    const d1 = maxAbsDiff(want, viaOrt);
    const d2 = maxAbsDiff(want, viaBack);
    expect(d1).toBeLessThan(1e-4);
    expect(d2).toBeLessThan(1e-4);
    // A trained model: most predictions are right, and all three agree on every label.
    let correct = 0;
    for (let i = 0; i < N; i++) {
      expect(argmax(viaOrt, i)).toBe(argmax(want, i));
      if (argmax(want, i) === test.labels[i]) correct++;
    }
    expect(correct / N).toBeGreaterThan(0.9);
    console.info(`mnist-cnn fixture: tfjs vs onnxruntime ${d1.toExponential(2)}, round trip ${d2.toExponential(2)}, accuracy ${(100 * correct / N).toFixed(1)}%`);
    original.dispose();
    back.dispose();
  });
});
