// Fingerprints in `hallmark dispute` (issue 13). A fingerprint claim says "the suspect answers
// like models derived from mine". Anyone can craft such a set AFTER seeing a model (adversarial
// examples transfer to the model they were crafted on), so a claim counts against the other party
// only when its commitment provably predates that party:
//
//   - its bundle already proved (evidence verify, fingerprint-check.ts) that the fingerprint was
//     sealed by a log-signed checkpoint before the claimant's verification, that every proven
//     appearance of the suspect in the claimant's own ledger comes after it, that the calibration
//     is owner-signed, and that the p-value recomputes from the counts (statistics.ts);
//   - it came before the OTHER party's first appearance: the first entry of the other bundle that
//     names the suspect or one of the other party's models (committed input, marked model,
//     fingerprinted model). Within one log (same log key) the entry order decides; across two
//     logs, ledger order and ledger times are each claimant's own and compare to nothing, so both
//     must be dated by RFC 3161 tokens (the earliest token whose checkpoint covers the entry), and
//     the fingerprint's date must be strictly earlier. Undated means not credited, and so does a
//     fingerprint date whose TSA chain was not checked against a CA the verifier gave (--tsa-ca);
//   - its recomputed p-value is below the dispute's alpha.
//
// A credited fingerprint points to its claimant as prior: the suspect derives from a model the
// claimant committed to before the other party's model or the suspect was known. Two credited
// fingerprints cannot both be earlier than each other's party; if the dates cannot separate them
// neither is credited.
import { modelIdFor } from '../records/resource.js';
import type { EvidenceResult } from './evidence-verify.js';
import type { FingerprintEvidence } from './fingerprint-check.js';
import { namesSuspect } from './fingerprint-check.js';

export interface FingerprintDate {
  /** 'log': both claims are in one log, compared by entry index; 'rfc3161': an independent time anchor. */
  readonly kind: 'log' | 'rfc3161';
  readonly index: number;
  readonly time?: string;
  readonly by?: string;
}

export interface FingerprintWeight {
  readonly label: 'A' | 'B';
  readonly commitmentIndex: number;
  readonly sealedBy: number;
  readonly matches: number;
  readonly n: number;
  readonly pValue: number;
  readonly significant: boolean;
  /** When the fingerprint was committed, and when the other party first appears. */
  readonly committedAt?: FingerprintDate;
  readonly otherFirstAppearance?: FingerprintDate;
  readonly beforeOther: boolean;
  readonly credited: boolean;
  readonly reason: string;
}

interface Party {
  readonly label: 'A' | 'B';
  readonly suspect: string;
  readonly committedModel: string;
  readonly markedModel: string;
  readonly evidence: EvidenceResult;
}

const fmtP = (p: number) => (p >= 1e-4 ? p.toPrecision(3) : p.toExponential(2));

/** The fingerprinted model of a bundle's fingerprint (from its proven, owner-signed entry). */
function fingerprintModel(e: EvidenceResult, f: FingerprintEvidence): string | undefined {
  const m = (e.proven.find((x) => x.index === f.commitmentIndex)?.entry.payload as { model?: unknown } | undefined)?.model;
  return typeof m === 'string' ? m : undefined;
}

/** The first proven entry of a party's bundle naming the suspect or one of its models. */
export function partyFirstAppearance(p: Party): number | undefined {
  const e = p.evidence;
  const models = [p.committedModel, p.markedModel, e.fingerprint && fingerprintModel(e, e.fingerprint)].filter((m): m is string => typeof m === 'string');
  const suspect = e.verification.suspect;
  if (suspect.kind === 'file') models.push(modelIdFor(suspect.descriptor.digest.sha256));
  const hit = e.proven.find((x) => {
    if (namesSuspect(x.entry, suspect)) return true;
    const text = JSON.stringify(x.entry.payload);
    return models.some((m) => text.includes(m));
  });
  return hit?.index;
}

/**
 * The earliest RFC 3161 token of a bundle whose checkpoint covers `index`. `trusted`: only tokens
 * whose chain was verified against the CA the caller gave (--tsa-ca). The fingerprint's own date
 * must be trusted (a claimant's own TSA could backdate it); the other party's may be any token with
 * a valid signature (an earlier date there can only withhold credit).
 */
function dated(e: EvidenceResult, index: number, trusted: boolean): FingerprintDate | undefined {
  const t = e.timestamps.filter((x) => x.size > index && (!trusted || x.chainVerified)).sort((x, y) => x.genTime.localeCompare(y.genTime))[0];
  return t ? { kind: 'rfc3161', index, time: t.genTime, by: t.signer } : undefined;
}

