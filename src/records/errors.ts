// Typed errors of the records package. RECORD_PROTECTED is what the generic append answers when
// asked to write a type that only the code computing it may write.
import { HallmarkError } from '../../ledger/index.js';

export type RecordErrorCode =
  /** A payload is not the shape its schema defines. */
  | 'RECORD_INVALID'
  /** A payload names a schema version this reader does not know. */
  | 'RECORD_UNSUPPORTED_VERSION'
  /** The generic append was asked to write a protected type. */
  | 'RECORD_PROTECTED'
  /** A protected record carries no signature. */
  | 'RECORD_UNSIGNED'
  /** The signature does not verify over the entry's type, actor and payload. */
  | 'RECORD_BAD_SIGNATURE'
  /** The signature verifies, but the key is not entitled to write this type in this home. */
  | 'RECORD_UNTRUSTED_SIGNER'
  /** The entry is not of the type asked for, or no such entry. */
  | 'RECORD_NOT_FOUND'
  /** A signer or verifier key string is malformed. */
  | 'RECORD_BAD_KEY';

export class RecordError extends HallmarkError<RecordErrorCode> {}

export const invalid = (msg: string) => new RecordError('RECORD_INVALID', msg);
