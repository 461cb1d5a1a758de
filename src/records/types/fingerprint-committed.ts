// `fingerprint.committed` (writer: owner): the commitment to a secret fingerprint set (src/fingerprint),
// appended before the model is released and sealed by a signed checkpoint.
//   { schema: "hallmark/fingerprint.committed/v1", model, commitment,
//     parameters: { n, classes, height, width, channels, norm: "linf", epsilon, steps, candidates,
//                   dataset: { name, sha256 } },
//     recipes: { surrogates: [{ sha256 }], references: [{ sha256 }] },   (the recipes, by digest)
//     ownerKey }
// Strict: unknown fields, out-of-range numbers and unknown schema versions are errors.
import { invalid } from '../errors.js';
import { checkSchema, isHex64, isObj, type RecordType } from '../record-type.js';
import { isModelId, type ModelId } from '../resource.js';

export const FINGERPRINT_COMMITTED = 'fingerprint.committed';
export const FINGERPRINT_COMMITTED_SCHEMA = 'hallmark/fingerprint.committed/v1';

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
  readonly schema: typeof FINGERPRINT_COMMITTED_SCHEMA;
  readonly model: ModelId;
  readonly commitment: string;
  readonly parameters: FingerprintParameters;
  readonly recipes: { readonly surrogates: readonly { readonly sha256: string }[]; readonly references: readonly { readonly sha256: string }[] };
  readonly ownerKey: string;
}

type O = Record<string, unknown>;
const int = (v: unknown, lo: number, hi: number) => typeof v === 'number' && Number.isSafeInteger(v) && v >= lo && v <= hi;

function exactly(o: O, keys: readonly string[], where: string): void {
  for (const k of Object.keys(o)) if (!keys.includes(k)) throw invalid(`${where} has an unknown field "${k.slice(0, 40)}"`);
  for (const k of keys) if (!(k in o)) throw invalid(`${where} lacks "${k}"`);
}

function digests(v: unknown, where: string): void {
  if (!Array.isArray(v) || v.length < 1 || v.length > 100) throw invalid(`${where} must list 1 to 100 recipe digests`);
  v.forEach((d, i) => {
    if (!isObj(d)) throw invalid(`${where}[${i}] is not an object`);
    exactly(d, ['sha256'], `${where}[${i}]`);
    if (!isHex64(d.sha256)) throw invalid(`${where}[${i}].sha256 is not 64 hex digits`);
  });
}

/** Strict decoder of the parameters (also part of the fingerprint's opening). RecordError RECORD_INVALID. */
export function readFingerprintParameters(p: unknown, where = 'parameters'): FingerprintParameters {
  if (!isObj(p)) throw invalid(`${where} is not an object`);
  exactly(p, ['n', 'classes', 'height', 'width', 'channels', 'norm', 'epsilon', 'steps', 'candidates', 'dataset'], where);
  if (!int(p.n, 1, 10_000) || !int(p.classes, 2, 1000) || !int(p.height, 1, 512) || !int(p.width, 1, 512) || !int(p.channels, 1, 4)) throw invalid(`${where}: n, classes, height, width and channels must be small positive integers`);
  if (p.norm !== 'linf') throw invalid(`${where}.norm must be "linf"`);
  if (typeof p.epsilon !== 'number' || !(p.epsilon > 0 && p.epsilon <= 1)) throw invalid(`${where}.epsilon must be in (0, 1]`);
  if (!int(p.steps, 1, 100_000) || !int(p.candidates, 1, 1_000_000)) throw invalid(`${where}: steps and candidates must be positive integers`);
  const d = p.dataset;
  if (!isObj(d)) throw invalid(`${where}.dataset is not an object`);
  exactly(d, ['name', 'sha256'], `${where}.dataset`);
  if (typeof d.name !== 'string' || d.name.length === 0 || d.name.length > 200 || !isHex64(d.sha256)) throw invalid(`${where}.dataset must be { name, sha256 }`);
  return p as unknown as FingerprintParameters;
}

export function readFingerprintCommitted(payload: unknown, where = FINGERPRINT_COMMITTED): FingerprintCommitted {
  const p = checkSchema(payload, FINGERPRINT_COMMITTED, FINGERPRINT_COMMITTED_SCHEMA, where);
  exactly(p, ['schema', 'model', 'commitment', 'parameters', 'recipes', 'ownerKey'], where);
  if (!isModelId(p.model)) throw invalid(`${where} model is not a model id`);
  if (!isHex64(p.commitment)) throw invalid(`${where} commitment is not 64 hex digits`);
  readFingerprintParameters(p.parameters, `${where}.parameters`);
  const r = p.recipes;
  if (!isObj(r)) throw invalid(`${where}.recipes is not an object`);
  exactly(r, ['surrogates', 'references'], `${where}.recipes`);
  digests(r.surrogates, `${where}.recipes.surrogates`);
  digests(r.references, `${where}.recipes.references`);
  if (typeof p.ownerKey !== 'string' || p.ownerKey.length === 0 || p.ownerKey.length > 500) throw invalid(`${where} ownerKey is not a verifier key string`);
  return p as unknown as FingerprintCommitted;
}

export const fingerprintCommitted: RecordType<FingerprintCommitted> = {
  type: FINGERPRINT_COMMITTED,
  schema: FINGERPRINT_COMMITTED_SCHEMA,
  writer: 'owner',
  decode: (p) => readFingerprintCommitted(p),
};
