// Watermark embedding: `embedWatermark` marks a model with the owner's weight and trigger-set
// watermarks (by fine-tuning with TensorFlow.js, or training-free for the weight mark) and
// records the commitment and the lineage in the ledger (see embed-finetune.ts for the order).
import { embedByFineTuning } from './embed-finetune.js';
import { embedTrainingFree } from './embed-training-free.js';
import type { EmbedOptions, EmbedSummary } from './types.js';

export { EmbedError, type EmbedErrorCode } from './errors.js';
export { embedByFineTuning, TRIGGER_KIND } from './embed-finetune.js';
export { embedTrainingFree, chooseTensor, DEFAULT_MIN_TOP1_AGREEMENT, DEFAULT_CALIBRATION_INPUTS, type TensorChoice } from './embed-training-free.js';
export { checkPassphrase, watermarkSecretId } from './commit-secret.js';
export { chooseKernel, createWeightMarkLoss, listKernels, measureWeightMark, type KernelChoice } from './tf-weight-mark.js';
export { loadDatasetSource, type DatasetSource } from './dataset-source.js';
export { EMBED_OPERATION } from './ledger-records.js';
export type { EmbedEvent, EmbedHome, EmbedOptions, EmbedPhase, EmbedSeal, EmbedSummary, EmbedTsa, WatermarkScheme } from './types.js';

export async function embedWatermark(options: EmbedOptions): Promise<EmbedSummary> {
  if (!(options.ownerSeed instanceof Uint8Array) || options.ownerSeed.length !== 32) throw new TypeError('ownerSeed must be the 32-byte Ed25519 seed');
  if (typeof options.passphrase !== 'string' || options.passphrase.length === 0) throw new TypeError('passphrase must be a non-empty string');
  return options.trainingFree ? embedTrainingFree(options) : embedByFineTuning(options);
}
export { resolveEmbedTsa } from './tsa-config.js';
