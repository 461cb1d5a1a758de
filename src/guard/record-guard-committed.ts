// guard.committed: a per-client commitment to the guard's watermark set, appended on a schedule
// before any suspect is examined, so the set provably predates an accusation.
//   { schema: "hallmark/guard.committed/v1", client: API key id, count: marks in the set so far,
//     root: hex RFC 6962 Merkle root over the leaves of marks 0..count-1 (mark-journal.ts
//     markLeafBytes: salt, input digest, label; never the input), added: marks new since the
//     last commitment, period: { from, to } ISO times the new marks fall in }
// Signed by: the owner's key (the guard runs for the owner) once src/records lands.
import { GuardError } from './errors.js';

export const TYPE = 'guard.committed';
export const SCHEMA = 'hallmark/guard.committed/v1';

export interface GuardCommitted {
  readonly schema: typeof SCHEMA;
  readonly client: string;
  readonly count: number;
  readonly root: string;
  readonly added: number;
  readonly period: { readonly from: string; readonly to: string };
}

const TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;
const bad = (m: string) => new GuardError('GUARD_RECORD_INVALID', `guard.committed: ${m}`);

export function decodeGuardCommitted(payload: unknown): GuardCommitted {
  const p = payload as Record<string, unknown>;
  if (typeof p !== 'object' || p === null || Array.isArray(p)) throw bad('payload is not an object');
  const keys = Object.keys(p).sort().join(',');
  if (keys !== 'added,client,count,period,root,schema') throw bad(`unexpected fields (${keys.slice(0, 80)})`);
  if (p.schema !== SCHEMA) throw bad(`schema must be ${SCHEMA}`);
  if (typeof p.client !== 'string' || !/^[0-9a-f]{12}$/.test(p.client)) throw bad('client must be an API key id');
  if (!Number.isSafeInteger(p.count) || (p.count as number) < 1) throw bad('count must be a positive integer');
  if (!Number.isSafeInteger(p.added) || (p.added as number) < 1 || (p.added as number) > (p.count as number)) throw bad('added must be in [1, count]');
  if (typeof p.root !== 'string' || !/^[0-9a-f]{64}$/.test(p.root)) throw bad('root must be 64 hex digits');
  const per = p.period as Record<string, unknown>;
  if (typeof per !== 'object' || per === null || typeof per.from !== 'string' || typeof per.to !== 'string' || !TIME.test(per.from) || !TIME.test(per.to) || Object.keys(per).length !== 2) throw bad('period must be { from, to } ISO times');
  return { schema: SCHEMA, client: p.client, count: p.count as number, root: p.root, added: p.added as number, period: { from: per.from, to: per.to } };
}
