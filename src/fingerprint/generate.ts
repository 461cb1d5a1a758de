// Conferrable adversarial examples (Lukas, Zhang & Kerschbaum, ICLR 2021), targeted variant.
//
// For each candidate image x (one the owner's model M classifies correctly) and a seeded target
// class t != label, find x' = clip(x + d, 0, 1) with ||d||_inf <= epsilon minimising
//
//   L(x') = -log p_M(t|x') - log mean_S p_S(t|x') - (2/|R|) sum_R log(1 - p_R(t|x'))
//
// over the surrogates S (distilled from M: models derived from ours) and the references R
// (trained independently): x' should carry M's answer t to derived models but not to models
// that merely solve the same task. d is optimised with Adam and projected after every step.
// The images are then quantised to bytes (what is committed and later queried), and ranked by
// the conferrability score  mean_S p_S(t) * (1 - max_R p_R(t)); an example qualifies when M and
// every surrogate answer t and no reference does. The best n qualifying examples are the set.
import * as tf from '@tensorflow/tfjs';
import { createPrng } from '../core/prng.js';
import type { LabelledImages } from '../train/fit.js';
import { FingerprintError } from './errors.js';
import type { FingerprintSet } from './fingerprint-set.js';

export interface GenerateOptions {
  readonly source: tf.LayersModel;
  readonly surrogates: readonly tf.LayersModel[];
  readonly references: readonly tf.LayersModel[];
  /** Images the examples start from (with their true labels). */
  readonly candidates: LabelledImages;
  readonly n: number;
  readonly classes: number;
  readonly epsilon: number;
  readonly steps: number;
  readonly learningRate?: number;
  /** Seeds the target classes. */
  readonly seed: Uint8Array;
  readonly batchSize?: number;
  readonly onStep?: (e: { batch: number; batches: number; step: number; steps: number; loss: number }) => void;
  readonly signal?: AbortSignal;
}

export interface GeneratedSet extends FingerprintSet {
  /** Candidates tried, and how many met the strict rule (M and all S answer t, no R does). */
  readonly tried: number;
  readonly qualified: number;
  /** Conferrability score of each chosen example. */
  readonly scores: readonly number[];
  /** Fraction of the chosen examples each surrogate / reference answers with the target. */
  readonly surrogateAgreement: readonly number[];
  readonly referenceAgreement: readonly number[];
}

/** Weight of the references' term: keeping independent models off the target matters most. */
const REFERENCE_WEIGHT = 2;

const probsOf = (m: tf.LayersModel, x: tf.Tensor) => m.apply(x, { training: false }) as tf.Tensor2D;

function meanProb(models: readonly tf.LayersModel[], x: tf.Tensor, oneHot: tf.Tensor): tf.Tensor1D {
  return tf.addN(models.map((m) => tf.sum(tf.mul(probsOf(m, x), oneHot), 1))).div(models.length) as tf.Tensor1D;
}

/** Optimises one batch of perturbations; returns the perturbed images (not yet quantised). */
function attackBatch(o: GenerateOptions, x0: Float32Array, targets: Int32Array, shape: [number, number, number, number], report: (step: number, loss: number) => void): Float32Array {
  const base = tf.tensor4d(x0, shape);
  const oneHot = tf.oneHot(tf.tensor1d(targets, 'int32'), o.classes);
  const delta = tf.variable(tf.zeros(shape));
  const opt = tf.train.adam(o.learningRate ?? 0.01);
  const eps = 1e-6;
  const perturbed = () => tf.clipByValue(tf.add(base, tf.clipByValue(delta, -o.epsilon, o.epsilon)), 0, 1);
  try {
    for (let step = 1; step <= o.steps; step++) {
      o.signal?.throwIfAborted();
      const loss = opt.minimize(() => {
        const x = perturbed();
        const pM = tf.sum(tf.mul(probsOf(o.source, x), oneHot), 1);
        const pS = meanProb(o.surrogates, x, oneHot);
        // Each reference is pushed away on its own (a mean would let one reference carry the target).
        const refTerm = tf.addN(o.references.map((r) => tf.neg(tf.log(tf.add(tf.sub(1, tf.sum(tf.mul(probsOf(r, x), oneHot), 1)), eps))))).mul(REFERENCE_WEIGHT / o.references.length);
        const l = tf.add(tf.add(tf.neg(tf.log(tf.add(pM, eps))), tf.neg(tf.log(tf.add(pS, eps)))), refTerm);
        return tf.mean(l) as tf.Scalar;
      }, true, [delta]);
      const value = loss!.dataSync()[0]!;
      loss!.dispose();
      tf.tidy(() => {
        delta.assign(tf.clipByValue(delta, -o.epsilon, o.epsilon));
      });
      report(step, value);
    }
    return tf.tidy(() => perturbed().dataSync() as Float32Array);
  } finally {
    base.dispose();
    oneHot.dispose();
    delta.dispose();
    opt.dispose();
  }
}

