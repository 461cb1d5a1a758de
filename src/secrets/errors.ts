import { HallmarkError } from '../../ledger/index.js';

export type SecretErrorCode =
  /** The passphrase does not open this file. */
  | 'SECRET_BAD_PASSPHRASE'
  /** The passphrase is right but the ciphertext or its header was altered. */
  | 'SECRET_TAMPERED'
  | 'SECRET_NOT_FOUND'
  | 'SECRET_EXISTS'
  /** Not a secret file, or one with out-of-range parameters. */
  | 'SECRET_CORRUPT'
  | 'SECRET_UNSUPPORTED_VERSION'
  /** Neither HALLMARK_PASSPHRASE nor a prompt gave a passphrase. */
  | 'SECRET_NO_PASSPHRASE';

/** Messages never carry a passphrase or secret bytes: only ids, paths and what to do. */
export class SecretError extends HallmarkError<SecretErrorCode> {}
