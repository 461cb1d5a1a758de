// How each surrogate and reference model is made, as a small JSON recipe. The ledger keeps only
// each recipe's SHA-256 (of its canonical JSON); the recipes themselves travel in the encrypted
// opening, so a dispute can show exactly which models shaped the fingerprint and rerun them.
//
//   surrogate: a fresh model distilled from the owner's model (labels = its answers on `data`),
//              standing in for what a thief derives from it;
//   reference: a fresh model trained on the dataset's own labels, standing in for an
//              independently made model of the same task.
import { sha256 } from '@noble/hashes/sha2.js';
import * as tf from '@tensorflow/tfjs';
import { canonicalJsonBytes, type JsonObject } from '../../ledger/index.js';
import { toHex } from '../core/encoding.js';
import { predictClasses } from '../train/evaluate.js';
import { fitModel, type LabelledImages } from '../train/fit.js';
import { buildMnistCnn } from '../train/mnist-cnn.js';
import { FingerprintError } from './errors.js';

export const RECIPE_KIND = 'hallmark/fingerprint-recipe/v1';

export interface Recipe {
  readonly kind: typeof RECIPE_KIND;
  readonly role: 'surrogate' | 'reference';
  /** "mnist-cnn" (the fixture's architecture) or "small-cnn" (the same shape for other inputs). */
  readonly architecture: 'mnist-cnn' | 'small-cnn';
  readonly input: readonly [number, number, number];
  readonly classes: number;
  /** Surrogates: the model whose answers are the labels. */
  readonly teacher?: string;
  /** Which training images (a contiguous slice of the dataset's training split). */
  readonly data: { readonly dataset: string; readonly from: number; readonly count: number };
  readonly epochs: number;
  readonly batchSize: number;
  readonly learningRate: number;
  readonly seed: number;
}

const bad = (m: string) => new FingerprintError('FINGERPRINT_BAD_INPUT', `recipe: ${m}`);
const int = (v: unknown, lo: number, hi: number) => typeof v === 'number' && Number.isSafeInteger(v) && v >= lo && v <= hi;

export function digestRecipe(r: Recipe): string {
  return toHex(sha256(canonicalJsonBytes(r as unknown as JsonObject)));
}

export function decodeRecipe(v: unknown): Recipe {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw bad('not an object');
  const r = v as Record<string, unknown>;
  const d = r.data as Record<string, unknown> | undefined;
  if (r.kind !== RECIPE_KIND || (r.role !== 'surrogate' && r.role !== 'reference') || (r.architecture !== 'mnist-cnn' && r.architecture !== 'small-cnn')) throw bad('kind, role or architecture');
  if (!Array.isArray(r.input) || r.input.length !== 3 || !r.input.every((x) => int(x, 1, 512)) || !int(r.classes, 2, 1000)) throw bad('input or classes');
  if (r.role === 'surrogate' && typeof r.teacher !== 'string') throw bad('a surrogate names its teacher');
  if (!d || typeof d.dataset !== 'string' || !int(d.from, 0, 1e7) || !int(d.count, 1, 1e7)) throw bad('data');
  if (!int(r.epochs, 1, 1000) || !int(r.batchSize, 1, 4096) || typeof r.learningRate !== 'number' || !(r.learningRate > 0) || !int(r.seed, 0, 2 ** 31)) throw bad('training settings');
  return r as unknown as Recipe;
}

/** The fixture architecture generalised to any small image input. */
export function buildModel(r: Pick<Recipe, 'architecture' | 'input' | 'classes' | 'seed'>): tf.Sequential {
  if (r.architecture === 'mnist-cnn') return buildMnistCnn(r.seed);
  const init = (k: number) => tf.initializers.glorotUniform({ seed: r.seed + k });
  return tf.sequential({
    name: 'small_cnn',
    layers: [
      tf.layers.conv2d({ inputShape: [...r.input], filters: 16, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: init(1) }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.conv2d({ filters: 32, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: init(2) }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 64, activation: 'relu', kernelInitializer: init(3) }),
      tf.layers.dense({ units: r.classes, activation: 'softmax', kernelInitializer: init(4) }),
    ],
  });
}

export function architectureFor(input: readonly number[], classes: number): Recipe['architecture'] {
  return input[0] === 28 && input[1] === 28 && input[2] === 1 && classes === 10 ? 'mnist-cnn' : 'small-cnn';
}

/** Trains the model a recipe describes; `teacher` must be given for surrogates. */
export async function trainFromRecipe(r: Recipe, train: LabelledImages, teacher?: tf.LayersModel, signal?: AbortSignal): Promise<tf.LayersModel> {
  const [, h, w, c] = train.shape;
  if (r.data.from + r.data.count > train.count) throw bad(`data ${r.data.from}+${r.data.count} exceeds the ${train.count} training images`);
  const size = h * w * c;
  const images = train.images.subarray(r.data.from * size, (r.data.from + r.data.count) * size);
  let labels: ArrayLike<number> = Array.from(train.labels).slice(r.data.from, r.data.from + r.data.count);
  if (r.role === 'surrogate') {
    if (!teacher) throw new TypeError('a surrogate recipe needs its teacher model');
    labels = predictClasses(teacher, { images, count: r.data.count, shape: [r.data.count, h, w, c] });
  }
  const model = buildModel(r);
  try {
    await fitModel({
      model, optimizer: tf.train.adam(r.learningRate), numClasses: r.classes, epochs: r.epochs, batchSize: r.batchSize, seed: r.seed,
      data: { images, labels, count: r.data.count, shape: [r.data.count, h, w, c] }, ...(signal ? { signal } : {}),
    });
  } catch (err) {
    model.dispose();
    throw err;
  }
  return model;
}
