// The `model.signed` ledger entries of src/signing: written only through appendRecord (records)
// with ownerRecordSigner(home) (the record type is src/records/types/model-signed.ts), and read back with the
// home's trust, so an entry an appender forged (unsigned, or signed by another key) names nothing.
import type { Ledger } from '../../ledger/index.js';
import { modelSigned, readRecords, MODEL_SIGNED, MODEL_SIGNED_SCHEMA, type ModelSignedRecord, type RecordProblem, type TrustedKeys, type Verified } from '../records/index.js';

export { MODEL_SIGNED as TYPE, MODEL_SIGNED_SCHEMA as SCHEMA, type ModelSignedRecord };

export interface ModelSignedFound {
  /** Entries naming the bundle whose schema and owner signature check out (oldest first). */
  readonly trusted: Verified<ModelSignedRecord>[];
  /** Entries that claim the bundle but fail the check: reported, never trusted. */
  readonly untrusted: RecordProblem[];
}

/** The model.signed entries naming a bundle digest, checked against the home's keys. */
export function findModelSigned(ledger: Ledger, bundleSha256: string, trust: TrustedKeys): ModelSignedFound {
  const { records, problems } = readRecords(ledger, modelSigned, { trust });
  const claims = (index: number): boolean => {
    const p = ledger.get(index).entry.payload as { bundle?: { sha256?: unknown } } | null;
    return typeof p === 'object' && p !== null && p.bundle?.sha256 === bundleSha256;
  };
  return { trusted: records.filter((r) => r.record.bundle.sha256 === bundleSha256), untrusted: problems.filter((p) => claims(p.index)) };
}
