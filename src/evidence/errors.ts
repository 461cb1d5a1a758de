// Typed errors of the evidence package. EVIDENCE_VERIFY_FAILED is the one a tampered or
// inconsistent bundle produces; its message names the check that failed.
import { HallmarkError } from '../../ledger/index.js';

export type EvidenceErrorCode =
  /** A bundle, envelope or record is malformed (not the shape we write). */
  | 'EVIDENCE_BAD_BUNDLE'
  /** A signature, proof, digest or commitment does not check out. */
  | 'EVIDENCE_VERIFY_FAILED'
  /** Re-running the extraction on the suspect gave other numbers than the record (re-extract.ts). */
  | 'EVIDENCE_MISMATCH'
  /** A bundle names a version this reader does not know. */
  | 'EVIDENCE_UNSUPPORTED_VERSION'
  /** Something this build cannot do yet (e.g. re-running an extraction without the formats). */
  | 'EVIDENCE_UNSUPPORTED'
  /** The ledger has no such model or verification entry. */
  | 'EVIDENCE_NOT_FOUND'
  /** The commitment was not sealed in a signed checkpoint before the verification. */
  | 'EVIDENCE_UNSEALED'
  /** A caller's input is well typed but unusable (a wrong key, an output folder that exists). */
  | 'EVIDENCE_INVALID';

export class EvidenceError extends HallmarkError<EvidenceErrorCode> {}

export const failed = (what: string, cause?: unknown) => new EvidenceError('EVIDENCE_VERIFY_FAILED', what, cause === undefined ? undefined : { cause });
export const malformed = (what: string) => new EvidenceError('EVIDENCE_BAD_BUNDLE', what);
