// `hallmark fingerprint MODEL` as one function, in the order that makes the commitment worth
// something: train surrogates (distilled from MODEL) and references (independent), generate the
// conferrable set, encrypt it into the home, append fingerprint.committed, and seal that entry in
// a signed checkpoint. Run it BEFORE the model is released: only a commitment that predates a
// suspect's first appearance can be used against it (verify-fingerprint.ts refuses the rest).
import { sha256 } from '@noble/hashes/sha2.js';
import { randomBytes } from 'node:crypto';
import type { Ledger } from '../../ledger/index.js';
import type { RecordSigner } from '../records/index.js';
import { loadDatasetSource } from '../embed/index.js';
import { loadLayersModel } from '../formats/index.js';
import { findModel, identifyModel, registerModel, type ModelId } from '../lineage/index.js';
import { saveSecret } from '../secrets/index.js';
import { selectBackend, type BackendChoice } from '../train/backend.js';
import { evaluateAccuracy } from '../train/evaluate.js';
import { seededInitialisers } from '../train/initialisers.js';
import type { LabelledImages } from '../train/fit.js';
import { FingerprintError } from './errors.js';
import { commitFingerprint, encodeFingerprintOpening, MAX_SET_BYTES, recipeDigests, SALT_BYTES, type FingerprintOpening } from './fingerprint-set.js';
import { generateConferrable } from './generate.js';
import { checkFingerprintPassphrase, fingerprintSecretId } from './secret-file.js';
import { appendFingerprintCommitted, type FingerprintParameters } from './record-committed.js';
import { architectureFor, RECIPE_KIND, trainFromRecipe, type Recipe } from './recipes.js';

export interface FingerprintOptions {
  readonly home: { readonly dir: string; readonly ledger: Ledger; readonly ownerVerifierKey: string };
  readonly passphrase: string;
  /** Signs fingerprint.committed: the owner's key (ownerRecordSigner(home)). */
  readonly signer: RecordSigner;
  readonly model: string;
  /** "mnist" or a folder of PNG class folders (default mnist). */
  readonly dataset?: string;
  readonly surrogates?: number;
  readonly references?: number;
  readonly n?: number;
  /** L-infinity bound on the perturbation, in pixel units of [0, 1] (default 0.25). */
  readonly epsilon?: number;
  readonly steps?: number;
  /** Images tried (default 3n, from the held-out split). */
  readonly candidates?: number;
  /** One training budget for every surrogate and reference: images (default 3000) and epochs
   *  (default 2). Given either, it replaces the default `budgets`. */
  readonly trainSamples?: number;
  readonly epochs?: number;
  /**
   * Training budgets the surrogates and references cycle through (model k of each role gets
   * budgets[k % length]); overrides trainSamples / epochs. Default: 3,000 images x 2 epochs and
   * every training image x 10 epochs (a model trained as long as the task allows). Innocent models
   * come in every strength, and a set made against weak references only is answered by strong
   * innocent models (measured: 212-247 of 300, two of three claimed, docs/fingerprints.md).
   */
  readonly budgets?: readonly TrainingBudget[];
  /** Seeds: surrogate k uses seed + k, reference k uses seed + 500 + k (default 7000). */
  readonly seed?: number;
  readonly backend?: BackendChoice;
  readonly actor?: string;
  readonly onProgress?: (e: { stage: 'surrogate' | 'reference' | 'generate'; done: number; total: number; detail?: string }) => void;
  readonly signal?: AbortSignal;
}

export interface FingerprintSummary {
  readonly index: number;
  readonly commitment: string;
  readonly model: ModelId;
  readonly parameters: FingerprintParameters;
  readonly recipes: { surrogates: { sha256: string }[]; references: { sha256: string }[] };
  /** Size of the signed checkpoint that seals the entry. */
  readonly checkpointSize: number;
  readonly secretPath: string;
  readonly tried: number;
  readonly qualified: number;
  readonly surrogateAgreement: readonly number[];
  readonly referenceAgreement: readonly number[];
  readonly cleanAccuracy: { readonly surrogates: readonly number[]; readonly references: readonly number[] };
  /**
   * Seeds of the seeded kernel initialisers MODEL's topology records (empty: none). Anyone with
   * them rebuilds its starting weights, and a model started there answers the fingerprint like a
   * copy even when trained on other data: weaker evidence, which the CLI says.
   */
  readonly seededInitialisers: readonly number[];
  readonly backend: string;
  readonly seconds: { readonly training: number; readonly generation: number; readonly total: number };
}

