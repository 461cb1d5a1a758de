// Calibration of the null: K models trained independently on the same task (the fixture
// architecture on mnist, different init and shuffle seeds, no mark) are checked for our marks
// exactly as a suspect would be. Their trigger agreement rates and bit error rates are the
// observed null distribution; verification then uses chance = max(1/C, max agreement)
// (black-box.ts) and reports the BERs beside the suspect's.
//
// `calibration.recorded` payload (schema and strict reader: src/records/types/calibration-recorded.ts):
//   { schema, commitment: { index, commitment },
//     task: { dataset, architecture, epochs, trainSamples, batchSize, learningRate },
//     backend, models: K, seeds: number[K], cleanAccuracy: number[K],
//     trigger?: { n, classes, agreement: number[K], max, mean },
//     weight?:  { bits, ber: number[K] (best candidate, as verification reads it), min, mean },
//     rule: "chance = max(1/C, max agreement)" }
import * as tf from '@tensorflow/tfjs';
import type { JsonObject, Ledger } from '../../ledger/index.js';
import { loadMnist } from '../formats/mnist.js';
import type { NamedTensor } from '../formats/index.js';
import { selectBackend, type BackendChoice } from '../train/backend.js';
import { evaluateAccuracy, predictClasses } from '../train/evaluate.js';
import { fitModel, type FitProgress } from '../train/fit.js';
import { buildMnistCnn } from '../train/mnist-cnn.js';
import { appendRecord, calibrationRecorded, readRecords, CALIBRATION_RECORDED, CALIBRATION_RULE, CALIBRATION_SCHEMA, type RecordProblem, type RecordSigner, type TrustedKeys } from '../records/index.js';
import { buildTriggerSet, type NullCalibration } from './black-box.js';
import { VerifyError } from './errors.js';
import type { MarkKeys } from './mark-secrets.js';
import { verifyWeightMark } from './white-box.js';

export { CALIBRATION_RECORDED, CALIBRATION_RULE, CALIBRATION_SCHEMA };

export interface CalibrationOptions {
  readonly mark: MarkKeys;
  readonly commitment: { readonly index: number; readonly commitment: string };
  /** K (default 5). */
  readonly models?: number;
  /** Epochs per model (default 1). */
  readonly epochs?: number;
  /** Training samples per model (default 2000 of the 8000). */
  readonly trainSamples?: number;
  /** First seed; model k uses seed + k (default 1000, away from the fixture's seeds). */
  readonly seed?: number;
  readonly backend?: BackendChoice;
  readonly onModel?: (e: { k: number; models: number; agreement?: number; ber?: number; accuracy: number }) => void;
  /** Training progress of the model being trained (k from 1). */
  readonly onTrain?: (e: { k: number; models: number; epoch: number; epochs: number; batch: number; batches: number }) => void;
  readonly signal?: AbortSignal;
}

const mean = (a: readonly number[]) => a.reduce((s, v) => s + v, 0) / a.length;

/** The weights of a tf model as neutral tensors (names as TF.js gives them). */
export function modelTensors(model: tf.LayersModel): NamedTensor[] {
  return model.weights.map((w) => {
    const v = w.read().dataSync() as Float32Array;
    return { name: w.name, dtype: 'F32' as const, shape: [...w.shape] as number[], data: new Uint8Array(v.buffer.slice(v.byteOffset, v.byteOffset + v.byteLength)) };
  });
}

