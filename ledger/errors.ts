/**
 * Typed errors. Every failure the ledger can report to a caller is a HallmarkError with a
 * stable `code`; the CLI and the API map codes to exit statuses and HTTP statuses in one place.
 */
export class HallmarkError<C extends string = string> extends Error {
  readonly code: C;
  constructor(code: C, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

export function isHallmarkError(e: unknown): e is HallmarkError {
  return e instanceof HallmarkError;
}

export type LedgerErrorCode =
  | 'LEDGER_TAMPERED'
  | 'LEDGER_NOT_FOUND'
  | 'LEDGER_EXISTS'
  | 'LEDGER_BAD_ENTRY'
  | 'LEDGER_UNSUPPORTED_VERSION'
  | 'LEDGER_OUT_OF_RANGE'
  | 'LEDGER_BAD_PROOF'
  | 'LEDGER_INCONSISTENT'
  | 'LEDGER_BAD_NOTE'
  | 'LEDGER_BAD_SIGNATURE'
  | 'LEDGER_BAD_KEY'
  | 'LEDGER_BUSY'
  | 'LEDGER_TOO_LARGE'
  /** The database could not be reached or went away; nothing of the failed call was written. */
  | 'LEDGER_UNAVAILABLE';

export class LedgerError extends HallmarkError<LedgerErrorCode> {}
