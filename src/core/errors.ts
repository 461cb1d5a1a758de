// Typed errors of the pure core. Caller mistakes (wrong types, impossible sizes) stay
// TypeError / RangeError; these codes are for inputs that are well typed but wrong.
import { HallmarkError } from '../../ledger/index.js';

export type CoreErrorCode =
  /** No weight change within the iteration budget satisfies every bit with the margin. */
  | 'CORE_EMBED_INFEASIBLE'
  /** Revealed values do not hash to the committed digest. */
  | 'CORE_COMMITMENT_MISMATCH'
  /** A commitment or secret-material document (untrusted JSON) is malformed. */
  | 'CORE_BAD_DOCUMENT'
  /** A document names a version this code does not know. */
  | 'CORE_UNSUPPORTED_VERSION'
  /** Revealed secret material does not derive from the owner's public key. */
  | 'CORE_NOT_BOUND';

export class CoreError extends HallmarkError<CoreErrorCode> {}
