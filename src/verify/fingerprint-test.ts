// The hook through which `verify` tests a fingerprint (src/fingerprint builds one; verify never
// imports that package). A fingerprint is a black-box test like the trigger set: the suspect's
// answers to the committed inputs, an exact binomial p-value against a measured null, and one
// more member of the Bonferroni family of decision.ts.
import type { Classifier } from './classifier.js';

export interface FingerprintTestResult {
  /** The fingerprint.committed entry tested. */
  readonly commitment: { readonly index: number; readonly commitment: string };
  readonly n: number;
  /** Examples the suspect answered with their target class. */
  readonly matches: number;
  readonly classes: number;
  /** max(1/C, highest agreement of the fresh reference models in calibration). */
  readonly chanceRate: number;
  readonly nullDistribution: readonly number[];
  /** The calibration.recorded entry the null came from. */
  readonly calibration: number;
  readonly pValue: number;
  readonly log10PValue: number;
}

export interface FingerprintTest {
  readonly committed: { readonly index: number; readonly commitment: string; readonly model: string; readonly ownerKey: string };
  /** Throws when this fingerprint may not be used against the suspect (committed after its first appearance). */
  admit(suspect: { readonly sha256?: string; readonly url?: string }): void;
  run(classifier: Classifier): Promise<FingerprintTestResult>;
}
