// Attacks that train, following the removal attacks of the watermarking literature (Adi et al.
// 2018 for FTAL/RTAL, Lukas et al. SoK 2022 for the extraction family):
//
// - FTAL, fine-tune all layers: Adam on a fraction of the task's training data for a few epochs.
// - RTAL, re-initialise and retrain: the last layer gets fresh random weights (Glorot uniform,
//   zero bias), then every layer trains as in FTAL; the last layer must be relearned.
// - Distillation (model extraction): a FRESH student of the same architecture, trained only on
//   the suspect's answers to unlabelled queries: its argmax class (hard labels, the default), or
//   with `temperature` its whole probability vector softened at that temperature (soft labels,
//   Hinton, Vinyals & Dean 2015), what a thief holding the weights or the scores would use. The attacker never uses a
//   label or a weight of the suspect, which is why a mark in the parameters cannot survive it
//   by design; only behaviour the student copies (maybe the trigger answers) can.
import * as tf from '@tensorflow/tfjs';
import type { LabelledImages } from '../train/fit.js';
import { fitModel, type FitOptions } from '../train/fit.js';
import { predictClasses, predictScores } from '../train/evaluate.js';
import { softenScores } from '../train/soft-targets.js';
import { recordedInitialisers } from '../train/initialisers.js';
import { buildMnistCnn } from '../train/mnist-cnn.js';
import { AttackError } from './errors.js';

export interface TrainBudget {
  /** Attacker's data: images and labels (FTAL/RTAL) or images only (distillation). */
  readonly data: LabelledImages;
  readonly epochs: number;
  readonly learningRate?: number;
  readonly batchSize?: number;
  readonly seed: number;
  readonly onProgress?: FitOptions['onProgress'];
}

/** FTAL in place: every layer trains on the attacker's labelled data. */
export async function fineTuneAllLayers(model: tf.LayersModel, b: TrainBudget): Promise<void> {
  await fitModel({ model, optimizer: tf.train.adam(b.learningRate ?? 1e-3), data: b.data, numClasses: 10, epochs: b.epochs, batchSize: b.batchSize ?? 64, seed: b.seed, ...(b.onProgress ? { onProgress: b.onProgress } : {}) });
}

/** RTAL in place: the last layer with a kernel is re-initialised, then all layers retrain. */
export async function reinitLastLayerAndRetrain(model: tf.LayersModel, b: TrainBudget): Promise<string> {
  const last = [...model.layers].reverse().find((l) => l.getWeights().length > 0);
  if (!last) throw new RangeError('the model has no layer with weights');
  const fresh = last.getWeights().map((w, i) =>
    i === 0 && w.shape.length >= 2 ? tf.initializers.glorotUniform({ seed: b.seed }).apply(w.shape) : tf.zerosLike(w),
  );
  last.setWeights(fresh);
  fresh.forEach((t) => t.dispose());
  await fineTuneAllLayers(model, b);
  return last.name;
}

export interface DistillBudget extends Omit<TrainBudget, 'data'> {
  /** Soft labels: the teacher's probabilities softened at this temperature (> 0; 1 = as given). Default: hard labels. */
  readonly temperature?: number;
}

/**
 * Extraction by distillation: labels each query with the teacher's answer, then trains a fresh
 * `buildMnistCnn(seed)` student on those answers alone. Returns the student.
 */
export async function distill(teacher: tf.LayersModel, queries: Omit<LabelledImages, 'labels'>, b: DistillBudget): Promise<tf.LayersModel> {
  if (startsFromTeacher(teacher, b.seed)) {
    throw new AttackError('ATTACK_SHARED_INIT', `a student of seed ${b.seed} would start from the teacher's own initial weights (its topology records the same seeded initialisers), which no thief has; choose another seed`);
  }
  if (b.temperature !== undefined && !(b.temperature > 0 && b.temperature <= 100)) throw new RangeError(`temperature must be in (0, 100], got ${b.temperature}`);
  const answers = predictClasses(teacher, queries);
  const soft = b.temperature === undefined ? undefined : softenScores(predictScores(teacher, queries), 10, b.temperature);
  const student = buildMnistCnn(b.seed);
  await fitModel({
    model: student, optimizer: tf.train.adam(b.learningRate ?? 1e-3), numClasses: 10, epochs: b.epochs, batchSize: b.batchSize ?? 64, seed: b.seed,
    ...(b.onProgress ? { onProgress: b.onProgress } : {}),
    ...(soft ? { softTargets: soft } : {}),
    data: { images: queries.images, labels: answers, count: queries.count, shape: queries.shape },
  });
  return student;
}


/**
 * Whether `buildMnistCnn(seed)` would start from the teacher's initial weights: every kernel
 * initialiser the same class with the same recorded seed. The fixture was built with seed 1, so a
 * student of seed 1 is its twin at step 0, and whatever the student then shares with the teacher
 * says nothing about distillation (a fingerprint claimed such a student, and equally its twin trained
 * on the true labels of other images).
 */
export function startsFromTeacher(teacher: tf.LayersModel, seed: number): boolean {
  const probe = buildMnistCnn(seed);
  try {
    const mine = recordedInitialisers(probe);
    const theirs = recordedInitialisers(teacher);
    return mine.some((k) => /:\d+$/.test(k)) && mine.length === theirs.length && mine.every((k, i) => k === theirs[i]);
  } finally {
    probe.dispose();
  }
}

/** The seed a distillation uses: `requested` (refused when it shares the teacher's start), else the first from 1 that does not. */
export function studentSeed(teacher: tf.LayersModel, requested: number | undefined): number {
  if (requested !== undefined) return requested;
  let seed = 1;
  while (startsFromTeacher(teacher, seed)) seed++;
  return seed;
}
