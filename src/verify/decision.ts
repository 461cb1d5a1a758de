// The ownership decision over the tests that ran. Each test gives a p-value (the weight mark's
// already Bonferroni-corrected over its candidate tensors); running two tests and claiming
// ownership if either passes is multiple testing again, so the family is corrected once more:
//
//   owned  iff  m * min_i p_i < alpha,   m = number of tests run (1 or 2)
//
// which keeps the chance of accusing an innocent model below alpha (Bonferroni: P[any p_i <
// alpha/m] <= sum_i alpha/m = alpha), whatever the dependence between the tests.
import { DEFAULT_ALPHA } from '../core/index.js';

export interface TestOutcome {
  readonly name: 'weight' | 'trigger' | 'fingerprint';
  /** log10 of the p-value the test contributes (for the weight mark: after its own correction). */
  readonly log10PValue: number;
}

export interface OwnershipDecision {
  readonly owned: boolean;
  readonly alpha: number;
  readonly tests: number;
  /** min(1, m * min p): the number compared with alpha. */
  readonly familyPValue: number;
  readonly log10FamilyPValue: number;
  /** The test whose p-value decided. */
  readonly decidedBy: 'weight' | 'trigger' | 'fingerprint';
  /** One sentence saying why. */
  readonly reason: string;
}

export function checkAlpha(alpha: number): number {
  if (typeof alpha !== 'number' || !(alpha > 0 && alpha < 1)) throw new RangeError(`alpha must be a number in (0, 1), got ${alpha}`);
  return alpha;
}

const fmt = (log10: number) => (log10 > -4 ? (10 ** log10).toPrecision(3) : log10 > -300 ? (10 ** log10).toExponential(2) : `10^${log10.toFixed(1)}`);

/**
 * `family` (default: the outcomes given) is the number of tests run in all: when verify tries
 * every live commitment of the owner, each commitment's tests count, and m is their total.
 */
export function decideOwnership(outcomes: readonly TestOutcome[], alpha = DEFAULT_ALPHA, family?: { tests: number; commitments: number }): OwnershipDecision {
  checkAlpha(alpha);
  if (outcomes.length === 0) throw new RangeError('decideOwnership needs at least one test outcome');
  if (family && (!Number.isSafeInteger(family.tests) || family.tests < outcomes.length || !Number.isSafeInteger(family.commitments) || family.commitments < 1)) throw new RangeError('family.tests must count at least the outcomes given, family.commitments at least 1');
  const best = outcomes.reduce((a, b) => (b.log10PValue < a.log10PValue ? b : a));
  const m = family?.tests ?? outcomes.length;
  const log10FamilyPValue = Math.min(0, best.log10PValue + Math.log10(m));
  const owned = log10FamilyPValue < Math.log10(alpha);
  const over = family && family.commitments > 1 ? ` over ${family.commitments} commitments` : '';
  const corr = m > 1 ? ` x ${m} tests${over} (Bonferroni)` : '';
  const reason = owned
    ? `the ${best.name} mark's p-value ${fmt(best.log10PValue)}${corr} = ${fmt(log10FamilyPValue)} is below alpha = ${alpha}`
    : `the smallest p-value, ${best.name} ${fmt(best.log10PValue)}${corr} = ${fmt(log10FamilyPValue)}, is not below alpha = ${alpha}`;
  return { owned, alpha, tests: m, familyPValue: 10 ** log10FamilyPValue, log10FamilyPValue, decidedBy: best.name, reason };
}
