// Typed errors of watermark embedding. All are the caller's to fix (the CLI maps _NOT_FOUND,
// _INVALID, _UNSUPPORTED and _EXISTS to exit status 2). Passphrase errors come from src/secrets.
import { HallmarkError } from '../../ledger/index.js';

export type EmbedErrorCode =
  /** The model path does not exist or holds no model. */
  | 'EMBED_MODEL_NOT_FOUND'
  /** The model is of a kind this path cannot mark (e.g. fine-tuning an ONNX file). */
  | 'EMBED_UNSUPPORTED'
  /** The dataset does not fit the model: image size, channels or label range. */
  | 'EMBED_DATASET_INVALID'
  /** No layer or tensor named, or none that can carry the bits. */
  | 'EMBED_LAYER_NOT_FOUND'
  /** The output path already holds something. */
  | 'EMBED_OUTPUT_EXISTS';

export class EmbedError extends HallmarkError<EmbedErrorCode> {}
