// Verification of a suspected extracted copy with the guard's watermark sets. The suspect (a
// file or an endpoint, any verify Classifier) is asked for the class of every committed mark of
// a client; agreement with the wrong labels the guard gave is counted.
//
// Null hypothesis: the suspect was not trained on this client's answers. Each wrong label was
// drawn by the keyed HMAC uniformly from the C-1 classes other than the owner model's answer,
// independently of the suspect, so P[suspect answers it] = P[suspect != owner answer]/(C-1),
// which is at most 1/(C-1) whatever the suspect is. That bound is used without a calibration.
// With a guard.calibrated entry (K independently trained models queried with the same set):
//   chance = min(1/(C-1), max(max agreement, (1 - min clean accuracy)/(C-1)))
// (the error floor keeps a small calibration that saw no agreement from driving chance to 0).
// p = P[X >= matches], X ~ Binomial(n, chance), exactly; over m clients (marks tested) the
// decision is Bonferroni: owned iff m * min p < alpha.
import type { Ledger } from '../../ledger/index.js';
import { assessMatches, DEFAULT_ALPHA } from '../core/index.js';
import { readRecords, type TrustedKeys } from '../records/index.js';
import type { Classifier } from '../verify/index.js';
import { marksAsImages, type CommittedSet } from './committed-sets.js';
import { guardCalibrated } from './record-guard-calibrated.js';

export interface GuardNull {
  readonly index: number;
  readonly maxAgreement: number;
  readonly minAccuracy: number;
}

export interface GuardMarkResult {
  readonly client: string;
  readonly commitment: CommittedSet['commitment'];
  readonly n: number;
  readonly matches: number;
  readonly agreement: number;
  /** Marks the suspect answers as the owner model did (it learnt the task, not the mark). */
  readonly trueLabelAgreement: number;
  readonly classes: number;
  readonly chance: number;
  readonly nullSource: 'calibrated' | 'bound';
  readonly calibrationIndex?: number;
  readonly pValue: number;
  readonly log10PValue: number;
}

export interface GuardVerification {
  readonly source: string;
  readonly results: readonly GuardMarkResult[];
  readonly tests: number;
  readonly alpha: number;
  readonly log10FamilyPValue: number;
  readonly familyPValue: number;
  readonly owned: boolean;
  readonly decidedBy: string;
}

/** The latest trusted guard.calibrated figures for a client's committed set (same commitment and count). */
export function findGuardCalibration(ledger: Ledger, trust: TrustedKeys, set: CommittedSet): GuardNull | undefined {
  let found: GuardNull | undefined;
  for (const { index, record: p } of readRecords(ledger, guardCalibrated, { trust }).records) {
    const c = p.clients.find((x) => x.client === set.client && x.commitment === set.commitment.index && x.count === set.commitment.count);
    if (c) found = { index, maxAgreement: Math.max(...c.agreement), minAccuracy: Math.min(...p.cleanAccuracy) };
  }
  return found;
}

export function guardChance(classes: number, cal?: GuardNull): number {
  const bound = 1 / (classes - 1);
  if (!cal) return bound;
  return Math.min(bound, Math.max(cal.maxAgreement, (1 - cal.minAccuracy) / (classes - 1)));
}

/** `calibration`: where to look for guard.calibrated (trusted entries only); without it the 1/(C-1) bound. */
export async function verifyGuardMarks(o: { sets: readonly CommittedSet[]; classifier: Classifier; calibration?: { ledger: Ledger; trust: TrustedKeys }; alpha?: number }): Promise<GuardVerification> {
  const alpha = o.alpha ?? DEFAULT_ALPHA;
  const results: GuardMarkResult[] = [];
  for (const set of o.sets) {
    const { images, labels, answers, dims, classes } = marksAsImages(set.marks);
    const pred = await o.classifier.classify(images, labels.length, dims);
    let matches = 0;
    let same = 0;
    for (let i = 0; i < labels.length; i++) {
      if (pred[i] === labels[i]) matches++;
      if (pred[i] === answers[i]) same++;
    }
    const cal = o.calibration ? findGuardCalibration(o.calibration.ledger, o.calibration.trust, set) : undefined;
    const chance = guardChance(classes, cal);
    const a = assessMatches({ matches, trials: labels.length, chance });
    results.push({
      client: set.client, commitment: set.commitment, n: labels.length, matches, agreement: matches / labels.length, trueLabelAgreement: same / labels.length, classes, chance,
      nullSource: cal ? 'calibrated' : 'bound', ...(cal ? { calibrationIndex: cal.index } : {}), pValue: a.pValue, log10PValue: a.log10PValue,
    });
  }
  const best = results.reduce((a, b) => (b.log10PValue < a.log10PValue ? b : a));
  const m = results.length;
  const log10FamilyPValue = Math.min(0, best.log10PValue + Math.log10(m));
  return { source: o.classifier.description, results, tests: m, alpha, log10FamilyPValue, familyPValue: 10 ** log10FamilyPValue, owned: log10FamilyPValue < Math.log10(alpha), decidedBy: best.client };
}
