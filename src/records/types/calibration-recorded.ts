// `calibration.recorded` (writer: service): the observed null distribution of one commitment's
// marks over K independently trained, unmarked models (src/verify/calibration.ts measures it).
//   { schema, commitment: { index, commitment },
//     task: { dataset, architecture, epochs, trainSamples, batchSize, learningRate },
//     backend, models: K, seeds: number[K], cleanAccuracy: number[K],
//     trigger?: { n, classes, agreement: number[K], max, mean },
//     fingerprint?: { n, classes, agreement: number[K], max, mean, recipes: [{ sha256 }], budgets?: [{ epochs, trainSamples }] },
//     weight?:  { bits, ber: number[K], min, mean },
//     rule: "chance = max(1/C, max agreement)" }
import { invalid } from '../errors.js';
import { checkSchema, isCount, isHex64, isObj, isProb, isShortString, only, type RecordType } from '../record-type.js';

export const CALIBRATION_RECORDED = 'calibration.recorded';
export const CALIBRATION_SCHEMA = 'hallmark/calibration.recorded/v1';
export const CALIBRATION_RULE = 'chance = max(1/C, max agreement)';
const MAX_MODELS = 10_000;

export interface CalibrationRecord {
  readonly schema: typeof CALIBRATION_SCHEMA;
  readonly commitment: { readonly index: number; readonly commitment: string };
  readonly task: { readonly dataset: string; readonly architecture: string; readonly epochs: number; readonly trainSamples: number; readonly batchSize: number; readonly learningRate: number };
  readonly backend: string;
  readonly models: number;
  readonly seeds: readonly number[];
  readonly cleanAccuracy: readonly number[];
  readonly trigger?: { readonly n: number; readonly classes: number; readonly agreement: readonly number[]; readonly max: number; readonly mean: number };
  readonly weight?: { readonly bits: number; readonly ber: readonly number[]; readonly min: number; readonly mean: number };
  /** The null of a fingerprint (src/fingerprint): fresh reference models' agreement with its targets. */
  readonly fingerprint?: {
    readonly n: number; readonly classes: number; readonly agreement: readonly number[]; readonly max: number; readonly mean: number; readonly recipes: readonly { readonly sha256: string }[];
    /** Each model's training budget, when they differ (task then holds the largest). */
    readonly budgets?: readonly { readonly epochs: number; readonly trainSamples: number }[];
  };
  readonly rule: string;
}

function rates(v: unknown, k: number, where: string): void {
  if (!Array.isArray(v) || v.length !== k || !v.every(isProb)) throw invalid(`${where} must be ${k} numbers in [0, 1]`);
}

