// Trigger sets: the documented specification (re-implemented naively here), value range and
// quantisation, label uniformity and independence, and distance from real MNIST digits.
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { createPrng } from '../../src/core/prng.js';
import { countTriggerMatches, generateTriggerImages, generateTriggerLabels, generateTriggerSet } from '../../src/core/triggers.js';

const seed = (b: number) => new Uint8Array(32).fill(b);

/** The specification in triggers.ts, written out pixel by pixel. */
function naiveImages(s: Uint8Array, n: number, h: number, w: number, ch: number): number[] {
  const g = createPrng(s);
  const out: number[] = [];
  for (let k = 0; k < n; k++) {
    const theta = Math.PI * g.nextFloat();
    const freq = 1.5 + 3.5 * g.nextFloat();
    const phase = 2 * Math.PI * g.nextFloat();
    const amp: number[] = [];
    for (let c = 0; c < ch; c++) amp.push(0.3 + 0.7 * g.nextFloat());
    const count = 2 + g.nextInt(4);
    const blobs: { cy: number; cx: number; r: number; a: number[] }[] = [];
    for (let b = 0; b < count; b++) {
      const cy = h * g.nextFloat();
      const cx = w * g.nextFloat();
      const r = 1.5 + 4.5 * g.nextFloat();
      const a: number[] = [];
      for (let c = 0; c < ch; c++) a.push(2 * g.nextFloat() - 1);
      blobs.push({ cy, cx, r, a });
    }
    const raw: number[] = [];
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++)
        for (let c = 0; c < ch; c++) {
          let v = amp[c]! * Math.sin((2 * Math.PI * freq * (x * Math.cos(theta) + y * Math.sin(theta))) / w + phase);
          for (const b of blobs) v += b.a[c]! * Math.exp(-((y - b.cy) ** 2 + (x - b.cx) ** 2) / (2 * b.r * b.r));
          raw.push(v);
        }
    const lo = Math.min(...raw);
    const hi = Math.max(...raw);
    for (const v of raw) out.push(Math.fround(Math.round((255 * (v - lo)) / (hi - lo)) / 255));
  }
  return out;
}

describe('generateTriggerImages', () => {
  it('follows the documented specification, grey and colour', () => {
    expect(Array.from(generateTriggerImages({ seed: seed(1), n: 5, height: 28, width: 28, channels: 1 }))).toEqual(naiveImages(seed(1), 5, 28, 28, 1));
    expect(Array.from(generateTriggerImages({ seed: seed(2), n: 3, height: 8, width: 12, channels: 3 }))).toEqual(naiveImages(seed(2), 3, 8, 12, 3));
  });

  it('100 MNIST-shaped triggers: [0, 1], multiples of 1/255, full range, all different', () => {
    const imgs = generateTriggerImages({ seed: seed(3), n: 100, height: 28, width: 28, channels: 1 });
    expect(imgs.length).toBe(100 * 784);
    expect(imgs.every((v) => v >= 0 && v <= 1 && Math.abs(v * 255 - Math.round(v * 255)) < 1e-4)).toBe(true);
    const dist = (a: number, b: number) => {
      let s = 0;
      for (let i = 0; i < 784; i++) s += (imgs[a * 784 + i]! - imgs[b * 784 + i]!) ** 2;
      return Math.sqrt(s);
    };
    for (let k = 0; k < 100; k++) {
      const one = imgs.subarray(k * 784, (k + 1) * 784);
      expect(Math.min(...one)).toBe(0);
      expect(Math.max(...one)).toBe(1);
      for (let j = 0; j < k; j++) expect(dist(j, k)).toBeGreaterThan(1);
    }
    expect(generateTriggerImages({ seed: seed(4), n: 1, height: 28, width: 28, channels: 1 })).not.toEqual(imgs.subarray(0, 784));
  });

  it('are far from real MNIST digits (the mnist package), farther than digits are from each other', () => {
    const mnist = createRequire(import.meta.url)('mnist') as { set(a: number, b: number): { training: { input: number[] }[] } };
    const digits = mnist.set(300, 0).training.map((d) => d.input);
    const imgs = generateTriggerImages({ seed: seed(5), n: 20, height: 28, width: 28, channels: 1 });
    const d2 = (a: ArrayLike<number>, b: ArrayLike<number>) => {
      let s = 0;
      for (let i = 0; i < 784; i++) s += (a[i]! - b[i]!) ** 2;
      return s;
    };
    const nearest = (x: ArrayLike<number>, skip?: number) => Math.min(...digits.filter((_, i) => i !== skip).map((d) => d2(x, d)));
    const digitToDigit = digits.slice(0, 50).map((d, i) => nearest(d, i)).sort((a, b) => a - b)[25]!;
    for (let k = 0; k < 20; k++) expect(nearest(imgs.subarray(k * 784, (k + 1) * 784))).toBeGreaterThan(digitToDigit);
  });

  it('rejects sizes it would not allocate', () => {
    expect(() => generateTriggerImages({ seed: seed(1), n: 0, height: 28, width: 28, channels: 1 })).toThrow(RangeError);
    expect(() => generateTriggerImages({ seed: seed(1), n: 1_000_000, height: 256, width: 256, channels: 3 })).toThrow(RangeError);
  });
});

describe('generateTriggerLabels', () => {
  it('are the label stream: int(C) per trigger', () => {
    const g = createPrng(seed(6));
    expect(Array.from(generateTriggerLabels({ seed: seed(6), n: 50, classes: 10 }))).toEqual(Array.from({ length: 50 }, () => g.nextInt(10)));
  });

  it('are uniform over the classes (chi-square, 9 dof)', () => {
    const labels = generateTriggerLabels({ seed: seed(7), n: 20_000, classes: 10 });
    const counts = new Array<number>(10).fill(0);
    for (const l of labels) counts[l]!++;
    expect(counts.reduce((s, o) => s + (o - 2000) ** 2 / 2000, 0)).toBeLessThan(27.9);
  });

  it('do not depend on the image seed, and the set is deterministic', () => {
    const a = generateTriggerSet({ seed: seed(8), labelSeed: seed(9), n: 10, height: 28, width: 28, channels: 1, classes: 10 });
    const b = generateTriggerSet({ seed: seed(10), labelSeed: seed(9), n: 10, height: 28, width: 28, channels: 1, classes: 10 });
    expect(a.labels).toEqual(b.labels);
    expect(a.images).not.toEqual(b.images);
    expect(generateTriggerSet({ seed: seed(8), labelSeed: seed(9), n: 10, height: 28, width: 28, channels: 1, classes: 10 })).toEqual(a);
    expect(a.labels.every((l) => l >= 0 && l < 10)).toBe(true);
  });

  it('countTriggerMatches counts equal answers', () => {
    expect(countTriggerMatches(Int32Array.of(1, 2, 3), [1, 0, 3])).toBe(2);
    expect(() => countTriggerMatches(Int32Array.of(1), [1, 2])).toThrow(RangeError);
  });
});
