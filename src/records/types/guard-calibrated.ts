// `guard.calibrated` (writer: service): how often K models trained independently of the guard's
// answers agree with each client's watermark labels (the null of verify --guard-client).
// Written by src/guard/calibrate-guard.ts (`calibrate --guard-*`), signed by the owner's key.
//   { schema: "hallmark/guard.calibrated/v1", models: K, seeds: number[K], cleanAccuracy: number[K],
//     task: { dataset, architecture, epochs, trainSamples }, backend,
//     clients: [{ client, commitment: entry index, count, agreement: number[K] }],
//     rule: "chance = min(1/(C-1), max(max agreement, (1 - min clean accuracy)/(C-1)))" }
import { invalid } from '../errors.js';
import { checkSchema, isCount, isObj, isProb, isShortString, only, type RecordType } from '../record-type.js';
import { CLIENT_ID } from './guard-committed.js';

export const GUARD_CALIBRATED = 'guard.calibrated';
export const GUARD_CALIBRATED_SCHEMA = 'hallmark/guard.calibrated/v1';
export const GUARD_CALIBRATION_RULE = 'chance = min(1/(C-1), max(max agreement, (1 - min clean accuracy)/(C-1)))';

export interface GuardCalibratedRecord {
  readonly schema: typeof GUARD_CALIBRATED_SCHEMA;
  readonly models: number;
  readonly seeds: readonly number[];
  readonly cleanAccuracy: readonly number[];
  readonly task: { readonly dataset: string; readonly architecture: string; readonly epochs: number; readonly trainSamples: number };
  readonly backend: string;
  readonly clients: readonly { readonly client: string; readonly commitment: number; readonly count: number; readonly agreement: readonly number[] }[];
  readonly rule: string;
}

const rates = (v: unknown, k: number) => Array.isArray(v) && v.length === k && v.every(isProb);

export function readGuardCalibrated(payload: unknown, where = GUARD_CALIBRATED): GuardCalibratedRecord {
  const p = checkSchema(payload, GUARD_CALIBRATED, GUARD_CALIBRATED_SCHEMA, where);
  only(p, ['schema', 'models', 'seeds', 'cleanAccuracy', 'task', 'backend', 'clients', 'rule'], where);
  const k = p.models;
  if (!isCount(k, 1000) || k < 1) throw invalid(`${where}: models must be an integer in [1, 1000]`);
  if (!Array.isArray(p.seeds) || p.seeds.length !== k || !p.seeds.every(Number.isSafeInteger)) throw invalid(`${where}: seeds must hold one integer per model`);
  if (!rates(p.cleanAccuracy, k)) throw invalid(`${where}: cleanAccuracy must hold one rate per model`);
  if (!isShortString(p.backend, 200) || p.rule !== GUARD_CALIBRATION_RULE) throw invalid(`${where}: backend and rule are required`);
  const t = p.task;
  if (!isObj(t) || Object.keys(t).sort().join() !== 'architecture,dataset,epochs,trainSamples' || !isShortString(t.dataset, 100) || !isShortString(t.architecture, 100) || !isCount(t.epochs) || !isCount(t.trainSamples)) {
    throw invalid(`${where}: task is malformed`);
  }
  if (!Array.isArray(p.clients) || p.clients.length > 100_000) throw invalid(`${where}: clients must be a list`);
  const clients = p.clients.map((c) => {
    if (!isObj(c) || Object.keys(c).sort().join() !== 'agreement,client,commitment,count' || typeof c.client !== 'string' || !CLIENT_ID.test(c.client) || !isCount(c.commitment) || !isCount(c.count) || !rates(c.agreement, k)) {
      throw invalid(`${where}: a client entry is malformed`);
    }
    return { client: c.client, commitment: c.commitment, count: c.count, agreement: c.agreement as number[] };
  });
  return {
    schema: GUARD_CALIBRATED_SCHEMA, models: k, seeds: p.seeds as number[], cleanAccuracy: p.cleanAccuracy as number[],
    task: { dataset: t.dataset, architecture: t.architecture, epochs: t.epochs, trainSamples: t.trainSamples }, backend: p.backend, clients, rule: GUARD_CALIBRATION_RULE,
  };
}

export const guardCalibrated: RecordType<GuardCalibratedRecord> = {
  type: GUARD_CALIBRATED,
  schema: GUARD_CALIBRATED_SCHEMA,
  writer: 'service',
  decode: (p) => readGuardCalibrated(p),
};
