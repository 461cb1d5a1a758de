// hallmark dispute: two ownership claims (evidence folders) on one suspect. Each claim is first
// verified on its own (verifyEvidence). Then the two questions a court asks:
//
//   1. Whose mark was there first? Each claimant committed to an INPUT model before marking it.
//      A's mark found in the model B started from means B marked A's (already marked) model;
//      B's mark absent from A's input means A did not start from B's. Re-marking, with or
//      without noise first, leaves exactly that asymmetry.
//   2. When? Each commitment's earliest independent time anchor: an RFC 3161 token over a
//      checkpoint that covers the commitment (ledger times are the claimant's own clock and
//      count for nothing here). Witness cosignatures will be a second kind of anchor (TimeAnchor).
//   3. Fingerprints (issue 13, dispute-fingerprints.ts): a claim's fingerprint of the suspect
//      counts only when it provably predates the other party's first appearance (the
//      after-the-fact rule across two ledgers) and its recomputed p-value is below alpha.
//
// The verdict names the prior claim only when the evidence points one way; conflicting or
// missing evidence is said so, with every number.
import type { CommitmentOpening } from '../core/index.js';
import { toHex } from '../../ledger/index.js';
import { EvidenceError } from './errors.js';
import { verifyEvidence, type EvidenceResult, type VerifyEvidenceOptions } from './evidence-verify.js';
import { fingerprintVerdict, weighFingerprint, type FingerprintWeight } from './dispute-fingerprints.js';

export interface TimeAnchor {
  readonly kind: 'rfc3161';
  /** The checkpoint size the anchor dates (it covers the commitment: size > commitment index). */
  readonly size: number;
  readonly time: string;
  readonly by: string;
  readonly chainVerified: boolean;
}

export interface MarkTest {
  /** Whose mark, looked for in whose committed input model. */
  readonly mark: 'A' | 'B';
  readonly inModelOf: 'A' | 'B';
  readonly model: string;
  readonly tests: { readonly name: 'weight' | 'trigger'; readonly detail: string; readonly log10PValue: number }[];
  readonly log10FamilyPValue: number;
  readonly found: boolean;
  readonly alpha: number;
}

export interface Claim {
  readonly label: 'A' | 'B';
  readonly dir: string;
  readonly owner: string;
  readonly committedModel: string;
  readonly commitmentIndex: number;
  readonly markedModel: string;
  readonly suspect: string;
  readonly anchor?: TimeAnchor;
  readonly evidence: EvidenceResult;
}

export interface DisputeResult {
  readonly a: Claim;
  readonly b: Claim;
  readonly sameSuspect: boolean;
  readonly tests: MarkTest[];
  readonly prior: 'A' | 'B' | null;
  readonly byMarks: 'A' | 'B' | null;
  readonly byTime: 'A' | 'B' | null;
  /** Each claim's fingerprint, weighed against the other party (absent for a claim without one). */
  readonly fingerprints: FingerprintWeight[];
  readonly byFingerprint: 'A' | 'B' | null;
  readonly reasons: string[];
}

export interface DisputeOptions {
  /** The committed input model files of A and B: what the marks are re-extracted from. */
  readonly models?: { readonly a?: string; readonly b?: string };
  readonly alpha?: number;
  readonly evidence?: { readonly a?: VerifyEvidenceOptions; readonly b?: VerifyEvidenceOptions };
  readonly tsaCaCerts?: VerifyEvidenceOptions['tsaCaCerts'];
}

const DEFAULT_ALPHA = 1e-6;

function anchorOf(r: EvidenceResult): TimeAnchor | undefined {
  const covering = r.timestamps.filter((t) => t.size > r.commitmentIndex).sort((x, y) => x.genTime.localeCompare(y.genTime));
  const t = covering[0];
  return t ? { kind: 'rfc3161', size: t.size, time: t.genTime, by: t.signer, chainVerified: t.chainVerified } : undefined;
}

function claimOf(label: 'A' | 'B', dir: string, r: EvidenceResult): Claim {
  const v = r.verification;
  const anchor = anchorOf(r);
  return {
    label, dir, owner: r.ownerKey, committedModel: r.committed.model, commitmentIndex: r.commitmentIndex, markedModel: r.model,
    suspect: v.suspect.kind === 'file' ? `sha256:${v.suspect.descriptor.digest.sha256}` : v.suspect.url, ...(anchor ? { anchor } : {}), evidence: r,
  };
}

