// `guard.committed` (writer: service): a per-client commitment to the guard's watermark set,
// appended on a schedule before any suspect is examined, so the set provably predates an
// accusation (src/guard/commitments.ts writes it).
//   { schema: "hallmark/guard.committed/v1", client: API key id, count: marks in the set so far,
//     root: hex RFC 6962 Merkle root over the leaves of marks 0..count-1 (src/guard/mark-journal.ts
//     markLeafBytes: salt, input digest, label; never the input), added: marks new since the
//     last commitment, period: { from, to } ISO times the new marks fall in }
// Signed by the guard's own service key (derived from the guard secret, listed in the home's
// config.json serviceKeys at the guard's first start) or the owner's key.
import { invalid } from '../errors.js';
import { checkSchema, isHex64, isObj, only, type RecordType } from '../record-type.js';

export const GUARD_COMMITTED = 'guard.committed';
export const GUARD_COMMITTED_SCHEMA = 'hallmark/guard.committed/v1';

export interface GuardCommittedRecord {
  readonly schema: typeof GUARD_COMMITTED_SCHEMA;
  readonly client: string;
  readonly count: number;
  readonly root: string;
  readonly added: number;
  readonly period: { readonly from: string; readonly to: string };
}

export const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;
export const CLIENT_ID = /^[0-9a-f]{12}$/;

export function readGuardCommitted(payload: unknown, where = GUARD_COMMITTED): GuardCommittedRecord {
  const p = checkSchema(payload, GUARD_COMMITTED, GUARD_COMMITTED_SCHEMA, where);
  only(p, ['schema', 'client', 'count', 'root', 'added', 'period'], where);
  if (typeof p.client !== 'string' || !CLIENT_ID.test(p.client)) throw invalid(`${where}: client must be an API key id`);
  if (!Number.isSafeInteger(p.count) || (p.count as number) < 1) throw invalid(`${where}: count must be a positive integer`);
  if (!Number.isSafeInteger(p.added) || (p.added as number) < 1 || (p.added as number) > (p.count as number)) throw invalid(`${where}: added must be in [1, count]`);
  if (!isHex64(p.root)) throw invalid(`${where}: root must be 64 hex digits`);
  const per = p.period;
  if (!isObj(per) || Object.keys(per).sort().join() !== 'from,to' || typeof per.from !== 'string' || typeof per.to !== 'string' || !ISO_TIME.test(per.from) || !ISO_TIME.test(per.to)) {
    throw invalid(`${where}: period must be { from, to } ISO times`);
  }
  return { schema: GUARD_COMMITTED_SCHEMA, client: p.client, count: p.count as number, root: p.root, added: p.added as number, period: { from: per.from, to: per.to } };
}

export const guardCommitted: RecordType<GuardCommittedRecord> = {
  type: GUARD_COMMITTED,
  schema: GUARD_COMMITTED_SCHEMA,
  writer: 'service',
  decode: (p) => readGuardCommitted(p),
};
