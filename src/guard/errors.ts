import { HallmarkError } from '../../ledger/index.js';

export type GuardErrorCode =
  /** A malformed inference request (shape, datatype, JSON); it never reaches the model. */
  | 'GUARD_BAD_REQUEST'
  /** No key, or a key that is unknown or revoked. */
  | 'GUARD_UNAUTHENTICATED'
  /** The key's role may not call this route, or the client is blocked. */
  | 'GUARD_FORBIDDEN'
  /** The served model has another name. */
  | 'GUARD_NOT_FOUND'
  /** The request body, batch or tensor is larger than the configured bounds. */
  | 'GUARD_TOO_LARGE'
  /** The client is over its query budget (429 with Retry-After). */
  | 'GUARD_RATE_LIMITED'
  /** The upstream model server failed or answered something that is not a prediction. */
  | 'GUARD_UPSTREAM'
  /** Bad configuration from the caller (a flag, a model that is not a classifier). */
  | 'GUARD_BAD_INPUT'
  /** No watermark set or commitment where one was asked for. */
  | 'GUARD_NOT_FOUND_SET'
  /** A stored journal line fails authentication or does not parse. */
  | 'GUARD_TAMPERED'
  /** A guard ledger record fails its schema. */
  | 'GUARD_RECORD_INVALID';

export class GuardError extends HallmarkError<GuardErrorCode> {}
