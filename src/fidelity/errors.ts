import { HallmarkError } from '../../ledger/index.js';

export type FidelityErrorCode =
  /** The marked model answers differently beyond a limit the user set. */
  | 'FIDELITY_LIMIT_EXCEEDED'
  /** The model cannot be run here (no graph, an input we cannot synthesise). */
  | 'FIDELITY_UNSUPPORTED';

export class FidelityError extends HallmarkError<FidelityErrorCode> {}
