// Testing a suspect against a committed fingerprint, and the rule that makes it evidence.
//
// Statistic: the number of the n committed examples the suspect answers with their target class.
// Null: a model not derived from ours agrees with each example with some probability; there is no
// 1/C argument here (adversarial examples transfer to independent models too), so the rate is
// MEASURED on fresh reference models that took no part in generation (`hallmark calibrate
// --fingerprint`), and p = P[X >= matches], X ~ Binomial(n, max(1/C, highest measured rate)).
// Without a calibration the test refuses to run.
//
// After-the-fact accusation: anyone can craft adversarial examples that transfer to a model they
// already hold and then "prove" it is theirs. So a fingerprint counts only against suspects that
// first appeared in the ledger AFTER the commitment, and the commitment must be sealed by a
// signed checkpoint. A suspect appears when it is registered (model.registered), derived
// (lineage.derived names it) or verified (verification.recorded names its digest or URL).
import type { Ledger } from '../../ledger/index.js';
import { assessMatches, chanceRate } from '../core/index.js';
import { parseJsonBytes } from '../core/encoding.js';
import { LINEAGE_DERIVED, MODEL_REGISTERED, modelIdFor, scanEntries } from '../lineage/index.js';
import { loadSecret } from '../secrets/index.js';
import type { Classifier } from '../verify/classifier.js';
import type { FingerprintTest, FingerprintTestResult } from '../verify/fingerprint-test.js';
import { findFingerprintCalibration } from './calibrate-fingerprint.js';
import { FingerprintError } from './errors.js';
import { commitFingerprint, decodeFingerprintOpening, setImages, type FingerprintOpening } from './fingerprint-set.js';
import { readFingerprintCommitments, readFingerprintCommittedAt, TYPE, type FingerprintCommitted } from './record-committed.js';
import { homeTrust } from '../home/signer.js';
import type { RecordProblem, TrustedKeys } from '../records/index.js';
import { fingerprintSecretId } from './secret-file.js';

export interface LoadedFingerprint {
  readonly index: number;
  readonly record: FingerprintCommitted;
  readonly opening: FingerprintOpening;
  /** fingerprint.committed entries that are not valid owner-signed records (forged, malformed): ignored, reported. */
  readonly problems: RecordProblem[];
}

/** What loading a fingerprint needs of a home: its folder, ledger and owner key (service keys from config.json). */
export interface FingerprintHome {
  readonly dir: string;
  readonly ledger: Ledger;
  readonly ownerVerifierKey: string;
}

export const fingerprintTrust = (home: FingerprintHome): TrustedKeys => homeTrust({ paths: { dir: home.dir }, ownerVerifierKey: home.ownerVerifierKey });

/** The latest owner-signed fingerprint.committed entry, or the one at `index` (verified). */
export function findFingerprintCommitted(ledger: Ledger, trust: TrustedKeys, index?: number): { index: number; record: FingerprintCommitted; problems: RecordProblem[] } {
  if (index !== undefined) return { index, record: readFingerprintCommittedAt(ledger, index, trust), problems: [] };
  const { records, problems } = readFingerprintCommitments(ledger, trust);
  const last = records.at(-1);
  if (!last) {
    const forged = problems.length ? ` (${problems.length} entr${problems.length === 1 ? 'y is' : 'ies are'} not valid owner-signed commitments: ${problems.map((p) => p.index).join(', ')})` : '';
    throw new FingerprintError('FINGERPRINT_NOT_FOUND', `the ledger has no ${TYPE} entry of this owner${forged}: run hallmark fingerprint MODEL before release`);
  }
  return { ...last, problems };
}

/** Entry, sealing checkpoint, decrypted set, and the set's match with the commitment. */
export async function loadFingerprint(home: FingerprintHome, passphrase: string, index?: number): Promise<LoadedFingerprint> {
  const found = findFingerprintCommitted(home.ledger, fingerprintTrust(home), index);
  if (!home.ledger.checkpointCovering(found.index)) throw new FingerprintError('FINGERPRINT_UNSEALED', `no signed checkpoint covers ${TYPE} #${found.index}; a commitment that was never sealed proves nothing about when it was made`);
  const bytes = await loadSecret(home.dir, fingerprintSecretId(found.record.commitment), passphrase);
  const opening = decodeFingerprintOpening(parseJsonBytes(bytes, 'fingerprint secret', 1 << 20));
  if (commitFingerprint(opening) !== found.record.commitment) throw new FingerprintError('FINGERPRINT_TAMPERED', `the stored fingerprint set does not hash to the commitment of ${TYPE} #${found.index}`);
  return { ...found, opening };
}

