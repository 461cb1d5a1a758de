// The payload of a `watermark.committed` entry, as the embedding code appends it before the
// marked model exists: a commitment to the watermark secret, never the secret. `commitment` is
// the digest of src/core/commitment.ts (SHA-256 of the canonical preimage of the opening).
import type { JsonObject } from '../../ledger/index.js';
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

const SCHEMES = ['weight', 'trigger', 'both'];
const HEX64 = /^[0-9a-f]{64}$/;

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

