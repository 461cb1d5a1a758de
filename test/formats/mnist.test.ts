import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { loadMnist, MNIST_PIXELS, permuteIndices } from '../../src/formats/mnist.js';

/** The split as the header of mnist.ts documents it, redone with node:crypto. */
function documentedSplit(seed: number): number[] {
  const order = Array.from({ length: 10000 }, (_, i) => i);
  let counter = 0;
  let words: number[] = [];
  for (let i = 9999; i > 0; i--) {
    if (words.length === 0) {
      const block = Buffer.alloc(8);
      block.writeUInt32BE(seed, 0);
      block.writeUInt32BE(counter++, 4);
      const d = createHash('sha256').update('hallmark/mnist-split/v1').update(block).digest();
      words = Array.from({ length: 8 }, (_, k) => d.readUInt32BE(4 * k));
    }
    const j = Math.floor((words.shift()! * (i + 1)) / 2 ** 32);
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order;
}

describe('loadMnist', () => {
  it('returns a fixed 8,000 / 2,000 split of the 10,000 package digits', async () => {
    const ds = await loadMnist({ seed: 0 });
    expect(ds.train.count).toBe(8000);
    expect(ds.test.count).toBe(2000);
    expect(ds.train.images.length).toBe(8000 * MNIST_PIXELS);
    expect(ds.test.shape).toEqual([2000, 28, 28, 1]);
    const all = new Set([...ds.train.sourceIndices, ...ds.test.sourceIndices]);
    expect(all.size).toBe(10000);
  });

  it('is deterministic per seed and differs across seeds', async () => {
    const a = await loadMnist({ seed: 7 });
    expect(Array.from(a.train.sourceIndices)).toEqual(Array.from(permuteIndices(10000, 7).subarray(0, 8000)));
    expect(Array.from(a.test.sourceIndices)).toEqual(documentedSplit(7).slice(8000));
    const b = await loadMnist({ seed: 8 });
    expect(Array.from(b.train.sourceIndices.subarray(0, 50))).not.toEqual(Array.from(a.train.sourceIndices.subarray(0, 50)));
  });

  it('keeps pixel values in 0..1 with real ink, and labels in 0..9', async () => {
    const { test } = await loadMnist({ seed: 0 });
    let min = Infinity;
    let max = -Infinity;
    for (const v of test.images) {
      min = Math.min(min, v);
      max = Math.max(max, v);
    }
    expect(min).toBe(0);
    expect(max).toBeCloseTo(1, 2);
    for (let i = 0; i < test.count; i++) {
      const img = test.images.subarray(i * MNIST_PIXELS, (i + 1) * MNIST_PIXELS);
      const ink = img.reduce((s, v) => s + v, 0);
      expect(ink).toBeGreaterThan(10); // a digit, not a blank
      expect(test.labels[i]).toBeLessThan(10);
    }
  });

  it('has every class at roughly its share in both splits', async () => {
    const ds = await loadMnist({ seed: 0 });
    for (const split of [ds.train, ds.test]) {
      const counts = new Array(10).fill(0);
      for (const l of split.labels) counts[l]++;
      for (const c of counts) {
        expect(c / split.count).toBeGreaterThan(0.07);
        expect(c / split.count).toBeLessThan(0.13);
      }
    }
  });

  it('shares no image between train and test', async () => {
    const ds = await loadMnist({ seed: 0 });
    const digest = (images: Float32Array, i: number) =>
      createHash('sha256').update(images.subarray(i * MNIST_PIXELS, (i + 1) * MNIST_PIXELS)).digest('hex');
    const trainSet = new Set(Array.from({ length: ds.train.count }, (_, i) => digest(ds.train.images, i)));
    const overlap = Array.from({ length: ds.test.count }, (_, i) => digest(ds.test.images, i)).filter((d) => trainSet.has(d));
    expect(overlap).toEqual([]);
  });

  it('rejects a bad seed', async () => {
    await expect(loadMnist({ seed: -1 })).rejects.toThrow(RangeError);
    await expect(loadMnist({ seed: 1.5 })).rejects.toThrow(RangeError);
  });
});
