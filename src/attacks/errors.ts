import { HallmarkError } from '../../ledger/index.js';

export type AttackErrorCode =
  /** The attack cannot run on this model (no graph to train, an unsupported format). */
  | 'ATTACK_UNSUPPORTED'
  /** The output path exists already. */
  | 'ATTACK_EXISTS';

export class AttackError extends HallmarkError<AttackErrorCode> {}
