// fingerprint.committed as src/fingerprint uses it. The schema lives in
// src/records/types/fingerprint-committed.ts (an owner-signed, protected record type); this file
// is its one writer (appendRecord, signed by the owner's key) and its trusted reader (readRecords /
// readRecordAt with the home's trust: an entry not signed by the owner is reported and ignored).
import type { Ledger } from '../../ledger/index.js';
import {
  appendRecord, fingerprintCommitted, readFingerprintCommitted, readFingerprintParameters, readRecordAt, readRecords, RecordError,
  FINGERPRINT_COMMITTED, FINGERPRINT_COMMITTED_SCHEMA,
  type FingerprintCommitted, type FingerprintParameters, type RecordProblem, type RecordSigner, type TrustedKeys,
} from '../records/index.js';
import { FingerprintError } from './errors.js';

export const TYPE = FINGERPRINT_COMMITTED;
export const SCHEMA = FINGERPRINT_COMMITTED_SCHEMA;
export type { FingerprintCommitted, FingerprintParameters };

/** A records error as the fingerprint's own: a newer schema is UNSUPPORTED, anything else BAD_INPUT. */
function asFingerprintError(err: unknown): unknown {
  if (!(err instanceof RecordError)) return err;
  return new FingerprintError(err.code === 'RECORD_UNSUPPORTED_VERSION' ? 'FINGERPRINT_UNSUPPORTED' : 'FINGERPRINT_BAD_INPUT', err.message, { cause: err });
}

function mapped<T>(f: () => T): T {
  try {
    return f();
  } catch (err) {
    throw asFingerprintError(err);
  }
}

export const decodeParameters = (p: unknown, where = 'parameters'): FingerprintParameters => mapped(() => readFingerprintParameters(p, where));

/** Strict decoder of an untrusted payload (no signature check: readers use readFingerprintCommitments). */
export const decodeFingerprintCommitted = (payload: unknown): FingerprintCommitted => mapped(() => readFingerprintCommitted(payload));

/** The one writer of fingerprint.committed: checked, signed by the owner's key, appended. */
export function appendFingerprintCommitted(ledger: Ledger, record: Omit<FingerprintCommitted, 'schema'>, signer: RecordSigner, actor = 'hallmark-fingerprint'): number {
  return mapped(() => appendRecord(ledger, fingerprintCommitted, { schema: SCHEMA, ...record }, signer, actor).index);
}

/** Every owner-signed fingerprint.committed entry; forged or malformed ones come back as problems. */
export function readFingerprintCommitments(ledger: Ledger, trust: TrustedKeys): { records: { index: number; record: FingerprintCommitted }[]; problems: RecordProblem[] } {
  const r = readRecords(ledger, fingerprintCommitted, { trust });
  return { records: r.records.map((v) => ({ index: v.index, record: v.record })), problems: r.problems };
}

/** The entry at `index`, verified (schema, owner signature); FingerprintError naming what is wrong. */
export function readFingerprintCommittedAt(ledger: Ledger, index: number, trust: TrustedKeys): FingerprintCommitted {
  try {
    return readRecordAt(ledger, index, fingerprintCommitted, trust).record;
  } catch (err) {
    if (err instanceof RecordError && err.code === 'RECORD_NOT_FOUND') throw new FingerprintError(/no entry/.test(err.message) ? 'FINGERPRINT_NOT_FOUND' : 'FINGERPRINT_BAD_INPUT', err.message, { cause: err });
    if (err instanceof RecordError && ['RECORD_UNSIGNED', 'RECORD_BAD_SIGNATURE', 'RECORD_UNTRUSTED_SIGNER'].includes(err.code)) {
      throw new FingerprintError('FINGERPRINT_FORGED', `${err.message}; the home's owner did not commit this fingerprint`, { cause: err });
    }
    throw asFingerprintError(err);
  }
}
