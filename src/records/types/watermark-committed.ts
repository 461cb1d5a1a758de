// `watermark.committed` (writer: owner), as the embedding code appends it before the
// marked model exists: a commitment to the watermark secret, never the secret. `commitment` is
// the digest of src/core/commitment.ts (SHA-256 of the canonical preimage of the opening).
import type { JsonObject } from '../../../ledger/index.js';
import { invalid as malformed } from '../errors.js';
import { checkSchema, isObj, only, type RecordType } from '../record-type.js';
import { isModelId, type ModelId } from '../resource.js';

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

export function readCommittedRecord(payload: unknown, where = 'watermark.committed'): CommittedRecord {
  const p = checkSchema(payload, WATERMARK_COMMITTED, COMMITTED_SCHEMA, where);
  only(p, ['schema', 'model', 'scheme', 'parameters', 'commitment', 'ownerKey'], where);
  if (!isModelId(p.model)) throw malformed(`${where} model is not a model id`);
  if (typeof p.scheme !== 'string' || !SCHEMES.includes(p.scheme)) throw malformed(`${where} scheme must be weight, trigger or both`);
  if (!isObj(p.parameters)) throw malformed(`${where} parameters is not an object`);
  if (typeof p.commitment !== 'string' || !HEX64.test(p.commitment)) throw malformed(`${where} commitment is not 64 hex digits`);
  if (typeof p.ownerKey !== 'string' || p.ownerKey.length === 0 || p.ownerKey.length > 500) throw malformed(`${where} ownerKey is not a verifier key string`);
  return p as unknown as CommittedRecord;
}

export const watermarkCommitted: RecordType<CommittedRecord> = {
  type: WATERMARK_COMMITTED,
  schema: COMMITTED_SCHEMA,
  writer: 'owner',
  decode: (p) => readCommittedRecord(p),
};
