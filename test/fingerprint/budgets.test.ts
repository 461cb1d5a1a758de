// Training budgets: the surrogates and references of a fingerprint cycle through weak and strong
// training, and the null's fresh references cycle through the references' budgets plus a model
// trained as long as the task allows; the calibration record says which budget each model had.
// (Strong innocent models agree with a set far more than weak ones: docs/fingerprints.md.)
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { calibrationBudgets, createFingerprint, loadFingerprint, RECIPE_KIND, type Recipe } from '../../src/fingerprint/index.js';
import { initHome, openHome, ownerRecordSigner } from '../../src/home/index.js';
import { readCalibrationRecord } from '../../src/records/types/calibration-recorded.js';
import { FIXTURE } from '../verify/helpers.js';

const PASS = 'budgets';
const ref = (count: number, epochs: number): Recipe => ({
  kind: RECIPE_KIND, role: 'reference', architecture: 'mnist-cnn', input: [28, 28, 1], classes: 10,
  data: { dataset: 'ab'.repeat(32), from: 0, count }, epochs, batchSize: 64, learningRate: 1e-3, seed: 1,
});

describe('fingerprint training budgets', () => {
  it('the null cycles through the references\' budgets and a strong one, once each; a given budget is used for every model', () => {
    expect(calibrationBudgets([ref(3000, 2), ref(8000, 10), ref(3000, 2)], {}, 8000)).toEqual([{ epochs: 10, trainSamples: 8000 }, { epochs: 2, trainSamples: 3000 }]);
    expect(calibrationBudgets([ref(200, 1)], {}, 8000)).toEqual([{ epochs: 10, trainSamples: 8000 }, { epochs: 1, trainSamples: 200 }]);
    // A fingerprint made before budgets existed (every reference 3000 x 2) still gets a strong model in its null.
    expect(calibrationBudgets([ref(3000, 2), ref(3000, 2), ref(3000, 2)], {}, 8000)).toHaveLength(2);
    expect(calibrationBudgets([ref(3000, 2)], { epochs: 3 }, 8000)).toEqual([{ epochs: 3, trainSamples: 3000 }]);
    expect(calibrationBudgets([ref(3000, 2)], { trainSamples: 99_999 }, 8000)).toEqual([{ epochs: 2, trainSamples: 8000 }]);
  });

  it('surrogates and references cycle through the budgets, recorded in their recipes; bad budgets are refused before anything is written', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'hallmark-fp-budgets-')), 'home');
    initHome(dir, { passphrase: PASS });
    const home = openHome(dir, { passphrase: PASS });
    try {
      const h = { dir, ledger: home.ledger, ownerVerifierKey: home.ownerVerifierKey };
      const base = { home: h, passphrase: PASS, signer: ownerRecordSigner(home), model: FIXTURE, backend: 'wasm' as const, n: 10, candidates: 30, steps: 25, surrogates: 3, references: 2 };
      const size = home.ledger.size();
      await expect(createFingerprint({ ...base, budgets: [] })).rejects.toThrow(/budgets must list 1 to 20/);
      await expect(createFingerprint({ ...base, budgets: [{ trainSamples: 100, epochs: 0 }] })).rejects.toThrow(/epochs must be an integer/);
      expect(home.ledger.size()).toBe(size);
      const made = await createFingerprint({ ...base, budgets: [{ trainSamples: 100, epochs: 1 }, { trainSamples: 1e9, epochs: 2 }] });
      const fp = await loadFingerprint(h, PASS, made.index);
      const b = (r: Recipe) => [r.data.count, r.epochs];
      // 1e9 images means every training image (8,000 here).
      expect(fp.opening.recipes.surrogates.map(b)).toEqual([[100, 1], [8000, 2], [100, 1]]);
      expect(fp.opening.recipes.references.map(b)).toEqual([[100, 1], [8000, 2]]);
    } finally {
      home.close();
    }
  }, 300_000);

  it('a calibration record may list each model\'s budget, and the decoder checks it', () => {
    const hex = 'ab'.repeat(32);
    const rec = (budgets: unknown) => ({
      schema: 'hallmark/calibration.recorded/v1', commitment: { index: 0, commitment: hex },
      task: { dataset: 'mnist', architecture: 'mnist-cnn', epochs: 10, trainSamples: 8000, batchSize: 64, learningRate: 1e-3 },
      backend: 'wasm', models: 2, seeds: [1, 2], cleanAccuracy: [0.9, 0.95],
      fingerprint: { n: 10, classes: 10, agreement: [0.1, 0.2], max: 0.2, mean: 0.15, recipes: [{ sha256: hex }, { sha256: hex }], ...(budgets === undefined ? {} : { budgets }) },
      rule: 'chance = max(1/C, max agreement)',
    });
    expect(readCalibrationRecord(rec(undefined)).fingerprint!.budgets).toBeUndefined();
    expect(readCalibrationRecord(rec([{ epochs: 2, trainSamples: 3000 }, { epochs: 10, trainSamples: 8000 }])).fingerprint!.budgets).toHaveLength(2);
    for (const bad of [[{ epochs: 2, trainSamples: 3000 }], [{ epochs: 2 }, { epochs: 10, trainSamples: 8000 }], [{ epochs: 0, trainSamples: 1 }, { epochs: 1, trainSamples: 1 }], [{ epochs: 1, trainSamples: 1, x: 1 }, { epochs: 1, trainSamples: 1 }], 'all']) {
      expect(() => readCalibrationRecord(rec(bad))).toThrow(/budgets must be 2/);
    }
  });
});