/** Looks for one claimant's mark (from its revealed opening) in a model file. */
async function testMark(opening: CommitmentOpening, path: string, alpha: number): Promise<Omit<MarkTest, 'mark' | 'inModelOf' | 'model'>> {
  const { markKeysFromOpening } = await import('../verify/mark-secrets.js');
  const { decideOwnership } = await import('../verify/decision.js');
  const { readModelTensors, detectModelFormat } = await import('../formats/index.js');
  const keys = markKeysFromOpening(opening);
  const tests: MarkTest['tests'][number][] = [];
  const format = (await detectModelFormat(path)).format;
  if (keys.weight) {
    const { verifyWeightMark } = await import('../verify/white-box.js');
    const r = verifyWeightMark((await readModelTensors(path)).tensors, keys.weight);
    tests.push({ name: 'weight', detail: `${r.best.matches}/${r.bits} bits in ${r.best.tensor} (BER ${r.best.ber.toFixed(4)}), ${r.candidates} candidate(s), corrected p = ${r.correctedPValue.toExponential(3)}`, log10PValue: r.log10CorrectedPValue });
  }
  if (keys.trigger && format !== 'safetensors') {
    const { verifyTriggerMark } = await import('../verify/black-box.js');
    const { openLocalClassifier } = await import('../verify/local-classifiers.js');
    if (format === 'tfjs-layers') await (await import('../train/backend.js')).selectBackend('auto');
    const classifier = await openLocalClassifier(path);
    try {
      const r = await verifyTriggerMark(classifier, keys.trigger, undefined);
      tests.push({ name: 'trigger', detail: `${r.matches}/${r.n} triggers at chance ${r.chanceRate.toFixed(4)} (uniform null), p = ${r.pValue.toExponential(3)}`, log10PValue: r.log10PValue });
    } finally {
      await classifier.close();
    }
  }
  if (tests.length === 0) throw new EvidenceError('EVIDENCE_UNSUPPORTED', `no test of this mark can run on ${format} model files`);
  const d = decideOwnership(tests.map((t) => ({ name: t.name, log10PValue: t.log10PValue })), alpha);
  return { tests, log10FamilyPValue: d.log10FamilyPValue, found: d.owned, alpha };
}

async function checkModelFile(path: string, claim: Claim): Promise<void> {
  const { identifyModel } = await import('../lineage/index.js');
  const id = (await identifyModel(path)).id;
  if (id !== claim.committedModel) throw new EvidenceError('EVIDENCE_INVALID', `${path} is ${id}, not ${claim.committedModel}, the model claim ${claim.label} committed to`);
}

const fmtP = (log10: number) => (log10 > -4 ? (10 ** log10).toPrecision(3) : `10^${log10.toFixed(1)}`);

