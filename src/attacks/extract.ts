// Model extraction through an inference API: the thief of the guard's issue. It only has an API
// key and unlabelled inputs; every label it trains on is the endpoint's answer.
//
// - natural (`mnist-t10k`, `mnist` or a PNG folder): queries drawn from data the owner did not
//   train on. `mnist-t10k` is MNIST's own 10,000-digit test set (src/formats/mnist-idx.ts), none of
//   which is in the built-in `mnist` package: N queries are N distinct digits. `mnist` is the
//   built-in test split's first 1,000 digits (the owner's model saw only the train split,
//   src/formats/mnist.ts). Beyond the pool's size, queries are copies shifted by 0-2 pixels. The
//   built-in test split's last 1,000 digits stay unseen and measure the student.
// - synthetic: Jacobian-based dataset augmentation (Papernot et al., "Practical Black-Box Attacks
//   against Machine Learning", AsiaCCS 2017): 100 seed digits, then rounds in which a substitute
//   trained on the answers so far moves each new point by lambda * sign(d F_label / d x); each
//   round's new points are queried.
// The student is a fresh fixture-architecture model trained on all (query, answer) pairs.
import * as tf from '@tensorflow/tfjs';
import { loadMnist } from '../formats/mnist.js';
import { loadMnistT10k } from '../formats/mnist-idx.js';
import { loadPngFolder } from '../formats/png-folder.js';
import { saveLayersModel } from '../formats/index.js';
import { selectBackend, type BackendChoice } from '../train/backend.js';
import { evaluateAccuracy } from '../train/evaluate.js';
import { fitModel } from '../train/fit.js';
import { buildMnistCnn } from '../train/mnist-cnn.js';
import { openRemoteClassifier, type RemoteProtocol } from '../verify/index.js';

export interface ExtractOptions {
  readonly endpoint: string;
  readonly protocol?: RemoteProtocol;
  readonly modelName?: string;
  /** The thief's API key (sent as a bearer token; never printed). */
  readonly key?: string;
  readonly queries: number;
  /** 'mnist-t10k', 'mnist', 'synthetic', or a folder of PNGs (one subfolder per class; labels ignored). */
  readonly data?: string;
  readonly epochs?: number;
  readonly seed?: number;
  readonly out?: string;
  /** Synthetic: step size (default 0.1) and seed digits (default 100). */
  readonly lambda?: number;
  readonly seeds?: number;
  readonly substituteEpochs?: number;
  readonly batchSize?: number;
  readonly backend?: BackendChoice;
  readonly onProgress?: (e: { phase: string; queries: number }) => void;
}

export interface ExtractResult {
  readonly data: string;
  readonly queries: number;
  readonly requests: number;
  readonly epochs: number;
  /** Accuracy of the student on the 1,000 held-out mnist test digits (true labels). */
  readonly studentAccuracy: number;
  readonly out?: string;
  readonly backend: string;
  readonly seconds: number;
}

const SIDE = 28;
const PIX = SIDE * SIDE;
const SHIFTS: [number, number][] = [[0, 0], [1, 0], [-1, 0], [0, 1], [0, -1], [1, 1], [-1, -1], [1, -1], [-1, 1], [2, 0], [-2, 0], [0, 2], [0, -2]];

function shift(src: Float32Array, dx: number, dy: number): Float32Array {
  const out = new Float32Array(PIX);
  for (let y = 0; y < SIDE; y++) for (let x = 0; x < SIDE; x++) {
    const sx = x - dx;
    const sy = y - dy;
    if (sx >= 0 && sx < SIDE && sy >= 0 && sy < SIDE) out[y * SIDE + x] = src[sy * SIDE + sx]!;
  }
  return out;
}

/** N natural queries from a pool: the pool, then its shifted copies. */
export function naturalQueries(pool: Float32Array<ArrayBufferLike>, count: number, n: number): Float32Array {
  if (n > count * SHIFTS.length) throw new RangeError(`at most ${count * SHIFTS.length} natural queries can be made from ${count} images`);
  const out = new Float32Array(n * PIX);
  for (let q = 0; q < n; q++) {
    const [dx, dy] = SHIFTS[Math.floor(q / count)]!;
    out.set(shift(pool.subarray((q % count) * PIX, ((q % count) + 1) * PIX), dx, dy), q * PIX);
  }
  return out;
}

async function trainOn(images: Float32Array, labels: Int32Array, epochs: number, seed: number): Promise<tf.LayersModel> {
  const model = buildMnistCnn(seed);
  const n = labels.length;
  await fitModel({ model, optimizer: tf.train.adam(1e-3), data: { images, labels, count: n, shape: [n, SIDE, SIDE, 1] }, numClasses: 10, epochs, batchSize: 64, seed });
  return model;
}

