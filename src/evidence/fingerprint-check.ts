// `evidence verify` for a fingerprint result (the predicate's `fingerprint` section, written by
// fingerprint-section.ts), offline and from the bundle alone:
//   - the fingerprint.committed entry is proven in the log, signed by the owner, and holds the
//     digest the verification names;
//   - a log-signed checkpoint covering it (consistent with the bundle's checkpoint) is older than
//     the verification: the commitment was sealed before the suspect was tested;
//   - after-the-fact rule: every proven entry that names the suspect (registration, derivation,
//     an earlier verification) comes after the commitment;
//   - the calibration entry is proven and signed, and the recorded chance rate and p-value follow
//     from its counts: chance = max(1/C, highest agreement), p = P[Binomial(n, chance) >= matches]
//     (statistics.ts, an implementation separate from the one verify used);
//   - when the bundle reveals the fingerprint set (a dispute), the opening hashes to the committed
//     digest, and with --suspect FILE the suspect is queried with it again and must give the
//     recorded number of matches.
import type { Entry, JsonValue } from '../../ledger/index.js';
import { canonicalJson } from '../../ledger/index.js';
import { modelIdFor } from '../records/resource.js';
import { calibrationRecorded, fingerprintCommitted, RecordError, verifyRecordEntry, type TrustedKeys, type VerificationRecord, type Verified } from '../records/index.js';
import { EvidenceError, failed } from './errors.js';
import { openLogCheckpoint, verifyCheckpointConsistency, type VerifiedCheckpoint, type VerifiedEntry } from './log-proofs.js';
import { binomialTail } from './statistics.js';
import { arr, int, obj } from './strict-json.js';

/** Relative tolerance between the recorded p-value and this file's independent recomputation. */
export const FINGERPRINT_P_TOLERANCE = 1e-6;
const MAX_APPEARANCES = 1000;

export interface FingerprintEvidence {
  readonly commitmentIndex: number;
  readonly sealedBy: number;
  readonly calibrationIndex: number;
  readonly n: number;
  readonly matches: number;
  readonly chanceRate: number;
  readonly pValue: number;
  readonly recomputedPValue: number;
  /** Proven entries naming the suspect (all after the commitment). */
  readonly appearances: number[];
  /** The set was revealed in the bundle and opens the commitment. */
  readonly revealed: boolean;
  /** Matches when the suspect file was queried again with the revealed set. */
  readonly requeried?: { readonly matches: number; readonly classifier: string };
}

type Suspect = VerificationRecord['suspect'];

/** Whether an entry names the suspect: its model id, its file digest, or its endpoint URL. */
export function namesSuspect(entry: Entry, suspect: Suspect): boolean {
  const p = entry.payload as Record<string, unknown>;
  if (suspect.kind === 'file') {
    const id = modelIdFor(suspect.descriptor.digest.sha256);
    if (entry.type === 'model.registered') return p.id === id;
    if (entry.type === 'lineage.derived') return JSON.stringify(p).includes(id);
  }
  if (entry.type !== 'verification.recorded') return false;
  const s = p.suspect as { descriptor?: { digest?: { sha256?: unknown } }; url?: unknown } | undefined;
  return suspect.kind === 'file' ? s?.descriptor?.digest?.sha256 === suspect.descriptor.digest.sha256 : s?.url === suspect.url;
}

/** A record entry verified against the trusted keys; a bad one is EVIDENCE_VERIFY_FAILED naming its type. */
export function signed<T>(entry: Entry, rt: Parameters<typeof verifyRecordEntry<T>>[1], trust: TrustedKeys): Verified<T> {
  try {
    return verifyRecordEntry(entry, rt, trust);
  } catch (err) {
    if (err instanceof RecordError) throw failed(`${rt.type} ${err.message}`, err);
    throw err;
  }
}

const close = (a: number, b: number) => a === b || Math.abs(a - b) <= FINGERPRINT_P_TOLERANCE * Math.max(Math.abs(a), Math.abs(b));

