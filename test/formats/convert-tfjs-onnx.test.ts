// TF.js -> ONNX: converted models run in onnxruntime-node and agree with the TF.js originals on
// real MNIST test images.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { convertTfjsToOnnx } from '../../src/formats/convert-tfjs-to-onnx.js';
import { buildBnModel, buildGapModel, buildReshapeModel, spread, buildCnn, buildResidual, maxAbsDiff, mnistImages, predictOnnx, predictTfjs, saveTfjs, tfReady } from './convert-helpers.js';

const N = 300;
let root: string;
let images: Awaited<ReturnType<typeof mnistImages>>;

beforeAll(async () => {
  await tfReady();
  root = mkdtempSync(join(tmpdir(), 'hallmark-convert-'));
  images = await mnistImages(N);
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('convertTfjsToOnnx', () => {
  for (const [name, build] of [['cnn', buildCnn], ['batchnorm-dropout-avgpool', buildBnModel], ['residual', buildResidual], ['reshape-softmax', buildReshapeModel], ['global-avg-pool', buildGapModel]] as const) {
    it(`${name}: onnxruntime output matches tfjs within 1e-4 on ${N} MNIST test images`, async () => {
      const model = build();
      const dir = await saveTfjs(model, join(root, name));
      const onnxBytes = await convertTfjsToOnnx(dir);
      const want = predictTfjs(model, images.data, images.shape);
      const got = await predictOnnx(onnxBytes, images.data, images.shape);
      expect(got.length).toBe(N * 10);
      const diff = maxAbsDiff(want, got);
      expect(diff).toBeLessThan(1e-4);
      // Not a vacuous match: the outputs vary from image to image.
      expect(spread(want, 10)).toBeGreaterThan(1e-2);
      console.info(`${name}: max |tfjs - onnxruntime| = ${diff.toExponential(2)} over ${N} images`);
      model.dispose();
    });
  }
});