export interface TrainingBudget {
  readonly trainSamples: number;
  readonly epochs: number;
}

/** trainSamples Infinity: every training image. */
export const DEFAULT_BUDGETS: readonly TrainingBudget[] = [{ trainSamples: 3000, epochs: 2 }, { trainSamples: Infinity, epochs: 10 }];
export const DEFAULT_EPOCHS = 2;
export const DEFAULT_TRAIN_SAMPLES = 3000;

const count = (name: string, v: number, lo: number, hi: number) => {
  if (!Number.isSafeInteger(v) || v < lo || v > hi) throw new RangeError(`${name} must be an integer in [${lo}, ${hi}], got ${v}`);
  return v;
};

function slice(d: LabelledImages, n: number): LabelledImages {
  const [, h, w, c] = d.shape;
  const m = Math.min(n, d.count);
  return { images: d.images.subarray(0, m * h * w * c), labels: Array.from(d.labels).slice(0, m), count: m, shape: [m, h, w, c] };
}

export async function createFingerprint(o: FingerprintOptions): Promise<FingerprintSummary> {
  const started = performance.now();
  const K = count('surrogates', o.surrogates ?? 3, 1, 20);
  const R = count('references', o.references ?? 3, 1, 20);
  const n = count('n', o.n ?? 300, 10, 2000);
  const steps = count('steps', o.steps ?? 30, 1, 1000);
  const candidates = count('candidates', o.candidates ?? 3 * n, n, 20_000);
  const seed = count('seed', o.seed ?? 7000, 0, 2 ** 30);
  const epsilon = o.epsilon ?? 0.25;
  if (typeof epsilon !== 'number' || !(epsilon > 0 && epsilon <= 1)) throw new RangeError(`epsilon must be in (0, 1], got ${epsilon}`);
  await checkFingerprintPassphrase(o.home.dir, o.passphrase);

  const backend = await selectBackend(o.backend ?? 'auto');
  const info = await identifyModel(o.model);
  if (info.format !== 'tfjs-layers') throw new FingerprintError('FINGERPRINT_UNSUPPORTED', `generation needs gradients through the model, so it takes a TF.js Layers model; ${o.model} is ${info.format} (convert it with hallmark model convert)`);
  const data = await loadDatasetSource(o.dataset ?? 'mnist');
  const source = await loadLayersModel(o.model);
  const trained: import('@tensorflow/tfjs').LayersModel[] = [];
  try {
    const inShape = source.inputs[0]!.shape.slice(1) as number[];
    const classes = source.outputs[0]!.shape.at(-1) as number;
    const [, h, w, c] = data.train.shape;
    if (inShape[0] !== h || inShape[1] !== w || inShape[2] !== c) throw new FingerprintError('FINGERPRINT_BAD_INPUT', `dataset ${data.name} holds ${h}x${w}x${c} images, the model takes ${inShape.join('x')}`);
    if (!Number.isSafeInteger(classes) || classes < 2) throw new FingerprintError('FINGERPRINT_UNSUPPORTED', 'the model does not end in a class-probability layer');
    if (n * h * w * c > MAX_SET_BYTES) throw new FingerprintError('FINGERPRINT_UNSUPPORTED', `${n} images of ${h}x${w}x${c} do not fit one secret file (${MAX_SET_BYTES} bytes); lower --n`);
    if (data.test.count < candidates) throw new FingerprintError('FINGERPRINT_BAD_INPUT', `the held-out split has ${data.test.count} images, fewer than ${candidates} candidates; lower --candidates or --n`);
    const budgets = (o.budgets ?? (o.epochs !== undefined || o.trainSamples !== undefined ? [{ trainSamples: o.trainSamples ?? DEFAULT_TRAIN_SAMPLES, epochs: o.epochs ?? DEFAULT_EPOCHS }] : DEFAULT_BUDGETS)).map((b) => ({
      trainSamples: count('trainSamples', Math.min(b.trainSamples, data.train.count), 1, data.train.count),
      epochs: count('epochs', b.epochs, 1, 50),
    }));
    if (budgets.length < 1 || budgets.length > 20) throw new RangeError(`budgets must list 1 to 20 training budgets, got ${budgets.length}`);

    const recipe = (role: Recipe['role'], k: number): Recipe => {
      const { trainSamples, epochs } = budgets[k % budgets.length]!;
      return {
        kind: RECIPE_KIND, role, architecture: architectureFor(inShape, classes), input: [h, w, c], classes,
        ...(role === 'surrogate' ? { teacher: info.id } : {}),
        // Different slices of the training split, so the models differ in data as well as init.
        data: { dataset: data.descriptor.digest.sha256, from: data.train.count === trainSamples ? 0 : ((k * 1709 + (role === 'reference' ? 853 : 0)) % (data.train.count - trainSamples)), count: trainSamples },
        epochs, batchSize: 64, learningRate: 1e-3, seed: seed + (role === 'reference' ? 500 : 0) + k,
      };
    };
    const recipes = { surrogates: Array.from({ length: K }, (_, k) => recipe('surrogate', k)), references: Array.from({ length: R }, (_, k) => recipe('reference', k)) };
    const test = slice(data.test, 2000);
    const acc: { surrogates: number[]; references: number[] } = { surrogates: [], references: [] };
    const models: { surrogates: import('@tensorflow/tfjs').LayersModel[]; references: import('@tensorflow/tfjs').LayersModel[] } = { surrogates: [], references: [] };
    for (const role of ['surrogates', 'references'] as const) {
      for (const [k, r] of recipes[role].entries()) {
        const m = await trainFromRecipe(r, data.train, role === 'surrogates' ? source : undefined, o.signal);
        trained.push(m);
        models[role].push(m);
        acc[role].push(evaluateAccuracy(m, test));
        o.onProgress?.({ stage: role === 'surrogates' ? 'surrogate' : 'reference', done: k + 1, total: recipes[role].length, detail: `accuracy ${(acc[role].at(-1)! * 100).toFixed(1)}%` });
      }
    }
    const trainedAt = performance.now();
    const g = await generateConferrable({
      source, surrogates: models.surrogates, references: models.references, candidates: slice(data.test, candidates), n, classes, epsilon, steps,
      seed: sha256(new TextEncoder().encode(`hallmark/fingerprint/targets/v1/${seed}`)),
      onStep: (e) => o.onProgress?.({ stage: 'generate', done: (e.batch - 1) * e.steps + e.step, total: e.batches * e.steps, detail: `loss ${e.loss.toFixed(3)}` }),
      ...(o.signal ? { signal: o.signal } : {}),
    });
    const generatedAt = performance.now();

    const parameters: FingerprintParameters = { n, classes, height: h, width: w, channels: c, norm: 'linf', epsilon, steps, candidates, dataset: { name: data.descriptor.name, sha256: data.descriptor.digest.sha256 } };
    const opening: FingerprintOpening = { parameters, recipes, set: { images: g.images, targets: g.targets }, salt: new Uint8Array(randomBytes(SALT_BYTES)) };
    const commitment = commitFingerprint(opening);
    // The model's registration, then the secret, then the commitment: every committed entry can be opened.
    if (!findModel(o.home.ledger, info.id)) registerModel(o.home.ledger, { model: info.descriptor, format: info.format, tensors: info.tensors, actor: o.actor ?? 'hallmark-fingerprint' });
    const secretPath = await saveSecret(o.home.dir, fingerprintSecretId(commitment), encodeFingerprintOpening(opening), o.passphrase);
    const digests = recipeDigests(recipes);
    const index = appendFingerprintCommitted(o.home.ledger, { model: info.id, commitment, parameters, recipes: digests, ownerKey: o.home.ownerVerifierKey }, o.signer, o.actor);
    const cp = o.home.ledger.checkpoint();
    return {
      index, commitment, model: info.id, parameters, recipes: digests, checkpointSize: cp.size, secretPath,
      tried: g.tried, qualified: g.qualified, surrogateAgreement: g.surrogateAgreement, referenceAgreement: g.referenceAgreement,
      cleanAccuracy: acc, seededInitialisers: seededInitialisers(source), backend: backend.detail,
      seconds: { training: (trainedAt - started) / 1000, generation: (generatedAt - trainedAt) / 1000, total: (performance.now() - started) / 1000 },
    };
  } finally {
    source.dispose();
    for (const m of trained) m.dispose();
  }
}