/** Whether `x`'s fingerprint provably predates `y`'s first appearance, and the line that says why. */
function order(x: Party, y: Party, f: FingerprintEvidence): Pick<FingerprintWeight, 'committedAt' | 'otherFirstAppearance' | 'beforeOther'> & { why: string } {
  const first = partyFirstAppearance(y);
  if (first === undefined) return { beforeOther: false, why: `${y.label}'s bundle proves no entry naming the suspect or its models to compare with` };
  const firstName = `${first}, ${y.evidence.proven.find((e) => e.index === first)!.entry.type}`;
  if (x.evidence.logKey === y.evidence.logKey) {
    const committedAt: FingerprintDate = { kind: 'log', index: f.commitmentIndex };
    const otherFirstAppearance: FingerprintDate = { kind: 'log', index: first };
    const before = f.commitmentIndex < first;
    return { committedAt, otherFirstAppearance, beforeOther: before, why: `both claims are in one log: fingerprint entry ${f.commitmentIndex} ${before ? 'comes before' : 'comes after'} ${y.label}'s first appearance at entry ${firstName}` };
  }
  const committedAt = dated(x.evidence, f.commitmentIndex, true);
  const otherFirstAppearance = dated(y.evidence, first, false);
  const both = { ...(committedAt ? { committedAt } : {}), ...(otherFirstAppearance ? { otherFirstAppearance } : {}) };
  if (!committedAt) {
    const unchecked = dated(x.evidence, f.commitmentIndex, false);
    return { ...both, beforeOther: false, why: unchecked
      ? `the RFC 3161 token dating the fingerprint commitment (${unchecked.time}, ${unchecked.by}) was not checked against a trusted CA: pass --tsa-ca`
      : `no RFC 3161 token dates the fingerprint commitment (entry ${f.commitmentIndex}); one ledger's order says nothing about ${y.label}'s ledger` };
  }
  if (!otherFirstAppearance) return { ...both, beforeOther: false, why: `${y.label}'s first appearance (its entry ${firstName}) has no RFC 3161 token, so the fingerprint (dated ${committedAt.time}) cannot be shown to predate it` };
  const before = committedAt.time! < otherFirstAppearance.time!;
  return {
    ...both, beforeOther: before,
    why: before
      ? `committed by ${committedAt.time} (RFC 3161, ${committedAt.by}), before ${y.label}'s first appearance (its entry ${firstName}, dated ${otherFirstAppearance.time})`
      : `AFTER THE FACT: dated ${committedAt.time}, not before ${y.label}'s first appearance (its entry ${firstName}, dated ${otherFirstAppearance.time}); a fingerprint crafted once a model is known proves nothing about it`,
  };
}

/** Weighs `x`'s fingerprint claim (if its bundle has one) against party `y`. */
export function weighFingerprint(x: Party, y: Party, alpha: number): FingerprintWeight | undefined {
  const f = x.evidence.fingerprint;
  if (!f) return undefined;
  const p = f.recomputedPValue;
  const significant = p < alpha;
  const base = { label: x.label, commitmentIndex: f.commitmentIndex, sealedBy: f.sealedBy, matches: f.matches, n: f.n, pValue: p, significant };
  const stats = `${f.matches}/${f.n} at chance ${f.chanceRate}, recomputed p = ${fmtP(p)} ${significant ? '<' : '>='} alpha ${alpha}`;
  if (x.suspect !== y.suspect) return { ...base, beforeOther: false, credited: false, reason: `fingerprint: ${x.label}'s fingerprint (entry ${f.commitmentIndex}) is not weighed: the claims concern different suspects` };
  const o = order(x, y, f);
  const { why, ...dates } = o;
  const credited = o.beforeOther && significant;
  const verdict = credited ? 'CREDITED' : 'not credited';
  return { ...base, ...dates, credited, reason: `fingerprint: ${x.label}'s fingerprint (entry ${f.commitmentIndex}, sealed by checkpoint ${f.sealedBy}; ${stats}): ${verdict}: ${why}${o.beforeOther && !significant ? '; but the suspect does not answer it significantly' : ''}` };
}

/** Which claim the fingerprints point to, with the line that says so (null when none or both). */
export function fingerprintVerdict(ws: readonly FingerprintWeight[]): { by: 'A' | 'B' | null; reason?: string } {
  const credited = ws.filter((w) => w.credited);
  if (credited.length === 1) {
    const w = credited[0]!;
    const other = w.label === 'A' ? 'B' : 'A';
    const rival = ws.find((v) => v.label === other);
    return { by: w.label, reason: `fingerprints: the suspect answers ${w.label}'s fingerprint, committed before ${other} appeared${rival ? `; ${other}'s own fingerprint is not credited (${rival.beforeOther ? 'not significant' : 'not earlier than ' + w.label})` : ''}: ${w.label} is prior` };
  }
  if (credited.length === 2) return { by: null, reason: 'fingerprints: both fingerprints are credited by their dates; they do not separate the claims' };
  return ws.length ? { by: null, reason: 'fingerprints: no fingerprint is credited; they do not separate the claims' } : { by: null };
}