export function readCalibrationRecord(payload: unknown, where = CALIBRATION_RECORDED): CalibrationRecord {
  const p = checkSchema(payload, CALIBRATION_RECORDED, CALIBRATION_SCHEMA, where);
  only(p, ['schema', 'commitment', 'task', 'backend', 'models', 'seeds', 'cleanAccuracy', 'trigger', 'weight', 'fingerprint', 'rule'], where);
  const c = p.commitment;
  if (!isObj(c) || Object.keys(c).sort().join() !== 'commitment,index' || !isCount(c.index) || !isHex64(c.commitment)) throw invalid(`${where}.commitment must be { index, commitment: <64 hex> }`);
  const t = p.task;
  if (!isObj(t)) throw invalid(`${where}.task is not an object`);
  only(t, ['dataset', 'architecture', 'epochs', 'trainSamples', 'batchSize', 'learningRate'], `${where}.task`);
  if (!isShortString(t.dataset, 100) || !isShortString(t.architecture, 100) || !isCount(t.epochs) || !isCount(t.trainSamples) || !isCount(t.batchSize)) throw invalid(`${where}.task is malformed`);
  if (typeof t.learningRate !== 'number' || !(t.learningRate > 0 && t.learningRate < 10)) throw invalid(`${where}.task.learningRate is malformed`);
  if (!isShortString(p.backend, 200)) throw invalid(`${where}.backend must be a short string`);
  const k = p.models;
  if (!isCount(k, MAX_MODELS) || k === 0) throw invalid(`${where}.models must be a count in [1, ${MAX_MODELS}]`);
  if (!Array.isArray(p.seeds) || p.seeds.length !== k || !p.seeds.every((s) => Number.isSafeInteger(s))) throw invalid(`${where}.seeds must be ${k} integers`);
  rates(p.cleanAccuracy, k, `${where}.cleanAccuracy`);
  if (p.trigger !== undefined) {
    const g = p.trigger;
    if (!isObj(g)) throw invalid(`${where}.trigger is not an object`);
    only(g, ['n', 'classes', 'agreement', 'max', 'mean'], `${where}.trigger`);
    if (!isCount(g.n) || g.n === 0 || !isCount(g.classes) || g.classes < 2) throw invalid(`${where}.trigger n and classes must be counts`);
    rates(g.agreement, k, `${where}.trigger.agreement`);
    const a = g.agreement as number[];
    if (g.max !== Math.max(...a) || !isProb(g.mean)) throw invalid(`${where}.trigger.max must be the largest agreement, mean a rate`);
  }
  if (p.weight !== undefined) {
    const w = p.weight;
    if (!isObj(w)) throw invalid(`${where}.weight is not an object`);
    only(w, ['bits', 'ber', 'min', 'mean'], `${where}.weight`);
    if (!isCount(w.bits) || w.bits === 0) throw invalid(`${where}.weight.bits must be a count`);
    rates(w.ber, k, `${where}.weight.ber`);
    if (w.min !== Math.min(...(w.ber as number[])) || !isProb(w.mean)) throw invalid(`${where}.weight.min must be the smallest BER, mean a rate`);
  }
  if (p.fingerprint !== undefined) {
    const f = p.fingerprint;
    if (!isObj(f)) throw invalid(`${where}.fingerprint is not an object`);
    only(f, ['n', 'classes', 'agreement', 'max', 'mean', 'recipes', 'budgets'], `${where}.fingerprint`);
    if (!isCount(f.n) || f.n === 0 || !isCount(f.classes) || f.classes < 2) throw invalid(`${where}.fingerprint n and classes must be counts`);
    rates(f.agreement, k, `${where}.fingerprint.agreement`);
    if (f.max !== Math.max(...(f.agreement as number[])) || !isProb(f.mean)) throw invalid(`${where}.fingerprint.max must be the largest agreement, mean a rate`);
    if (!Array.isArray(f.recipes) || f.recipes.length !== k || !f.recipes.every((r) => isObj(r) && Object.keys(r).join() === 'sha256' && isHex64(r.sha256))) throw invalid(`${where}.fingerprint.recipes must be ${k} { sha256 } digests`);
    if (f.budgets !== undefined && (!Array.isArray(f.budgets) || f.budgets.length !== k || !f.budgets.every((b) => isObj(b) && Object.keys(b).sort().join() === 'epochs,trainSamples' && isCount(b.epochs) && b.epochs > 0 && isCount(b.trainSamples) && b.trainSamples > 0))) {
      throw invalid(`${where}.fingerprint.budgets must be ${k} { epochs, trainSamples } counts`);
    }
  }
  if (p.trigger === undefined && p.weight === undefined && p.fingerprint === undefined) throw invalid(`${where} has neither trigger, weight nor fingerprint measurements`);
  if (p.rule !== CALIBRATION_RULE) throw invalid(`${where}.rule must be "${CALIBRATION_RULE}"`);
  return p as unknown as CalibrationRecord;
}

export const calibrationRecorded: RecordType<CalibrationRecord> = {
  type: CALIBRATION_RECORDED,
  schema: CALIBRATION_SCHEMA,
  writer: 'service',
  decode: (p) => readCalibrationRecord(p),
};
