// `hallmark attack KIND MODEL --out PATH`: one attack, its output written beside nothing else,
// and the clean accuracy of the model before and after on the mnist test split (the task the
// fixture and the robustness bench use). Weight attacks keep the input's format (TF.js, ONNX,
// safetensors); training attacks need a TF.js Layers model and write one.
import { existsSync } from 'node:fs';
import { sha256 } from '@noble/hashes/sha2.js';
import { detectModelFormat, loadLayersModel, readModelTensors, saveLayersModel, tensorFromFloat32, tensorToFloat32, writeModelTensors, type ModelFormat, type NamedTensor } from '../formats/index.js';
import { loadMnist } from '../formats/mnist.js';
import { selectBackend, type BackendChoice } from '../train/backend.js';
import { evaluateAccuracy } from '../train/evaluate.js';
import type { LabelledImages } from '../train/fit.js';
import { openOnnxClassifier } from '../verify/local-classifiers.js';
import { AttackError } from './errors.js';
import { distill, fineTuneAllLayers, reinitLastLayerAndRetrain, studentSeed, type TrainBudget } from './train-attacks.js';
import { addGaussianNoise, countDistinct, pruneByMagnitude, quantizeUniform } from './weight-attacks.js';

export type AttackKind = 'ftal' | 'rtal' | 'prune' | 'quantize' | 'noise' | 'distill';
export const ATTACK_KINDS: readonly AttackKind[] = ['ftal', 'rtal', 'prune', 'quantize', 'noise', 'distill'];

export interface AttackOptions {
  readonly kind: AttackKind;
  readonly model: string;
  readonly out: string;
  /** ftal/rtal: fraction of the 8000 training images the attacker has (default 0.1). */
  readonly dataFraction?: number;
  /** prune: fraction of each kernel zeroed (default 0.5). */
  readonly amount?: number;
  /** quantize: bits per weight (default 8). */
  readonly bits?: number;
  /** noise: standard deviation relative to each kernel's (default 0.1). */
  readonly sigma?: number;
  /** ftal/rtal (default 2) and distill (default 3). */
  readonly epochs?: number;
  /** distill: unlabelled queries (default 4000). */
  readonly queries?: number;
  /** distill: train on the teacher's probabilities softened at this temperature (soft labels); default hard labels. */
  readonly temperature?: number;
  readonly learningRate?: number;
  readonly seed?: number;
  /** Clean accuracy on the first N test images (default all 2000). */
  readonly testLimit?: number;
  readonly backend?: BackendChoice;
  /** Training progress of ftal, rtal and distill (epoch and batch). */
  readonly onProgress?: TrainBudget['onProgress'];
}

export interface AttackResult {
  readonly kind: AttackKind;
  readonly parameters: Record<string, number>;
  readonly out: string;
  readonly format: ModelFormat;
  readonly cleanAccuracyBefore?: number;
  readonly cleanAccuracy?: number;
  /** Tensors the attack changed, and what it did to them. */
  readonly tensors: readonly { name: string; elements: number; zeroFraction: number; distinct: number }[];
  readonly backend: string;
  readonly seconds: number;
}

const isKernel = (t: NamedTensor) => t.shape.length >= 2 && ['F32', 'F16', 'BF16', 'F64'].includes(t.dtype);
const isFloat = (t: NamedTensor) => ['F32', 'F16', 'BF16', 'F64'].includes(t.dtype);

function head(split: LabelledImages, n: number): LabelledImages {
  const [, h, w, c] = split.shape;
  const m = Math.min(n, split.count);
  return { images: split.images.subarray(0, m * h * w * c), labels: Array.from(split.labels).slice(0, m), count: m, shape: [m, h, w, c] };
}

/** Clean accuracy of a model file on the test images (undefined for safetensors: no graph). */
export async function measureAccuracy(path: string, test: LabelledImages): Promise<number | undefined> {
  const { format, path: p } = await detectModelFormat(path);
  if (format === 'tfjs-layers') {
    const m = await loadLayersModel(p);
    try {
      return evaluateAccuracy(m, test);
    } finally {
      m.dispose();
    }
  }
  if (format === 'onnx') {
    const c = await openOnnxClassifier(p);
    try {
      const pred = await c.classify(test.images, test.count, [test.shape[1], test.shape[2], test.shape[3]]);
      return pred.reduce((s, v, i) => s + (v === test.labels[i] ? 1 : 0), 0) / test.count;
    } finally {
      await c.close();
    }
  }
  return undefined;
}

const seedBytes = (label: string) => sha256(new TextEncoder().encode(`hallmark/attack/v1/${label}`));

