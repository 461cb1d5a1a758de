// The opening of the commitment a verification used, decrypted from the home's secret store
// (written there by embed under the id "watermark-<commitment digest>"). Only which secret to
// decrypt is read here; exportEvidence checks both records' signatures before using them.
import type { Ledger } from '../../ledger/index.js';
import { readCommittedRecord, readVerificationRecord, splitSignature, VERIFICATION_RECORDED, WATERMARK_COMMITTED } from '../records/index.js';
import { loadSecret } from '../secrets/index.js';
import { EvidenceError } from './errors.js';

export async function loadStoredOpening(ledger: Ledger, homeDir: string, verificationIndex: number, passphrase: string): Promise<unknown> {
  if (!Number.isSafeInteger(verificationIndex) || verificationIndex < 0 || verificationIndex >= ledger.size()) throw new EvidenceError('EVIDENCE_NOT_FOUND', `the ledger has no entry ${verificationIndex}`);
  const ve = ledger.get(verificationIndex);
  if (ve.entry.type !== VERIFICATION_RECORDED) throw new EvidenceError('EVIDENCE_NOT_FOUND', `entry ${ve.index} is a ${ve.entry.type}, not a verification.recorded entry`);
  const record = readChecked(() => readVerificationRecord(splitSignature(ve.entry.payload).body, `entry ${ve.index}`));
  if (record.commitment.index >= ledger.size()) throw new EvidenceError('EVIDENCE_NOT_FOUND', `entry ${ve.index} names commitment entry ${record.commitment.index}, which the ledger does not have`);
  const ce = ledger.get(record.commitment.index);
  if (ce.entry.type !== WATERMARK_COMMITTED) throw new EvidenceError('EVIDENCE_NOT_FOUND', `entry ${ce.index} is not watermark.committed`);
  const committed = readChecked(() => readCommittedRecord(splitSignature(ce.entry.payload).body, `entry ${ce.index}`));
  const bytes = await loadSecret(homeDir, `watermark-${committed.commitment}`, passphrase);
  try {
    return JSON.parse(Buffer.from(bytes).toString('utf8')) as unknown;
  } catch {
    throw new EvidenceError('EVIDENCE_INVALID', `the stored secret for entry ${ce.index} is not a JSON opening`);
  }
}

function readChecked<T>(read: () => T): T {
  try {
    return read();
  } catch (err) {
    throw new EvidenceError('EVIDENCE_INVALID', `cannot go into evidence: ${(err as Error).message}`, { cause: err });
  }
}
