import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadMnist } from '../../src/formats/mnist.js';
import { selectBackend } from '../../src/train/backend.js';
import { evaluateAccuracy } from '../../src/train/evaluate.js';
import { REPO } from '../helpers/paths.js';

const DIR = path.join(REPO, 'fixtures', 'mnist-cnn');

interface ModelJson {
  modelTopology: object;
  format: string;
  weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
}

describe('fixtures/mnist-cnn', () => {
  let model: tf.LayersModel;
  let manifest: ModelJson;
  beforeAll(async () => {
    await selectBackend('wasm');
    manifest = JSON.parse(readFileSync(path.join(DIR, 'model.json'), 'utf8')) as ModelJson;
    const group = manifest.weightsManifest[0]!;
    const bin = readFileSync(path.join(DIR, group.paths[0]!));
    model = await tf.loadLayersModel(
      tf.io.fromMemory({
        modelTopology: manifest.modelTopology,
        weightSpecs: group.weights,
        weightData: bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength),
      }),
    );
  });

  it('is the documented TF.js Layers model with one float32 shard', () => {
    expect(manifest.format).toBe('layers-model');
    expect(manifest.weightsManifest).toHaveLength(1);
    const bytes = readFileSync(path.join(DIR, 'weights.bin')).length;
    const declared = manifest.weightsManifest[0]!.weights.reduce((s, w) => s + 4 * w.shape.reduce((a, d) => a * d, 1), 0);
    expect(bytes).toBe(declared);
    expect(model.layers.map((l) => l.name)).toEqual(['conv1', 'pool1', 'conv2', 'pool2', 'flatten', 'dense1', 'dense2']);
    expect(model.outputs[0]!.shape).toEqual([null, 10]);
  });

  it('classifies at least 97% of the 2,000 held-out mnist test digits', async () => {
    const { test } = await loadMnist({ seed: 0 });
    expect(evaluateAccuracy(model, test)).toBeGreaterThanOrEqual(0.97);
  });
});
