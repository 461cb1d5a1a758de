// The `fingerprint.committed` entry (schema hallmark/fingerprint.committed/v1), appended before the
// model is released: a commitment to a secret fingerprint set, never the set.
//
//   { schema, model: ModelId (the fingerprinted model), commitment: <64 hex> (commitment.ts),
//     parameters: { n, classes, height, width, channels, norm: "linf", epsilon, steps, candidates,
//                   dataset: { name, sha256 } },
//     recipes: { surrogates: [{ sha256 }], references: [{ sha256 }] }   (recipes.ts, by digest),
//     ownerKey: the owner's verifier key string }
//
// Strict: unknown fields, out-of-range numbers and unknown schema versions are errors. The lead
// moves this file into src/records (RECORDS.md); `appendFingerprintCommitted` is the only writer.
import type { Ledger } from '../../ledger/index.js';
import { isModelId, type ModelId } from '../lineage/index.js';
import { FingerprintError } from './errors.js';

export const TYPE = 'fingerprint.committed';
export const SCHEMA = 'hallmark/fingerprint.committed/v1';

export interface FingerprintParameters {
  readonly n: number;
  readonly classes: number;
  readonly height: number;
  readonly width: number;
  readonly channels: number;
  readonly norm: 'linf';
  readonly epsilon: number;
  readonly steps: number;
  readonly candidates: number;
  readonly dataset: { readonly name: string; readonly sha256: string };
}

export interface FingerprintCommitted {
  readonly schema: typeof SCHEMA;
  readonly model: ModelId;
  readonly commitment: string;
  readonly parameters: FingerprintParameters;
  readonly recipes: { readonly surrogates: readonly { readonly sha256: string }[]; readonly references: readonly { readonly sha256: string }[] };
  readonly ownerKey: string;
}

type O = Record<string, unknown>;
const HEX64 = /^[0-9a-f]{64}$/;
const isObj = (v: unknown): v is O => typeof v === 'object' && v !== null && !Array.isArray(v);
const int = (v: unknown, lo: number, hi: number) => typeof v === 'number' && Number.isSafeInteger(v) && v >= lo && v <= hi;
const bad = (m: string) => new FingerprintError('FINGERPRINT_BAD_INPUT', `${TYPE}: ${m}`);

function only(o: O, keys: readonly string[], where: string): void {
  for (const k of Object.keys(o)) if (!keys.includes(k)) throw bad(`${where} has an unknown field "${k.slice(0, 40)}"`);
  for (const k of keys) if (!(k in o)) throw bad(`${where} lacks "${k}"`);
}

function digests(v: unknown, where: string): { sha256: string }[] {
  if (!Array.isArray(v) || v.length < 1 || v.length > 100) throw bad(`${where} must list 1 to 100 recipe digests`);
  return v.map((d, i) => {
    if (!isObj(d)) throw bad(`${where}[${i}] is not an object`);
    only(d, ['sha256'], `${where}[${i}]`);
    if (typeof d.sha256 !== 'string' || !HEX64.test(d.sha256)) throw bad(`${where}[${i}].sha256 is not 64 hex digits`);
    return { sha256: d.sha256 };
  });
}

export function decodeParameters(p: unknown, where = 'parameters'): FingerprintParameters {
  if (!isObj(p)) throw bad(`${where} is not an object`);
  only(p, ['n', 'classes', 'height', 'width', 'channels', 'norm', 'epsilon', 'steps', 'candidates', 'dataset'], where);
  if (!int(p.n, 1, 10_000) || !int(p.classes, 2, 1000) || !int(p.height, 1, 512) || !int(p.width, 1, 512) || !int(p.channels, 1, 4)) throw bad(`${where}: n, classes, height, width and channels must be small positive integers`);
  if (p.norm !== 'linf') throw bad(`${where}.norm must be "linf"`);
  if (typeof p.epsilon !== 'number' || !(p.epsilon > 0 && p.epsilon <= 1)) throw bad(`${where}.epsilon must be in (0, 1]`);
  if (!int(p.steps, 1, 100_000) || !int(p.candidates, 1, 1_000_000)) throw bad(`${where}: steps and candidates must be positive integers`);
  const d = p.dataset;
  if (!isObj(d)) throw bad(`${where}.dataset is not an object`);
  only(d, ['name', 'sha256'], `${where}.dataset`);
  if (typeof d.name !== 'string' || d.name.length === 0 || d.name.length > 200 || typeof d.sha256 !== 'string' || !HEX64.test(d.sha256)) throw bad(`${where}.dataset must be { name, sha256 }`);
  return p as unknown as FingerprintParameters;
}

/** Strict decoder of an untrusted payload. */
export function decodeFingerprintCommitted(payload: unknown): FingerprintCommitted {
  if (!isObj(payload)) throw bad('payload is not an object');
  if (payload.schema !== SCHEMA) {
    if (typeof payload.schema === 'string' && payload.schema.startsWith('hallmark/fingerprint.committed/')) throw new FingerprintError('FINGERPRINT_UNSUPPORTED', `${TYPE} has schema "${payload.schema.slice(0, 80)}"; this reader knows only "${SCHEMA}" (upgrade hallmark)`);
    throw bad(`no schema "${SCHEMA}"`);
  }
  only(payload, ['schema', 'model', 'commitment', 'parameters', 'recipes', 'ownerKey'], 'payload');
  if (!isModelId(payload.model)) throw bad('model is not a model id');
  if (typeof payload.commitment !== 'string' || !HEX64.test(payload.commitment)) throw bad('commitment is not 64 hex digits');
  decodeParameters(payload.parameters);
  const r = payload.recipes;
  if (!isObj(r)) throw bad('recipes is not an object');
  only(r, ['surrogates', 'references'], 'recipes');
  digests(r.surrogates, 'recipes.surrogates');
  digests(r.references, 'recipes.references');
  if (typeof payload.ownerKey !== 'string' || payload.ownerKey.length === 0 || payload.ownerKey.length > 500) throw bad('ownerKey is not a verifier key string');
  return payload as unknown as FingerprintCommitted;
}

/** The one writer of fingerprint.committed (RECORDS.md: the lead switches it to appendRecord, signed by the owner key). */
export function appendFingerprintCommitted(ledger: Ledger, record: Omit<FingerprintCommitted, 'schema'>, actor = 'hallmark-fingerprint'): number {
  const payload = { schema: SCHEMA, ...record };
  decodeFingerprintCommitted(payload); // our own output passes our reader
  return ledger.append({ type: TYPE, actor, payload: JSON.parse(JSON.stringify(payload)) }).index;
}
