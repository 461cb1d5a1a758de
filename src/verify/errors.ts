import { HallmarkError } from '../../ledger/index.js';

export type VerifyErrorCode =
  /** The suspect has no tensor whose shape can hold the mark. */
  | 'VERIFY_NO_CANDIDATE'
  /** No watermark.committed entry, secret or calibration where one was asked for. */
  | 'VERIFY_NOT_FOUND'
  /** Bad arguments that came from the user (a URL, a protocol, an index). */
  | 'VERIFY_BAD_INPUT'
  /** The suspect cannot be queried as asked (its input shape does not fit the trigger images). */
  | 'VERIFY_UNSUPPORTED'
  /** A remote endpoint did not answer within the timeout, after the retries. */
  | 'VERIFY_REMOTE_TIMEOUT'
  /** A remote endpoint answered with an HTTP error status (4xx at once, 5xx/429 after the retries). */
  | 'VERIFY_REMOTE_HTTP'
  /** A remote endpoint answered with a redirect (3xx); none is followed (SSRF guard). */
  | 'VERIFY_REMOTE_REDIRECT'
  /** A remote endpoint answered with something that is not a prediction for every trigger. */
  | 'VERIFY_REMOTE_BAD_RESPONSE'
  /** A remote endpoint could not be reached (connection refused, reset, DNS). */
  | 'VERIFY_REMOTE_UNREACHABLE'
  /** The request budget ran out before every trigger was answered. */
  | 'VERIFY_REMOTE_BUDGET';

export class VerifyError extends HallmarkError<VerifyErrorCode> {}
