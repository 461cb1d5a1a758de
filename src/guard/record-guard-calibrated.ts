// guard.calibrated: how often K models trained independently of the guard's answers agree with
// each client's watermark labels (the null of verify --guard-client).
//   { schema: "hallmark/guard.calibrated/v1", models: K, seeds: number[K], cleanAccuracy: number[K],
//     task: { dataset, architecture, epochs, trainSamples }, backend,
//     clients: [{ client, commitment: entry index, count, agreement: number[K] }],
//     rule: "chance = min(1/(C-1), max(max agreement, (1 - min clean accuracy)/(C-1)))" }
// Signed by: the owner's key once src/records lands (like calibration.recorded).
import { GuardError } from './errors.js';

export const TYPE = 'guard.calibrated';
export const SCHEMA = 'hallmark/guard.calibrated/v1';
export const RULE = 'chance = min(1/(C-1), max(max agreement, (1 - min clean accuracy)/(C-1)))';

export interface GuardCalibrated {
  readonly schema: typeof SCHEMA;
  readonly models: number;
  readonly seeds: readonly number[];
  readonly cleanAccuracy: readonly number[];
  readonly task: { readonly dataset: string; readonly architecture: string; readonly epochs: number; readonly trainSamples: number };
  readonly backend: string;
  readonly clients: readonly { readonly client: string; readonly commitment: number; readonly count: number; readonly agreement: readonly number[] }[];
  readonly rule: string;
}

const bad = (m: string) => new GuardError('GUARD_RECORD_INVALID', `guard.calibrated: ${m}`);
const rates = (v: unknown, k: number) => Array.isArray(v) && v.length === k && v.every((r) => typeof r === 'number' && r >= 0 && r <= 1);

export function decodeGuardCalibrated(payload: unknown): GuardCalibrated {
  const p = payload as Record<string, unknown>;
  if (typeof p !== 'object' || p === null || Array.isArray(p)) throw bad('payload is not an object');
  const keys = Object.keys(p).sort().join(',');
  if (keys !== 'backend,cleanAccuracy,clients,models,rule,schema,seeds,task') throw bad(`unexpected fields (${keys.slice(0, 80)})`);
  if (p.schema !== SCHEMA) throw bad(`schema must be ${SCHEMA}`);
  const k = p.models as number;
  if (!Number.isSafeInteger(k) || k < 1 || k > 1000) throw bad('models must be an integer in [1, 1000]');
  if (!Array.isArray(p.seeds) || p.seeds.length !== k || !p.seeds.every(Number.isSafeInteger)) throw bad('seeds must hold one integer per model');
  if (!rates(p.cleanAccuracy, k)) throw bad('cleanAccuracy must hold one rate per model');
  if (typeof p.backend !== 'string' || p.rule !== RULE) throw bad('backend and rule are required');
  const t = p.task as Record<string, unknown>;
  if (typeof t !== 'object' || t === null || typeof t.dataset !== 'string' || typeof t.architecture !== 'string' || !Number.isSafeInteger(t.epochs) || !Number.isSafeInteger(t.trainSamples)) throw bad('task is malformed');
  if (!Array.isArray(p.clients) || p.clients.length > 100_000) throw bad('clients must be a list');
  const clients = p.clients.map((c: Record<string, unknown>) => {
    if (typeof c !== 'object' || c === null || typeof c.client !== 'string' || !/^[0-9a-f]{12}$/.test(c.client) || !Number.isSafeInteger(c.commitment) || !Number.isSafeInteger(c.count) || !rates(c.agreement, k)) throw bad('a client entry is malformed');
    return { client: c.client, commitment: c.commitment as number, count: c.count as number, agreement: c.agreement as number[] };
  });
  return { schema: SCHEMA, models: k, seeds: p.seeds as number[], cleanAccuracy: p.cleanAccuracy as number[], task: { dataset: t.dataset, architecture: t.architecture, epochs: t.epochs as number, trainSamples: t.trainSamples as number }, backend: p.backend, clients, rule: RULE };
}
