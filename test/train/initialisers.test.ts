// The initialisers a topology records: what `attack distill` refuses to share with its teacher and
// what `hallmark fingerprint` warns about. Read from the real fixture's model.json, and from models
// built with and without seeds.
import * as tf from '@tensorflow/tfjs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { startsFromTeacher } from '../../src/attacks/index.js';
import { loadLayersModel } from '../../src/formats/index.js';
import { selectBackend } from '../../src/train/backend.js';
import { buildMnistCnn } from '../../src/train/mnist-cnn.js';
import { recordedInitialisers, seededInitialisers } from '../../src/train/initialisers.js';
import { REPO } from '../helpers/paths.js';
import { FIXTURE } from '../verify/helpers.js';

describe('recorded initialisers', () => {
  beforeAll(async () => {
    await selectBackend('wasm');
  });

  it('reads the fixture\'s seeds 2..5 from its model.json, as buildMnistCnn(1) records them', async () => {
    const fixture = await loadLayersModel(FIXTURE);
    const built = buildMnistCnn(1);
    const other = buildMnistCnn(2);
    try {
      expect(seededInitialisers(fixture)).toEqual([2, 3, 4, 5]);
      expect(recordedInitialisers(fixture)).toEqual(recordedInitialisers(built));
      expect(recordedInitialisers(fixture)).not.toEqual(recordedInitialisers(other));
      // Pooling and flatten layers have no kernel initialiser.
      expect(recordedInitialisers(fixture).filter((k) => k === '')).toHaveLength(3);
    } finally {
      [fixture, built, other].forEach((m) => m.dispose());
    }
  });

  it('finds no seed in a real MobileNetV2 exported by Keras (nsfwjs 4.4.0), whose layers record unseeded initialisers', async () => {
    const m = await loadLayersModel(join(REPO, 'fixtures/real/nsfwjs-mobilenet-v2/model.json'));
    try {
      const recorded = recordedInitialisers(m).filter((k) => k !== '');
      expect(recorded.length).toBeGreaterThan(30);
      expect(seededInitialisers(m)).toEqual([]);
      // So no seed collides with it: a distillation student never counts as starting from its weights.
      expect(startsFromTeacher(m, 1)).toBe(false);
    } finally {
      m.dispose();
    }
  });

  it('finds no seed in a model built with unseeded initialisers', () => {
    const m = tf.sequential({ layers: [tf.layers.dense({ inputShape: [4], units: 3, kernelInitializer: 'glorotUniform' }), tf.layers.dense({ units: 2 })] });
    try {
      expect(seededInitialisers(m)).toEqual([]);
      expect(recordedInitialisers(m).every((k) => k.endsWith(':undefined') || k.endsWith(':null'))).toBe(true);
    } finally {
      m.dispose();
    }
  });
});
