// The hook through which `verify` tests a fingerprint (src/fingerprint builds one; verify never
// imports that package). A fingerprint is a black-box test like the trigger set: the suspect's
// answers to the committed inputs, an exact binomial p-value against a measured null, and one
// more member of the Bonferroni family of decision.ts.
import type { FingerprintResult, RecordProblem } from '../records/index.js';
import type { Classifier } from './classifier.js';

/** The recorded fields (src/records owns them) plus the log10 p-value used in the decision. */
export interface FingerprintTestResult extends FingerprintResult {
  readonly log10PValue: number;
}

export interface FingerprintTest {
  readonly committed: { readonly index: number; readonly commitment: string; readonly model: string; readonly ownerKey: string };
  /** fingerprint.committed entries that are not valid owner-signed records: ignored, and reported with the verification's problems. */
  readonly problems?: readonly RecordProblem[];
  /** Throws when this fingerprint may not be used against the suspect (committed after its first appearance). */
  admit(suspect: { readonly sha256?: string; readonly url?: string }): void;
  run(classifier: Classifier): Promise<FingerprintTestResult>;
}
