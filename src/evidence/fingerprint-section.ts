// The fingerprint part of an evidence bundle (`evidence export` of a verification that tested a
// fingerprint): the fingerprint.committed and calibration.recorded entries (proven with the
// rest), the first signed checkpoint sealing the commitment with a consistency proof to the
// bundle's checkpoint, every entry that names the suspect (for the after-the-fact rule), and, when
// the owner reveals it for a dispute, the fingerprint's opening (set, recipes, salt) so that a
// third party can query the suspect with it. fingerprint-check.ts verifies all of it offline.
import type { JsonObject, Ledger, SignedCheckpoint } from '../../ledger/index.js';
import { scanEntries } from '../lineage/index.js';
import { modelIdFor } from '../records/resource.js';
import { calibrationRecorded, fingerprintCommitted, readRecordAt, RecordError, type TrustedKeys, type VerificationRecord } from '../records/index.js';
import { EvidenceError } from './errors.js';
import { namesSuspect } from './fingerprint-check.js';
import { proveConsistency } from './log-proofs.js';

export interface FingerprintSectionInput {
  readonly ledger: Ledger;
  readonly record: VerificationRecord;
  readonly verificationIndex: number;
  /** The bundle's checkpoint. */
  readonly cp: SignedCheckpoint;
  readonly trust: TrustedKeys;
  /** The decrypted fingerprint opening (its canonical JSON object) to reveal; omit to keep the set secret. */
  readonly opening?: unknown;
}

const invalid = (m: string, cause?: unknown) => new EvidenceError('EVIDENCE_INVALID', m, cause === undefined ? undefined : { cause });

function read<T>(f: () => T, what: string): T {
  try {
    return f();
  } catch (err) {
    if (err instanceof RecordError) throw invalid(`the ${what} cannot go into evidence: ${err.message}`, err);
    throw err;
  }
}

/** The predicate's `fingerprint` section and the entry indices it needs proven. */
export async function buildFingerprintSection(i: FingerprintSectionInput): Promise<{ section: JsonObject; indices: number[] }> {
  const f = i.record.fingerprint!;
  const fIndex = f.commitment.index;
  const committed = read(() => readRecordAt(i.ledger, fIndex, fingerprintCommitted, i.trust), 'fingerprint commitment').record;
  if (committed.commitment !== f.commitment.commitment) throw invalid(`verification entry ${i.verificationIndex} names another fingerprint digest than entry ${fIndex} holds`);
  const seal = i.ledger.checkpointCovering(fIndex);
  if (!seal || seal.size > i.verificationIndex) throw new EvidenceError('EVIDENCE_UNSEALED', `fingerprint entry ${fIndex} was not sealed by a signed checkpoint before verification entry ${i.verificationIndex}`);
  const cal = read(() => readRecordAt(i.ledger, f.calibration, calibrationRecorded, i.trust), 'fingerprint calibration');
  if (cal.record.commitment.index !== fIndex || !cal.record.fingerprint) throw invalid(`calibration entry ${f.calibration} is not a fingerprint calibration of entry ${fIndex}`);
  const appearances: number[] = [];
  for (const type of ['model.registered', 'lineage.derived', 'verification.recorded']) {
    scanEntries(i.ledger, type, (e) => {
      if (e.index < i.cp.size && e.index !== i.verificationIndex && namesSuspect(e.entry, i.record.suspect)) appearances.push(e.index);
    });
  }
  appearances.sort((a, b) => a - b);
  // A suspect byte-identical to the fingerprinted model is that model (as verify admits it).
  const self = i.record.suspect.kind === 'file' && modelIdFor(i.record.suspect.descriptor.digest.sha256) === committed.model;
  if (!self && appearances.length > 0 && appearances[0]! < fIndex) throw invalid(`the suspect appears at entry ${appearances[0]}, before fingerprint entry ${fIndex}: "evidence verify" refuses fingerprints committed after the fact`);
  const kept = appearances.slice(0, 1000);
  let opening: JsonObject | undefined;
  if (i.opening !== undefined) {
    const fs = await import('../fingerprint/fingerprint-set.js');
    let decoded;
    try {
      decoded = fs.decodeFingerprintOpening(i.opening);
    } catch (err) {
      throw invalid(`the fingerprint opening: ${(err as Error).message}`, err);
    }
    if (fs.commitFingerprint(decoded) !== committed.commitment) throw invalid(`the fingerprint opening does not open the commitment of entry ${fIndex} (wrong secret?)`);
    opening = JSON.parse(new TextDecoder().decode(fs.encodeFingerprintOpening(decoded))) as JsonObject;
  }
  return {
    section: {
      commitment: { index: fIndex },
      calibration: { index: f.calibration },
      checkpoint: seal.note,
      consistency: { ...proveConsistency(i.ledger, seal, i.cp) },
      appearances: kept,
      ...(opening ? { opening } : {}),
    },
    indices: [fIndex, f.calibration, ...kept],
  };
}
