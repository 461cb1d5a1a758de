// Typed errors of watermark embedding. Codes ending in _NOT_FOUND, _INVALID, _UNSUPPORTED,
// _EXISTS or _BAD_INPUT are the caller's to fix (the CLI exits 2); the rest are failures.
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
  | 'EMBED_OUTPUT_EXISTS'
  /** No passphrase: neither HALLMARK_PASSPHRASE nor a terminal to ask on. */
  | 'EMBED_BAD_INPUT';

export class EmbedError extends HallmarkError<EmbedErrorCode> {}
