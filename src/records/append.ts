// The one way protected records enter a ledger: checked with the type's own strict decoder (the
// writer's mistakes are caught before they are permanent), signed, then appended.
import type { EntryInput, JsonObject, Ledger, StoredEntry } from '../../ledger/index.js';
import { RecordError } from './errors.js';
import { isSigned, type RecordType } from './record-type.js';
import { SIGNATURE_FIELD, signRecord, type RecordSigner } from './signature.js';

export interface RecordInput<T> {
  readonly type: RecordType<T>;
  readonly payload: T | JsonObject;
  readonly actor: string;
}

/** Builds the entry input: decoded strictly, signed when the type is signed. */
export function recordEntry<T>(rt: RecordType<T>, payload: T | JsonObject, actor: string, signer?: RecordSigner): EntryInput {
  const p = JSON.parse(JSON.stringify(payload)) as JsonObject;
  if (SIGNATURE_FIELD in p) throw new RecordError('RECORD_INVALID', `${rt.type} payload must not carry a signature field; appendRecord signs it`);
  rt.decode(p);
  if (!isSigned(rt)) return { type: rt.type, actor, payload: p };
  if (!signer) throw new RecordError('RECORD_UNSIGNED', `${rt.type} is signed by the ${rt.writer === 'owner' ? "owner's" : "owner's or a service"} key; no signer was given`);
  return { type: rt.type, actor, payload: { ...p, [SIGNATURE_FIELD]: signRecord(rt.type, actor, p, signer) as unknown as JsonObject } };
}

export function appendRecord<T>(ledger: Ledger, rt: RecordType<T>, payload: T | JsonObject, signer: RecordSigner | undefined, actor: string): StoredEntry {
  return ledger.append(recordEntry(rt, payload, actor, signer));
}

/** Several records in one transaction, at consecutive indices (e.g. model.registered + lineage.derived). */
export function appendRecords(ledger: Ledger, records: readonly RecordInput<unknown>[], signer?: RecordSigner): StoredEntry[] {
  return ledger.appendBatch(records.map((r) => recordEntry(r.type, r.payload, r.actor, signer)));
}
