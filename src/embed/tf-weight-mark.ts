// The Uchida weight mark on a live TF.js model: which kernel carries it, the regulariser in tfjs
// ops (so autodiff gives core's gradient, uchida.ts), and extraction through the pure core so
// that what we report is exactly what a verifier computes from the saved file.
import * as tf from '@tensorflow/tfjs';
import { compareBits, extractBits, meanOverOutputChannels, type BitComparison, type KernelLayout, type ProjectionMatrix } from '../core/index.js';
import { EmbedError } from './errors.js';

export interface KernelChoice {
  readonly layer: string;
  /** The weight's name as saved in model.json, e.g. "dense1/kernel". */
  readonly weight: string;
  readonly shape: readonly number[];
  readonly layout: KernelLayout;
  /** M: the length of w (kh*kw*cin, k*cin or in). */
  readonly features: number;
}

/** Conv2D, Conv1D and Dense kernels, in layer order, with their layouts (TF.js: HWIO, KIO and IO). */
export function listKernels(model: tf.LayersModel): KernelChoice[] {
  const out: KernelChoice[] = [];
  for (const layer of model.layers) {
    const cls = layer.getClassName();
    if (cls !== 'Conv2D' && cls !== 'Conv1D' && cls !== 'Dense') continue;
    const kernel = layer.weights.find((w) => /(^|\/)kernel$/.test(w.originalName) || /kernel/.test(w.name));
    if (!kernel) continue;
    const shape = kernel.shape as number[];
    const layout: KernelLayout = cls === 'Conv2D' ? 'HWIO' : cls === 'Conv1D' ? 'KIO' : 'IO';
    const features = shape.slice(0, -1).reduce((a, b) => a * b, 1); // every axis but the output channels
    out.push({ layer: layer.name, weight: kernel.originalName, shape, layout, features });
  }
  return out;
}

/**
 * The layer named, else the first kernel with at least 2T features (room to place T bits with a
 * small change: a random sign pattern of T bits fits in M dimensions when T < 2M, Cover 1965, and
 * comfortably well below that), else the kernel with the most features.
 */
export function chooseKernel(model: tf.LayersModel, bits: number, layer?: string): KernelChoice {
  const kernels = listKernels(model);
  if (layer !== undefined) {
    const k = kernels.find((c) => c.layer === layer);
    if (!k) {
      throw new EmbedError('EMBED_LAYER_NOT_FOUND', `the model has no Conv2D or Dense layer named "${layer.slice(0, 80)}"; choose one of ${kernels.map((c) => c.layer).join(', ') || '(none)'}`);
    }
    return k;
  }
  if (kernels.length === 0) throw new EmbedError('EMBED_LAYER_NOT_FOUND', 'the model has no Conv2D or Dense layer to carry a weight mark');
  return kernels.find((c) => c.features >= 2 * bits) ?? kernels.reduce((a, b) => (b.features > a.features ? b : a));
}

function kernelVariable(model: tf.LayersModel, k: KernelChoice): tf.Variable {
  const w = model.getLayer(k.layer).weights.find((v) => v.originalName === k.weight);
  if (!w) throw new EmbedError('EMBED_LAYER_NOT_FOUND', `layer ${k.layer} lost its kernel ${k.weight}`);
  return w.read() as tf.Variable;
}

/** w = mean of the kernel over output channels, as a column [M, 1] in canonical feature order. */
function meanColumn(kernel: tf.Tensor, k: KernelChoice): tf.Tensor2D {
  const axis = k.shape.length - 1; // output channels: last in HWIO, KIO and IO
  return tf.reshape(tf.mean(kernel, axis), [k.features, 1]);
}

export interface WeightMarkLoss {
  /** lambda * mean BCE(sigmoid(X w), b), built inside the caller's gradient scope. */
  (): tf.Scalar;
  /** Frees the projection and bit tensors. */
  dispose(): void;
}

/** The regulariser of uchida.ts as tfjs ops on the chosen kernel. */
export function createWeightMarkLoss(model: tf.LayersModel, k: KernelChoice, projection: ProjectionMatrix, bits: Uint8Array, lambda: number): WeightMarkLoss {
  if (projection.cols !== k.features || projection.rows !== bits.length) {
    throw new RangeError(`projection ${projection.rows}x${projection.cols} does not fit ${bits.length} bits on ${k.features} features`);
  }
  const variable = kernelVariable(model, k);
  const x = tf.tensor2d(projection.data, [projection.rows, projection.cols]);
  const b = tf.tensor2d(Float32Array.from(bits), [bits.length, 1]);
  // softplus(y) - b*y is BCE(sigmoid(y), b) without forming sigmoid (stable for large |y|).
  // No tidy here: the caller's gradient scope owns (and frees) the intermediates.
  const loss = (() => {
    const y = tf.matMul(x, meanColumn(variable, k));
    return tf.mul(lambda, tf.mean(tf.sub(tf.softplus(y), tf.mul(b, y)))) as tf.Scalar;
  }) as WeightMarkLoss;
  loss.dispose = () => {
    x.dispose();
    b.dispose();
  };
  return loss;
}

/** The kernel's values as float32 (a copy). */
export function readKernel(model: tf.LayersModel, k: KernelChoice): Float32Array {
  return Float32Array.from(kernelVariable(model, k).dataSync() as Float32Array);
}

/** Bits the kernel carries now, against the expected ones (core extraction). */
export function measureWeightMark(model: tf.LayersModel, k: KernelChoice, projection: ProjectionMatrix, bits: Uint8Array): BitComparison {
  const w = meanOverOutputChannels(readKernel(model, k), k.shape, k.layout);
  return compareBits(bits, extractBits(projection, w));
}
