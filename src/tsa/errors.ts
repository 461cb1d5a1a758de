// Typed errors of the RFC 3161 client. TSA_VERIFY_FAILED names the check a token failed.
import { HallmarkError } from '../../ledger/index.js';

export type TsaErrorCode =
  /** The TSA answered with something that is not a TimeStampResp, or refused the request. */
  | 'TSA_BAD_RESPONSE'
  /** The token does not verify: imprint, nonce, signature, certificate or chain. */
  | 'TSA_VERIFY_FAILED'
  /** The TSA could not be reached or did not answer in time. */
  | 'TSA_UNREACHABLE'
  /** A caller's input (URL, CA file) is unusable. */
  | 'TSA_INVALID';

export class TsaError extends HallmarkError<TsaErrorCode> {}