/** The entry indices a fingerprint section names (read leniently; checkFingerprintSection checks them). */
export function fingerprintSectionIndices(section: unknown): number[] {
  if (typeof section !== 'object' || section === null) return [];
  const s = section as { commitment?: { index?: unknown }; calibration?: { index?: unknown }; appearances?: unknown };
  const all = [s.commitment?.index, s.calibration?.index, ...(Array.isArray(s.appearances) ? s.appearances.slice(0, MAX_APPEARANCES) : [])];
  return all.filter((i): i is number => typeof i === 'number' && Number.isSafeInteger(i));
}

export interface FingerprintCheckContext {
  readonly entries: readonly VerifiedEntry[];
  readonly cp: VerifiedCheckpoint;
  readonly logKey: string;
  readonly ownerKey: string;
  readonly trust: TrustedKeys;
  readonly record: VerificationRecord;
  readonly verificationIndex: number;
  readonly suspectPath?: string;
}

export async function checkFingerprintSection(section: unknown, c: FingerprintCheckContext): Promise<{ result: FingerprintEvidence; checks: string[] } | undefined> {
  const f = c.record.fingerprint;
  if (!f && section === undefined) return undefined;
  if (!f) throw failed('the bundle carries a fingerprint section but the verification has no fingerprint result');
  if (section === undefined) throw failed('the verification has a fingerprint result but the bundle carries no fingerprint section to prove it');
  const checks: string[] = [];
  const s = obj(section, 'predicate.fingerprint', ['commitment', 'calibration', 'checkpoint', 'consistency', 'appearances'], ['opening']);
  const entry = (i: number, what: string) => {
    const e = c.entries.find((x) => x.index === i);
    if (!e) throw failed(`entry ${i} (${what}) is not among the proven entries`);
    return e;
  };
  const fIndex = int(obj(s.commitment, 'predicate.fingerprint.commitment', ['index']).index, 'fingerprint commitment index');
  if (fIndex !== f.commitment.index) throw failed(`the verification tested fingerprint entry ${f.commitment.index}, the bundle proves entry ${fIndex}`);
  const committed = signed(entry(fIndex, 'the fingerprint commitment').entry, fingerprintCommitted, c.trust).record;
  if (committed.commitment !== f.commitment.commitment) throw failed(`the verification names fingerprint commitment ${f.commitment.commitment.slice(0, 16)}…, entry ${fIndex} holds another`);
  if (committed.ownerKey !== c.ownerKey) throw failed(`fingerprint entry ${fIndex} was made by another owner key`);
  checks.push(`fingerprint commitment entry ${fIndex} proven and signed by the owner`);

  const seal = openLogCheckpoint(s.checkpoint, c.logKey, 'fingerprint-sealing checkpoint');
  verifyCheckpointConsistency(s.consistency, seal, c.cp, 'fingerprint consistency proof');
  if (!(fIndex < seal.size)) throw failed(`the fingerprint-sealing checkpoint (size ${seal.size}) does not cover entry ${fIndex}`);
  if (!(seal.size <= c.verificationIndex)) throw failed(`the fingerprint was not sealed before the verification: checkpoint size ${seal.size} > verification entry ${c.verificationIndex}`);
  checks.push(`fingerprint sealed by checkpoint ${seal.size} (consistent with ${c.cp.size}), before verification entry ${c.verificationIndex}`);

  const listed = arr(s.appearances, 'predicate.fingerprint.appearances', MAX_APPEARANCES).map((v, i) => int(v, `appearance ${i + 1}`));
  for (const i of listed) if (!namesSuspect(entry(i, 'a suspect appearance').entry, c.record.suspect)) throw failed(`entry ${i} is listed as an appearance of the suspect but does not name it`);
  const appearances = c.entries.filter((e) => e.index !== c.verificationIndex && namesSuspect(e.entry, c.record.suspect)).map((e) => e.index);
  const self = c.record.suspect.kind === 'file' && modelIdFor(c.record.suspect.descriptor.digest.sha256) === committed.model;
  const early = appearances.filter((i) => i < fIndex);
  if (self) checks.push(`the suspect is the fingerprinted model itself (${committed.model}); the after-the-fact rule does not apply`);
  else if (early.length > 0) throw failed(`after the fact: the suspect appears at entry ${early[0]}, before fingerprint entry ${fIndex}; a fingerprint made after a model was known cannot show that model derives from the owner's`);
  if (!self) checks.push(`after-the-fact rule: ${appearances.length ? `the suspect's ${appearances.length} proven appearance(s) (${appearances.slice(0, 5).join(', ')}) come after` : 'no proven entry names the suspect before'} fingerprint entry ${fIndex}`);

  const calIndex = int(obj(s.calibration, 'predicate.fingerprint.calibration', ['index']).index, 'calibration index');
  if (calIndex !== f.calibration) throw failed(`the verification used calibration entry ${f.calibration}, the bundle proves entry ${calIndex}`);
  const cal = signed(entry(calIndex, 'the fingerprint calibration').entry, calibrationRecorded, c.trust).record;
  if (cal.commitment.index !== fIndex || cal.commitment.commitment !== committed.commitment || !cal.fingerprint) throw failed(`calibration entry ${calIndex} is not a fingerprint calibration of entry ${fIndex}`);
  if (cal.fingerprint.n !== f.n || canonicalJson(cal.fingerprint.agreement as unknown as JsonValue) !== canonicalJson(f.nullDistribution as unknown as JsonValue)) throw failed(`the verification's null distribution is not calibration entry ${calIndex}'s`);
  const chance = Math.max(1 / f.classes, Math.max(...cal.fingerprint.agreement));
  if (!close(chance, f.chanceRate)) throw failed(`recorded chance rate ${f.chanceRate} is not max(1/C, highest calibrated agreement) = ${chance}`);
  if (!(Number.isSafeInteger(f.matches) && f.matches >= 0 && f.matches <= f.n) || committed.parameters.n !== f.n || committed.parameters.classes !== f.classes) throw failed('the recorded fingerprint counts do not fit the committed parameters');
  const p = binomialTail(f.n, chance, f.matches);
  if (!close(p, f.pValue)) throw failed(`recorded fingerprint p-value ${f.pValue} differs from P[Binomial(${f.n}, ${chance}) >= ${f.matches}] = ${p}`);
  checks.push(`fingerprint p-value recomputed from the counts: ${f.matches}/${f.n} against chance ${chance} (calibration entry ${calIndex}, ${cal.fingerprint.agreement.length} fresh references): p = ${p.toExponential(3)}`);

  let revealed = false;
  let requeried: FingerprintEvidence['requeried'];
  if (s.opening !== undefined) {
    const fs = await import('../fingerprint/fingerprint-set.js');
    let opening;
    try {
      opening = fs.decodeFingerprintOpening(s.opening);
    } catch (err) {
      throw failed(`the revealed fingerprint opening: ${(err as Error).message}`, err);
    }
    if (fs.commitFingerprint(opening) !== committed.commitment) throw failed(`the revealed fingerprint set does not open the commitment of entry ${fIndex}`);
    revealed = true;
    checks.push(`revealed fingerprint set (${opening.parameters.n} examples, ${opening.recipes.surrogates.length} surrogate and ${opening.recipes.references.length} reference recipes) opens the commitment`);
    if (c.suspectPath !== undefined) {
      const { openLocalClassifier } = await import('../verify/local-classifiers.js');
      const classifier = await openLocalClassifier(c.suspectPath);
      try {
        const pr = opening.parameters;
        const answers = await classifier.classify(fs.setImages(opening.set), pr.n, [pr.height, pr.width, pr.channels]);
        const matches = opening.set.targets.reduce((n, t, i) => n + (answers[i] === t ? 1 : 0), 0);
        requeried = { matches, classifier: classifier.description };
        if (matches !== f.matches) throw new EvidenceError('EVIDENCE_MISMATCH', `re-querying the suspect with the revealed fingerprint gave ${matches}/${f.n} matches; the record says ${f.matches}`);
        checks.push(`suspect re-queried with the revealed fingerprint (${classifier.description}): ${matches}/${f.n} matches, as recorded`);
      } finally {
        await classifier.close();
      }
    }
  }
  return {
    checks,
    result: { commitmentIndex: fIndex, sealedBy: seal.size, calibrationIndex: calIndex, n: f.n, matches: f.matches, chanceRate: f.chanceRate, pValue: f.pValue, recomputedPValue: p, appearances, revealed, ...(requeried ? { requeried } : {}) },
  };
}

