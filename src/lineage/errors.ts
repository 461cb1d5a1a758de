import { HallmarkError } from '../../ledger/index.js';

export type LineageErrorCode =
  | 'LINEAGE_NOT_FOUND'
  | 'LINEAGE_EXISTS'
  | 'LINEAGE_BAD_ENTRY'
  | 'LINEAGE_UNSUPPORTED_VERSION'
  | 'LINEAGE_INVALID';

/** Lineage records: a missing model, a duplicate registration, a payload this reader cannot read. */
export class LineageError extends HallmarkError<LineageErrorCode> {}