/** Target-class probability of each model on each image: [models][images]. */
function targetProbs(models: readonly tf.LayersModel[], images: Float32Array, targets: Int32Array, shape: [number, number, number, number], classes: number): Float32Array[] {
  return models.map((m) => tf.tidy(() => {
    const p = probsOf(m, tf.tensor4d(images, shape));
    return tf.sum(tf.mul(p, tf.oneHot(tf.tensor1d(targets, 'int32'), classes)), 1).dataSync() as Float32Array;
  }));
}

function argmaxIs(models: readonly tf.LayersModel[], images: Float32Array, targets: Int32Array, shape: [number, number, number, number]): boolean[][] {
  return models.map((m) => {
    const cls = tf.tidy(() => tf.argMax(probsOf(m, tf.tensor4d(images, shape)), -1).dataSync());
    return Array.from(targets, (t, i) => cls[i] === t);
  });
}

export async function generateConferrable(o: GenerateOptions): Promise<GeneratedSet> {
  if (o.surrogates.length < 1 || o.references.length < 1) throw new RangeError('generation needs at least one surrogate and one reference');
  if (!(o.epsilon > 0 && o.epsilon <= 1)) throw new RangeError(`epsilon must be in (0, 1], got ${o.epsilon}`);
  const [, h, w, c] = o.candidates.shape;
  const size = h * w * c;
  // Only candidates M classifies correctly: an example should move M's own answer.
  const own = tf.tidy(() => tf.argMax(probsOf(o.source, tf.tensor4d(o.candidates.images, o.candidates.shape as [number, number, number, number])), -1).dataSync());
  const keep = Array.from({ length: o.candidates.count }, (_, i) => i).filter((i) => own[i] === o.candidates.labels[i]);
  const prng = createPrng(o.seed);
  const targetsAll = Int32Array.from(keep, (i) => {
    const y = o.candidates.labels[i]!;
    return (y + 1 + prng.nextInt(o.classes - 1)) % o.classes;
  });
  const batchSize = o.batchSize ?? 128;
  const batches = Math.ceil(keep.length / batchSize);
  const out = new Uint8Array(keep.length * size);
  for (let b = 0; b < batches; b++) {
    const idx = keep.slice(b * batchSize, (b + 1) * batchSize);
    const x0 = new Float32Array(idx.length * size);
    idx.forEach((src, k) => x0.set(o.candidates.images.subarray(src * size, (src + 1) * size), k * size));
    const t = targetsAll.subarray(b * batchSize, b * batchSize + idx.length);
    const adv = attackBatch(o, x0, t, [idx.length, h, w, c], (step, loss) => o.onStep?.({ batch: b + 1, batches, step, steps: o.steps, loss }));
    for (let i = 0; i < adv.length; i++) out[b * batchSize * size + i] = Math.round(Math.min(1, Math.max(0, adv[i]!)) * 255);
    await new Promise((r) => setImmediate(r));
  }

  // Judge the quantised bytes: exactly what will be committed and queried.
  const shape: [number, number, number, number] = [keep.length, h, w, c];
  const xq = Float32Array.from(out, (v) => v / 255);
  const mOk = argmaxIs([o.source], xq, targetsAll, shape)[0]!;
  const sOk = argmaxIs(o.surrogates, xq, targetsAll, shape);
  const rHit = argmaxIs(o.references, xq, targetsAll, shape);
  const pS = targetProbs(o.surrogates, xq, targetsAll, shape, o.classes);
  const pR = targetProbs(o.references, xq, targetsAll, shape, o.classes);
  const score = Array.from({ length: keep.length }, (_, i) => (pS.reduce((s, p) => s + p[i]!, 0) / pS.length) * (1 - Math.max(...pR.map((p) => p[i]!))));
  const strict = (i: number) => mOk[i]! && sOk.every((s) => s[i]) && !rHit.some((r) => r[i]);
  const order = Array.from({ length: keep.length }, (_, i) => i).filter((i) => mOk[i]);
  const qualified = order.filter(strict).length;
  // Strict ones first, best score first; M must answer t in every chosen example.
  order.sort((a, b) => Number(strict(b)) - Number(strict(a)) || score[b]! - score[a]!);
  if (order.length < o.n) {
    throw new FingerprintError('FINGERPRINT_TOO_FEW', `only ${order.length} of ${keep.length} candidates move the model to their target within epsilon ${o.epsilon}; raise --candidates, --steps or --epsilon, or lower --n`);
  }
  const chosen = order.slice(0, o.n);
  const images = new Uint8Array(o.n * size);
  chosen.forEach((src, k) => images.set(out.subarray(src * size, (src + 1) * size), k * size));
  const agreement = (hits: boolean[][]) => hits.map((hs) => chosen.reduce((s, i) => s + (hs[i] ? 1 : 0), 0) / o.n);
  return {
    images,
    targets: chosen.map((i) => targetsAll[i]!),
    tried: keep.length,
    qualified,
    scores: chosen.map((i) => score[i]!),
    surrogateAgreement: agreement(sOk),
    referenceAgreement: agreement(rHit),
  };
}