/** Index of the first entry that names the suspect (by model digest or endpoint URL), if any. */
export function firstAppearance(ledger: Ledger, suspect: { sha256?: string; url?: string }): number | undefined {
  const id = suspect.sha256 ? modelIdFor(suspect.sha256) : undefined;
  let first: number | undefined;
  const seen = (i: number) => {
    if (first === undefined || i < first) first = i;
    return true;
  };
  if (id) {
    scanEntries(ledger, MODEL_REGISTERED, (e) => (e.entry.payload.id === id ? seen(e.index) : false));
    scanEntries(ledger, LINEAGE_DERIVED, (e) => (JSON.stringify(e.entry.payload).includes(id) ? seen(e.index) : false));
  }
  scanEntries(ledger, 'verification.recorded', (e) => {
    const s = e.entry.payload.suspect as { descriptor?: { digest?: { sha256?: unknown } }; url?: unknown } | undefined;
    if ((suspect.sha256 && s?.descriptor?.digest?.sha256 === suspect.sha256) || (suspect.url && s?.url === suspect.url)) return seen(e.index);
    return false;
  });
  return first;
}

/** Refuses a fingerprint committed after the suspect first appeared (the after-the-fact accusation). */
export function admitSuspect(ledger: Ledger, fp: { index: number; record: FingerprintCommitted }, suspect: { sha256?: string; url?: string }): void {
  // The fingerprinted model itself was registered just before its commitment; testing a copy of
  // it is testing the committed model, which is what the fingerprint is about.
  if (suspect.sha256 && modelIdFor(suspect.sha256) === fp.record.model) return;
  const first = firstAppearance(ledger, suspect);
  if (first !== undefined && first < fp.index) {
    throw new FingerprintError('FINGERPRINT_AFTER_SUSPECT', `the suspect first appears in the ledger at entry ${first}, before ${TYPE} #${fp.index}: a fingerprint made after a model was known cannot show that model derives from ours`);
  }
}

/** The binomial test of the suspect's answers (pure). */
export function assessFingerprint(fp: { index: number; record: FingerprintCommitted; opening: FingerprintOpening }, predictions: Int32Array, calibration: { index: number; rates: readonly number[] }): FingerprintTestResult {
  const { targets } = fp.opening.set;
  if (predictions.length !== targets.length) throw new RangeError(`expected ${targets.length} answers, got ${predictions.length}`);
  const matches = targets.reduce((s, t, i) => s + (predictions[i] === t ? 1 : 0), 0);
  const chance = chanceRate({ classes: fp.record.parameters.classes, calibratedNullRate: Math.max(...calibration.rates) });
  const a = assessMatches({ matches, trials: targets.length, chance });
  return {
    commitment: { index: fp.index, commitment: fp.record.commitment },
    n: targets.length, matches, classes: fp.record.parameters.classes, chanceRate: chance,
    nullDistribution: [...calibration.rates], calibration: calibration.index, pValue: a.pValue, log10PValue: a.log10PValue,
  };
}

/** Queries a classifier with the set. */
export async function classifyFingerprint(fp: LoadedFingerprint, classifier: Classifier): Promise<Int32Array> {
  const p = fp.opening.parameters;
  return classifier.classify(setImages(fp.opening.set), p.n, [p.height, p.width, p.channels]);
}

/** The FingerprintTest verify runs: loads, checks the calibration exists, admits, tests. */
export async function openFingerprintTest(home: FingerprintHome, passphrase: string, index?: number): Promise<FingerprintTest> {
  const fp = await loadFingerprint(home, passphrase, index);
  const calibration = findFingerprintCalibration(home.ledger, fp.index, fp.record.parameters.n, fingerprintTrust(home));
  if (!calibration) throw new FingerprintError('FINGERPRINT_NOT_FOUND', `no calibration for ${TYPE} #${fp.index}: run hallmark calibrate --fingerprint ${fp.index} (fresh reference models measure how often independent models answer the fingerprint's targets)`);
  return {
    committed: { index: fp.index, commitment: fp.record.commitment, model: fp.record.model, ownerKey: fp.record.ownerKey },
    problems: fp.problems,
    admit: (suspect) => admitSuspect(home.ledger, fp, suspect),
    run: async (classifier) => assessFingerprint(fp, await classifyFingerprint(fp, classifier), calibration),
  };
}
