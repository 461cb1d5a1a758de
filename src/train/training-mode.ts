// Which mode a model is trained in. Fine-tuning a pretrained network keeps BatchNormalization in
// inference mode, as Keras advises for fine-tuning: in training mode every step would normalise with
// the statistics of a small fine-tuning batch (often 6-32 images, and 1x1 maps deep in a MobileNet)
// and fold them into the moving mean and variance, moving every answer the model gives. Its gamma
// and beta still train. A model without BatchNormalization trains in training mode (dropout on).
import type * as tf from '@tensorflow/tfjs';

interface LayerLike { getClassName(): string; layers?: LayerLike[] }

function hasBatchNorm(layers: readonly LayerLike[]): boolean {
  return layers.some((l) => l.getClassName() === 'BatchNormalization' || (l.layers !== undefined && hasBatchNorm(l.layers)));
}

/** The `training` flag for model.apply in a training step. */
export function trainingFlag(model: tf.LayersModel): boolean {
  return !hasBatchNorm(model.layers as unknown as LayerLike[]);
}
