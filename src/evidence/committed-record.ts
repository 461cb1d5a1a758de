// The payload of a `watermark.committed` entry, as the embedding code appends it before the
// marked model exists: a commitment to the watermark secret, never the secret.
//   commitment = hex SHA-256 of canonical JSON { scheme, parameters, secretDigest, salt }
import { sha256 } from '@noble/hashes/sha2.js';
import { canonicalJsonBytes, toHex, type JsonObject } from '../../ledger/index.js';
import { isModelId, type ModelId } from '../lineage/index.js';
import { EvidenceError, malformed } from './errors.js';

export const WATERMARK_COMMITTED = 'watermark.committed';
export const COMMITTED_SCHEMA = 'hallmark/watermark.committed/v1';

export type WatermarkScheme = 'weight' | 'trigger' | 'both';

export interface CommittedRecord {
  readonly schema: typeof COMMITTED_SCHEMA;
  /** The input model the marks were committed for. */
  readonly model: ModelId;
  readonly scheme: WatermarkScheme;
  readonly parameters: JsonObject;
  readonly commitment: string;
  readonly ownerKey: string;
}

/** What a commitment opens to; the secret material itself travels beside it. */
export interface CommitmentOpening {
  readonly scheme: WatermarkScheme;
  readonly parameters: JsonObject;
  /** hex SHA-256 of the secret material, as defined by src/core. */
  readonly secretDigest: string;
  /** hex, at least 16 bytes of OS randomness. */
  readonly salt: string;
}

const SCHEMES = ['weight', 'trigger', 'both'];
const HEX64 = /^[0-9a-f]{64}$/;

export function computeCommitment(o: CommitmentOpening): string {
  return toHex(sha256(canonicalJsonBytes({ scheme: o.scheme, parameters: o.parameters, secretDigest: o.secretDigest, salt: o.salt })));
}

function plainObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function readCommittedRecord(p: unknown, where = 'watermark.committed'): CommittedRecord {
  if (!plainObject(p)) throw malformed(`${where} payload is not an object`);
  if (p.schema !== COMMITTED_SCHEMA) {
    if (typeof p.schema === 'string' && p.schema.startsWith('hallmark/watermark.committed/')) throw new EvidenceError('EVIDENCE_UNSUPPORTED_VERSION', `${where} has schema "${p.schema.slice(0, 80)}"; this reader knows only "${COMMITTED_SCHEMA}" (upgrade hallmark)`);
    throw malformed(`${where} has no schema "${COMMITTED_SCHEMA}"`);
  }
  if (!isModelId(p.model)) throw malformed(`${where} model is not a model id`);
  if (typeof p.scheme !== 'string' || !SCHEMES.includes(p.scheme)) throw malformed(`${where} scheme must be weight, trigger or both`);
  if (!plainObject(p.parameters)) throw malformed(`${where} parameters is not an object`);
  if (typeof p.commitment !== 'string' || !HEX64.test(p.commitment)) throw malformed(`${where} commitment is not 64 hex digits`);
  if (typeof p.ownerKey !== 'string' || p.ownerKey.length > 500) throw malformed(`${where} ownerKey is not a verifier key string`);
  return p as unknown as CommittedRecord;
}

export function readCommitmentOpening(v: unknown, where = 'commitment opening'): CommitmentOpening {
  if (!plainObject(v)) throw malformed(`${where} is not an object`);
  const keys = Object.keys(v).sort().join();
  if (keys !== 'parameters,salt,scheme,secretDigest') throw malformed(`${where} must have exactly scheme, parameters, secretDigest and salt`);
  if (typeof v.scheme !== 'string' || !SCHEMES.includes(v.scheme)) throw malformed(`${where} scheme must be weight, trigger or both`);
  if (!plainObject(v.parameters)) throw malformed(`${where} parameters is not an object`);
  if (typeof v.secretDigest !== 'string' || !HEX64.test(v.secretDigest)) throw malformed(`${where} secretDigest is not 64 hex digits`);
  if (typeof v.salt !== 'string' || !/^([0-9a-f]{2}){16,64}$/.test(v.salt)) throw malformed(`${where} salt must be 16-64 bytes in hex`);
  return v as unknown as CommitmentOpening;
}
