// False positives of guard marks: 20 models trained independently of the guard's answers
// (fixture architecture, own seeds, 1 epoch on 2,000 mnist training digits) are verified against
// two clients' committed watermark sets (one sent built-in mnist test digits, the other MNIST's own
// t10k digits, the pool `attack extract --data mnist-t10k` steals with), with the 1/(C-1) bound and
// with a guard.calibrated null measured on 5 other independent models. No claim at alpha = 1e-6;
// the p-values are printed.
// HALLMARK_FP_MODELS lowers the 20 on a loaded machine.
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { loadMnist } from '../../src/formats/mnist.js';
import { loadMnistT10k } from '../../src/formats/mnist-idx.js';
import { appendGuardCalibration, loadCommittedSets, measureGuardNull, verifyGuardMarks } from '../../src/guard/index.js';
import { ownerRecordSigner } from '../../src/home/index.js';
import { selectBackend } from '../../src/train/backend.js';
import { predictClasses } from '../../src/train/evaluate.js';
import { fitModel } from '../../src/train/fit.js';
import { buildMnistCnn } from '../../src/train/mnist-cnn.js';
import type { Classifier } from '../../src/verify/index.js';
import { infer, openTestGuard, PASS } from './helpers.js';

const K = Number(process.env.HALLMARK_FP_MODELS ?? 20);

describe('guard marks: false positives', () => {
  it(`${K} independently trained models are never claimed`, async () => {
    await selectBackend('wasm');
    const mnist = await loadMnist({ seed: 0 });
    const g = await openTestGuard({ markRate: 0.05 });
    try {
      const c = g.client('customer');
      const t = g.client('t10k customer');
      const t10k = await loadMnistT10k();
      for (let i = 0; i < 2000; i += 200) await infer(g.app, c.secret, mnist.test.images.slice(i * 784, (i + 200) * 784), 200, g.runner.inputName);
      for (let i = 0; i < 2000; i += 200) await infer(g.app, t.secret, t10k.images.slice(i * 784, (i + 200) * 784), 200, g.runner.inputName);
      await g.service.flush();
      const sets = await loadCommittedSets({ dir: g.dir, ledger: g.home.ledger, trust: g.trust }, PASS, [c.id, t.id]);
      expect(sets).toHaveLength(2);
      for (const set of sets) expect(set.marks.length).toBeGreaterThan(50);
      appendGuardCalibration(g.home.ledger, await measureGuardNull({ sets, models: 5, seed: 4000, backend: 'wasm' }), ownerRecordSigner(g.home));
      const train = { images: mnist.train.images.subarray(0, 2000 * 784), labels: mnist.train.labels.subarray(0, 2000), count: 2000, shape: [2000, 28, 28, 1] as const };
      const pBound: number[] = [];
      const pCal: number[] = [];
      for (let k = 0; k < K; k++) {
        const model = buildMnistCnn(3000 + k);
        await fitModel({ model, optimizer: tf.train.adam(1e-3), data: train, numClasses: 10, epochs: 1, batchSize: 64, seed: 3000 + k });
        const clf: Classifier = {
          description: `independent model ${k}`,
          classify: async (x, n, [h, w, ch]) => predictClasses(model, { images: x, count: n, shape: [n, h, w, ch] }),
          close: async () => undefined,
        };
        const bound = await verifyGuardMarks({ sets, classifier: clf });
        const cal = await verifyGuardMarks({ sets, classifier: clf, calibration: { ledger: g.home.ledger, trust: g.trust } });
        expect(bound.owned).toBe(false);
        expect(cal.owned).toBe(false);
        expect(cal.results.map((r) => r.nullSource)).toEqual(['calibrated', 'calibrated']);
        pBound.push(bound.familyPValue);
        pCal.push(cal.familyPValue);
        model.dispose();
      }
      const show = (a: number[]) => [...a].sort((x, y) => x - y).map((p) => p.toPrecision(2)).join(' ');
      process.stdout.write(`guard marks (${sets.map((x) => x.marks.length).join(' + ')}): family p with bound 1/9: ${show(pBound)}\n  family p calibrated: ${show(pCal)}\n`);
    } finally {
      await g.close();
    }
  });
});
