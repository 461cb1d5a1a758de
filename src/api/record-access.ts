// access.recorded: who downloaded what, when (the schema: src/records/types/access-recorded.ts).
// Written only by appendAccess below, as the server serves the file; the actor is the calling key.
import type { Ledger, StoredEntry } from '../../ledger/index.js';
import { accessRecorded, appendRecord, readAccessRecord, ACCESS_RECORDED, ACCESS_RECORDED_SCHEMA, type AccessKind, type AccessRecord } from '../records/index.js';

export const TYPE = ACCESS_RECORDED;
export const SCHEMA = ACCESS_RECORDED_SCHEMA;
export type { AccessKind, AccessRecord };
export const decode = readAccessRecord;

/** Appends one access entry as `actor` (the calling key); the record is decoded before it is written. */
export function appendAccess(ledger: Ledger, actor: string, record: Omit<AccessRecord, 'schema'>): StoredEntry {
  return appendRecord(ledger, accessRecorded, { schema: SCHEMA, ...record }, undefined, actor);
}
