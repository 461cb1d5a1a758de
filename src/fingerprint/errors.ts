// Typed errors of fingerprinting. _BAD_INPUT, _NOT_FOUND and _UNSUPPORTED are the caller's to fix
// (exit status 2); _AFTER_SUSPECT, _UNSEALED, _TAMPERED and _FORGED mean the fingerprint cannot be used as
// evidence against this suspect (exit status 1 via _VERIFY_FAILED-like handling in the CLI).
import { HallmarkError } from '../../ledger/index.js';

export type FingerprintErrorCode =
  /** A flag, record or secret is malformed. */
  | 'FINGERPRINT_BAD_INPUT'
  /** No fingerprint.committed entry (or no calibration for it) where one was asked for. */
  | 'FINGERPRINT_NOT_FOUND'
  /** The model or dataset is of a kind fingerprinting cannot handle. */
  | 'FINGERPRINT_UNSUPPORTED'
  /** Generation found fewer conferrable examples than asked for. */
  | 'FINGERPRINT_TOO_FEW'
  /** The fingerprint was committed after the suspect first appeared in the ledger. */
  | 'FINGERPRINT_AFTER_SUSPECT'
  /** No signed checkpoint covers the commitment. */
  | 'FINGERPRINT_UNSEALED'
  /** The stored fingerprint set does not hash to the committed digest. */
  | 'FINGERPRINT_TAMPERED'
  /** A fingerprint.committed entry that the home's owner did not sign (injected or altered). */
  | 'FINGERPRINT_FORGED';

export class FingerprintError extends HallmarkError<FingerprintErrorCode> {}