export async function settleDispute(dirA: string, dirB: string, o: DisputeOptions = {}): Promise<DisputeResult> {
  const alpha = o.alpha ?? DEFAULT_ALPHA;
  const ca = o.tsaCaCerts ? { tsaCaCerts: o.tsaCaCerts } : {};
  const a = claimOf('A', dirA, await verifyEvidence(dirA, { ...ca, ...o.evidence?.a }));
  const b = claimOf('B', dirB, await verifyEvidence(dirB, { ...ca, ...o.evidence?.b }));
  if (a.owner === b.owner && a.commitmentIndex === b.commitmentIndex && toHex(a.evidence.opening.salt) === toHex(b.evidence.opening.salt)) {
    throw new EvidenceError('EVIDENCE_INVALID', 'both folders hold the same claim; give two claims to compare');
  }
  const reasons: string[] = [];
  const sameSuspect = a.suspect === b.suspect;
  reasons.push(sameSuspect ? `both claims concern the same suspect (${a.suspect})` : `the claims concern different suspects (A: ${a.suspect}, B: ${b.suspect})`);

  const tests: MarkTest[] = [];
  for (const [mark, other, path] of [[a, b, o.models?.b], [b, a, o.models?.a]] as const) {
    if (!path) continue;
    await checkModelFile(path, other);
    tests.push({ mark: mark.label, inModelOf: other.label, model: other.committedModel, ...(await testMark(mark.evidence.opening, path, alpha)) });
  }
  const aInB = tests.find((t) => t.mark === 'A');
  const bInA = tests.find((t) => t.mark === 'B');
  let byMarks: 'A' | 'B' | null = null;
  if (!aInB || !bInA) {
    reasons.push(`marks not compared: give both committed input models (--models A_INPUT,B_INPUT; missing ${[!o.models?.a && "A's", !o.models?.b && "B's"].filter(Boolean).join(' and ')})`);
  } else {
    for (const t of [aInB, bInA]) reasons.push(`${t.mark}'s mark in ${t.inModelOf}'s committed input ${t.model}: ${t.found ? 'FOUND' : 'not found'} (family p = ${fmtP(t.log10FamilyPValue)} vs alpha ${alpha}; ${t.tests.map((x) => `${x.name}: ${x.detail}`).join('; ')})`);
    if (aInB.found && !bInA.found) byMarks = 'A';
    else if (bInA.found && !aInB.found) byMarks = 'B';
    if (byMarks) {
      const [p, q] = byMarks === 'A' ? ['A', 'B'] : ['B', 'A'];
      reasons.push(`marks: ${q} started from a model that already carried ${p}'s mark, and ${p}'s starting model does not carry ${q}'s: ${q} re-marked ${p}'s model`);
    } else {
      reasons.push(aInB.found ? "marks: each mark is in the other's starting model; the marks do not say who was first" : "marks: neither mark is in the other's starting model; the claims look independent, the marks do not say who was first");
    }
  }

  let byTime: 'A' | 'B' | null = null;
  for (const c of [a, b]) {
    reasons.push(c.anchor
      ? `time: ${c.label}'s commitment (entry ${c.commitmentIndex}) is covered by an RFC 3161 token of ${c.anchor.time} by ${c.anchor.by} over its log's checkpoint ${c.anchor.size}${c.anchor.chainVerified ? ' (chain verified)' : ' (TSA chain not checked: pass --tsa-ca)'}`
      : `time: ${c.label}'s commitment has no independent time anchor (no RFC 3161 token covers entry ${c.commitmentIndex}); its ledger time is the claimant's own clock`);
  }
  if (a.anchor && b.anchor && a.anchor.time !== b.anchor.time) {
    byTime = a.anchor.time < b.anchor.time ? 'A' : 'B';
    reasons.push(`time: ${byTime}'s commitment is anchored earlier (${(byTime === 'A' ? a : b).anchor!.time} < ${(byTime === 'A' ? b : a).anchor!.time})`);
  }

  const fingerprints = [weighFingerprint(a, b, alpha), weighFingerprint(b, a, alpha)].filter((w): w is FingerprintWeight => w !== undefined);
  for (const w of fingerprints) reasons.push(w.reason);
  const fv = fingerprintVerdict(fingerprints);
  if (fv.reason) reasons.push(fv.reason);
  const byFingerprint = fv.by;

  let prior: 'A' | 'B' | null = null;
  if (byFingerprint) {
    const votes = ([['marks', byMarks], ['time anchors', byTime], ['fingerprints', byFingerprint]] as const).filter((v) => v[1] !== null);
    const against = votes.filter((v) => v[1] !== byFingerprint);
    if (against.length > 0) {
      reasons.push(`CONFLICT: the fingerprints say ${byFingerprint} was first, the ${against.map((v) => `${v[0]} say ${v[1]}`).join(' and the ')}; not decided`);
    } else {
      prior = byFingerprint;
      const names = votes.map((v) => v[0]);
      reasons.push(`decided: claim ${prior} is prior (${names.length === 1 ? 'by the fingerprints alone' : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]} agree`})`);
    }
  } else if (byMarks && byTime && byMarks !== byTime) {
    reasons.push(`CONFLICT: the marks say ${byMarks} was first, the time anchors say ${byTime}; not decided`);
  } else if (byMarks || byTime) {
    prior = byMarks ?? byTime;
    reasons.push(`decided: claim ${prior} is prior${byMarks && byTime ? ' (marks and time anchors agree)' : byMarks ? ' (by the marks; no pair of independent time anchors to confirm it)' : ' (by the time anchors alone; the marks were not compared or do not separate the claims)'}`);
  } else {
    reasons.push('not decided: neither the marks nor independent time anchors separate the claims');
  }
  return { a, b, sameSuspect, tests, prior, byMarks, byTime, fingerprints, byFingerprint, reasons };
}

export function formatDispute(r: DisputeResult): string {
  const lines = [r.prior ? `PRIOR CLAIM: ${r.prior} (${r.prior === 'A' ? r.a.dir : r.b.dir})` : 'NOT DECIDED'];
  for (const c of [r.a, r.b]) lines.push(`  claim ${c.label}: ${c.dir}: owner ${c.owner.split('+').slice(0, 2).join('+')}, committed to ${c.committedModel} at entry ${c.commitmentIndex}, marked model ${c.markedModel}; evidence verified (${c.evidence.checks.length} checks)`);
  for (const reason of r.reasons) lines.push(`  - ${reason}`);
  return lines.join('\n');
}