/** Trains K unmarked models and measures the marks on each; returns the payload to record. */
export async function measureNull(o: CalibrationOptions): Promise<JsonObject> {
  const K = o.models ?? 5;
  const epochs = o.epochs ?? 1;
  const trainSamples = o.trainSamples ?? 2000;
  const seed0 = o.seed ?? 1000;
  for (const [v, what, max] of [[K, 'models', 1000], [epochs, 'epochs', 100], [trainSamples, 'trainSamples', 8000]] as const) {
    if (!Number.isSafeInteger(v) || v < 1 || v > max) throw new RangeError(`${what} must be an integer in [1, ${max}], got ${v}`);
  }
  const backend = await selectBackend(o.backend ?? 'auto');
  const mnist = await loadMnist({ seed: 0 });
  const train = { images: mnist.train.images.subarray(0, trainSamples * 784), labels: mnist.train.labels.subarray(0, trainSamples), count: trainSamples, shape: [trainSamples, 28, 28, 1] as const };
  const triggers = o.mark.trigger ? buildTriggerSet(o.mark.trigger) : undefined;
  const batchSize = 64;
  const learningRate = 0.001;
  const seeds: number[] = [];
  const agreement: number[] = [];
  const ber: number[] = [];
  const accuracy: number[] = [];
  for (let k = 0; k < K; k++) {
    o.signal?.throwIfAborted();
    const seed = seed0 + k;
    const model = buildMnistCnn(seed);
    try {
      await fitModel({ model, optimizer: tf.train.adam(learningRate), data: train, numClasses: 10, epochs, batchSize, seed, ...(o.signal ? { signal: o.signal } : {}),
        ...(o.onTrain ? { onProgress: (f: FitProgress) => o.onTrain!({ k: k + 1, models: K, epoch: f.epoch, epochs: f.epochs, batch: f.batch, batches: f.batches }) } : {}) });
      seeds.push(seed);
      accuracy.push(evaluateAccuracy(model, mnist.test));
      let a: number | undefined;
      let b: number | undefined;
      if (triggers) {
        const pred = predictClasses(model, { images: triggers.images, count: triggers.n, shape: [triggers.n, triggers.height, triggers.width, triggers.channels] });
        a = pred.reduce((s, p, i) => s + (p === triggers.labels[i] ? 1 : 0), 0) / triggers.n;
        agreement.push(a);
      }
      if (o.mark.weight) {
        b = verifyWeightMark(modelTensors(model), o.mark.weight).best.ber;
        ber.push(b);
      }
      o.onModel?.({ k: k + 1, models: K, accuracy: accuracy[k]!, ...(a === undefined ? {} : { agreement: a }), ...(b === undefined ? {} : { ber: b }) });
    } finally {
      model.dispose();
    }
  }
  return {
    schema: CALIBRATION_SCHEMA,
    commitment: { index: o.commitment.index, commitment: o.commitment.commitment },
    task: { dataset: 'mnist', architecture: 'mnist-cnn', epochs, trainSamples, batchSize, learningRate },
    backend: backend.detail,
    models: K,
    seeds,
    cleanAccuracy: accuracy,
    ...(triggers ? { trigger: { n: triggers.n, classes: triggers.classes, agreement, max: Math.max(...agreement), mean: mean(agreement) } } : {}),
    ...(o.mark.weight ? { weight: { bits: o.mark.weight.bits.length, ber, min: Math.min(...ber), mean: mean(ber) } } : {}),
    rule: CALIBRATION_RULE,
  };
}

/** Appends calibration.recorded, signed; returns its index. */
export function recordCalibration(ledger: Ledger, payload: JsonObject, signer: RecordSigner, actor = 'hallmark-calibrate'): number {
  return appendRecord(ledger, calibrationRecorded, payload, signer, actor).index;
}

/** Calibration as one call (what a CLI command or an API job runs). */
export async function runCalibration(ledger: Ledger, o: CalibrationOptions & { actor?: string; signer: RecordSigner }): Promise<{ index: number; payload: JsonObject }> {
  const payload = await measureNull(o);
  return { index: recordCalibration(ledger, payload, o.signer, o.actor), payload };
}

/**
 * The latest valid, signed calibration for this commitment with a trigger distribution. Entries
 * that fail the schema or the signature check are skipped and added to `problems`.
 */
export function findCalibration(ledger: Ledger, commitmentIndex: number, trigger: { n: number; classes: number } | undefined, trust: TrustedKeys, problems?: RecordProblem[]): NullCalibration | undefined {
  const read = readRecords(ledger, calibrationRecorded, { trust, from: commitmentIndex + 1 });
  problems?.push(...read.problems);
  let found: NullCalibration | undefined;
  for (const { index, record: r } of read.records) {
    if (r.commitment.index !== commitmentIndex || !r.trigger) continue;
    if (trigger && (r.trigger.n !== trigger.n || r.trigger.classes !== trigger.classes)) continue;
    found = { index, rates: [...r.trigger.agreement] };
  }
  return found;
}
