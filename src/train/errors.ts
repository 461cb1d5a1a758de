import { HallmarkError } from '../../ledger/index.js';

export type TrainErrorCode =
  | 'TRAIN_BACKEND_UNAVAILABLE'
  | 'TRAIN_UNSUPPORTED_OP'
  | 'TRAIN_BAD_DATA'
  | 'TRAIN_WORKER_FAILED';

export class TrainError extends HallmarkError<TrainErrorCode> {}
