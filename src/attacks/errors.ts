import { HallmarkError } from '../../ledger/index.js';

export type AttackErrorCode =
  /** The attack cannot run on this model (no graph to train, an unsupported format). */
  | 'ATTACK_UNSUPPORTED'
  /** The output path exists already. */
  | 'ATTACK_EXISTS'
  /** A distillation student would start from the teacher's own initial weights (the same seeded initialisers). */
  | 'ATTACK_SHARED_INIT';

export class AttackError extends HallmarkError<AttackErrorCode> {}
