// Calibration of the guard-mark null: K models of the fixture architecture trained on mnist
// with seeds of their own and never on the guard's answers, each asked for the class of every
// committed mark; their agreement with the wrong labels is the observed null (verify-guard.ts).
import * as tf from '@tensorflow/tfjs';
import type { JsonObject, Ledger } from '../../ledger/index.js';
import { loadMnist } from '../formats/mnist.js';
import { selectBackend, type BackendChoice } from '../train/backend.js';
import { evaluateAccuracy, predictClasses } from '../train/evaluate.js';
import { fitModel } from '../train/fit.js';
import { buildMnistCnn } from '../train/mnist-cnn.js';
import { marksAsImages, type CommittedSet } from './committed-sets.js';
import { appendRecord, type RecordSigner } from '../records/index.js';
import { guardCalibrated, RULE, SCHEMA } from './record-guard-calibrated.js';

export interface GuardCalibrationOptions {
  readonly sets: readonly CommittedSet[];
  readonly models?: number;
  readonly epochs?: number;
  readonly trainSamples?: number;
  readonly seed?: number;
  readonly backend?: BackendChoice;
  readonly onModel?: (e: { k: number; models: number; accuracy: number; agreement: number[] }) => void;
}

export async function measureGuardNull(o: GuardCalibrationOptions): Promise<JsonObject> {
  const K = o.models ?? 5;
  const epochs = o.epochs ?? 1;
  const trainSamples = o.trainSamples ?? 2000;
  const seed0 = o.seed ?? 2000;
  for (const [v, what, max] of [[K, 'models', 1000], [epochs, 'epochs', 100], [trainSamples, 'trainSamples', 8000]] as const) {
    if (!Number.isSafeInteger(v) || v < 1 || v > max) throw new RangeError(`${what} must be an integer in [1, ${max}], got ${v}`);
  }
  const backend = await selectBackend(o.backend ?? 'auto');
  const mnist = await loadMnist({ seed: 0 });
  const train = { images: mnist.train.images.subarray(0, trainSamples * 784), labels: mnist.train.labels.subarray(0, trainSamples), count: trainSamples, shape: [trainSamples, 28, 28, 1] as const };
  const batches = o.sets.map((s) => marksAsImages(s.marks));
  const seeds: number[] = [];
  const accuracy: number[] = [];
  const agreement: number[][] = o.sets.map(() => []);
  for (let k = 0; k < K; k++) {
    const seed = seed0 + k;
    const model = buildMnistCnn(seed);
    try {
      await fitModel({ model, optimizer: tf.train.adam(1e-3), data: train, numClasses: 10, epochs, batchSize: 64, seed });
      seeds.push(seed);
      accuracy.push(evaluateAccuracy(model, mnist.test));
      batches.forEach((b, i) => {
        const n = b.labels.length;
        const pred = predictClasses(model, { images: b.images, count: n, shape: [n, ...b.dims] });
        agreement[i]!.push(pred.reduce((s, p, j) => s + (p === b.labels[j] ? 1 : 0), 0) / n);
      });
      o.onModel?.({ k: k + 1, models: K, accuracy: accuracy[k]!, agreement: agreement.map((a) => a[k]!) });
    } finally {
      model.dispose();
    }
  }
  return {
    schema: SCHEMA, models: K, seeds, cleanAccuracy: accuracy,
    task: { dataset: 'mnist', architecture: 'mnist-cnn', epochs, trainSamples }, backend: backend.detail,
    clients: o.sets.map((s, i) => ({ client: s.client, commitment: s.commitment.index, count: s.commitment.count, agreement: agreement[i]! })),
    rule: RULE,
  };
}

/** THE writer of guard.calibrated, signed like calibration.recorded (the owner's key or a service key). */
export function appendGuardCalibration(ledger: Ledger, payload: JsonObject, signer: RecordSigner, actor = 'hallmark-calibrate'): number {
  return appendRecord(ledger, guardCalibrated, payload, signer, actor).index;
}