/** x + lambda * sign(d softmax_label / dx), clipped to [0, 1]. */
function jacobianStep(model: tf.LayersModel, x: Float32Array, labels: Int32Array, lambda: number): Float32Array {
  const n = labels.length;
  return tf.tidy(() => {
    const xt = tf.tensor4d(x, [n, SIDE, SIDE, 1]);
    const mask = tf.oneHot(tf.tensor1d(labels, 'int32'), 10);
    const g = tf.grad((inp: tf.Tensor) => tf.sum(tf.mul(model.predict(inp) as tf.Tensor, mask)))(xt);
    return tf.clipByValue(tf.add(xt, tf.mul(tf.sign(g), lambda)), 0, 1).dataSync() as Float32Array;
  });
}

export async function extractModel(o: ExtractOptions): Promise<ExtractResult> {
  const started = performance.now();
  if (!Number.isSafeInteger(o.queries) || o.queries < 1 || o.queries > 100_000) throw new RangeError(`queries must be an integer in [1, 100000], got ${o.queries}`);
  const backend = await selectBackend(o.backend ?? 'auto');
  const seed = o.seed ?? 1;
  const epochs = o.epochs ?? 5;
  const data = o.data ?? 'mnist';
  const mnist = await loadMnist({ seed: 0 });
  const heldOut = { images: mnist.test.images.subarray(1000 * PIX), labels: mnist.test.labels.subarray(1000), count: 1000, shape: [1000, SIDE, SIDE, 1] as const };
  const clf = await openRemoteClassifier(
    { url: o.endpoint, protocol: o.protocol ?? 'oip-v2', batchSize: o.batchSize ?? 100, ...(o.modelName ? { modelName: o.modelName } : {}) },
    { maxRequests: 1_000_000, concurrency: 2, ...(o.key ? { headers: { authorization: `Bearer ${o.key}` } } : {}) },
  );
  const ask = async (x: Float32Array, n: number) => clf.classify(x, n, [SIDE, SIDE, 1]);
  let images: Float32Array;
  let labels: Int32Array;
  if (data === 'synthetic') {
    const lambda = o.lambda ?? 0.1;
    const seedCount = Math.min(o.seeds ?? 100, o.queries);
    let fresh: Float32Array<ArrayBufferLike> = mnist.test.images.slice(0, seedCount * PIX);
    const xs: Float32Array[] = [];
    const ys: Int32Array[] = [];
    let used = 0;
    let round = 0;
    for (;;) {
      const n = Math.min(fresh.length / PIX, o.queries - used);
      const batch = fresh.subarray(0, n * PIX);
      const y = await ask(batch, n);
      xs.push(Float32Array.from(batch));
      ys.push(y);
      used += n;
      o.onProgress?.({ phase: `synthetic round ${round}`, queries: used });
      if (used >= o.queries) break;
      const allX = concat(xs);
      const allY = concatInt(ys);
      const substitute = await trainOn(allX, allY, o.substituteEpochs ?? 3, seed + 100 + round);
      // Papernot's periodic step size: the sign flips every 3 rounds to stay near the data.
      const step = round % 6 < 3 ? lambda : -lambda;
      fresh = jacobianStep(substitute, allX, allY, step);
      substitute.dispose();
      round++;
    }
    images = concat(xs);
    labels = concatInt(ys);
  } else {
    let pool: Float32Array<ArrayBufferLike>;
    let count: number;
    if (data === 'mnist') {
      pool = mnist.test.images.subarray(0, 1000 * PIX);
      count = 1000;
    } else if (data === 'mnist-t10k') {
      const t10k = await loadMnistT10k();
      pool = t10k.images;
      count = t10k.count;
    } else {
      const folder = await loadPngFolder(data, { channels: 1 });
      if (folder.shape[1] !== SIDE || folder.shape[2] !== SIDE) throw new RangeError(`${data} holds ${folder.shape[1]}x${folder.shape[2]} images; the endpoint takes 28x28`);
      pool = folder.images;
      count = folder.count;
    }
    images = naturalQueries(pool, count, o.queries);
    labels = new Int32Array(o.queries);
    for (let from = 0; from < o.queries; from += 1000) {
      const n = Math.min(1000, o.queries - from);
      labels.set(await ask(images.subarray(from * PIX, (from + n) * PIX), n), from);
      o.onProgress?.({ phase: 'natural queries', queries: from + n });
    }
  }
  await clf.close();
  o.onProgress?.({ phase: 'training the student', queries: labels.length });
  const student = await trainOn(images, labels, epochs, seed);
  try {
    const studentAccuracy = evaluateAccuracy(student, heldOut);
    if (o.out) await saveLayersModel(student, o.out);
    return { data, queries: labels.length, requests: clf.budget.used, epochs, studentAccuracy, ...(o.out ? { out: o.out } : {}), backend: backend.detail, seconds: (performance.now() - started) / 1000 };
  } finally {
    student.dispose();
  }
}

function concat(parts: Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function concatInt(parts: Int32Array[]): Int32Array {
  const out = new Int32Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