export async function runAttack(o: AttackOptions): Promise<AttackResult> {
  if (!ATTACK_KINDS.includes(o.kind)) throw new RangeError(`attack must be one of ${ATTACK_KINDS.join(', ')}, got ${String(o.kind)}`);
  if (existsSync(o.out)) throw new AttackError('ATTACK_EXISTS', `${o.out} exists; give a new --out path`);
  const started = performance.now();
  const seed = o.seed ?? 1;
  const backend = await selectBackend(o.backend ?? 'auto');
  const mnist = await loadMnist({ seed: 0 });
  const test = head(mnist.test, o.testLimit ?? mnist.test.count);
  const input = await detectModelFormat(o.model);
  const before = await measureAccuracy(o.model, test);
  let parameters: Record<string, number>;
  let changedNames: string[] = [];

  if (o.kind === 'prune' || o.kind === 'quantize' || o.kind === 'noise') {
    const { tensors } = await readModelTensors(o.model);
    const amount = o.amount ?? 0.5;
    const bits = o.bits ?? 8;
    const sigma = o.sigma ?? 0.1;
    parameters = o.kind === 'prune' ? { amount } : o.kind === 'quantize' ? { bits } : { sigma, seed };
    const replaced = tensors.filter(o.kind === 'quantize' ? isFloat : isKernel).map((t) => {
      const v = tensorToFloat32(t);
      const attacked = o.kind === 'prune' ? pruneByMagnitude(v, amount) : o.kind === 'quantize' ? quantizeUniform(v, bits) : addGaussianNoise(v, sigma, seedBytes(`noise/${seed}/${t.name}`));
      return tensorFromFloat32(t.name, t.dtype as 'F32', t.shape, attacked);
    });
    changedNames = replaced.map((t) => t.name);
    await writeModelTensors(o.model, o.out, replaced);
  } else {
    if (input.format !== 'tfjs-layers') throw new AttackError('ATTACK_UNSUPPORTED', `${o.kind} trains the model, which needs a TF.js Layers model; ${o.model} is ${input.format}`);
    const model = await loadLayersModel(input.path);
    try {
      const epochs = o.epochs ?? (o.kind === 'distill' ? 3 : 2);
      const lr = o.learningRate ?? 1e-3;
      if (o.kind === 'distill') {
        const queries = Math.min(o.queries ?? 4000, mnist.train.count);
        // Without --seed, the first seed whose student does not start from the teacher's own weights.
        const s = studentSeed(model, o.seed);
        parameters = { queries, epochs, learningRate: lr, seed: s, ...(o.temperature === undefined ? {} : { temperature: o.temperature }) };
        const q = head(mnist.train, queries);
        const soft = o.temperature === undefined ? {} : { temperature: o.temperature };
        const student = await distill(model, { images: q.images, count: q.count, shape: q.shape }, { epochs, learningRate: lr, seed: s, ...soft, ...(o.onProgress ? { onProgress: o.onProgress } : {}) });
        await saveLayersModel(student, o.out);
        changedNames = student.weights.map((w) => w.name);
        student.dispose();
      } else {
        const fraction = o.dataFraction ?? 0.1;
        if (!(fraction > 0 && fraction <= 1)) throw new RangeError(`data fraction must be in (0, 1], got ${fraction}`);
        parameters = { dataFraction: fraction, epochs, learningRate: lr, seed };
        // The attacker's share comes from the end of the split, the owner's fine-tuning from its start.
        const n = Math.max(1, Math.round(fraction * mnist.train.count));
        const from = mnist.train.count - n;
        const data: LabelledImages = { images: mnist.train.images.subarray(from * 784), labels: mnist.train.labels.subarray(from), count: n, shape: [n, 28, 28, 1] };
        if (o.kind === 'ftal') await fineTuneAllLayers(model, { data, epochs, learningRate: lr, seed, ...(o.onProgress ? { onProgress: o.onProgress } : {}) });
        else await reinitLastLayerAndRetrain(model, { data, epochs, learningRate: lr, seed, ...(o.onProgress ? { onProgress: o.onProgress } : {}) });
        await saveLayersModel(model, o.out);
        changedNames = model.weights.map((w) => w.name);
      }
    } finally {
      model.dispose();
    }
  }

  const written = (await readModelTensors(o.out)).tensors;
  const tensors = written.filter((t) => changedNames.includes(t.name)).map((t) => {
    const v = tensorToFloat32(t);
    return { name: t.name, elements: v.length, zeroFraction: v.reduce((s, x) => s + (x === 0 ? 1 : 0), 0) / v.length, distinct: countDistinct(v) };
  });
  const after = await measureAccuracy(o.out, test);
  return {
    kind: o.kind, parameters, out: o.out, format: (await detectModelFormat(o.out)).format,
    ...(before === undefined ? {} : { cleanAccuracyBefore: before }),
    ...(after === undefined ? {} : { cleanAccuracy: after }),
    tensors, backend: backend.detail, seconds: (performance.now() - started) / 1000,
  };
}
