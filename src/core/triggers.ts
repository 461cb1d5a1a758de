// The trigger set of Adi et al., "Turning Your Weakness Into a Strength: Watermarking Deep
// Neural Networks by Backdooring" (USENIX Security 2018): N key-derived inputs with key-derived
// labels that the marked model learns to answer and an independent model answers by chance.
//
// Kind: abstract patterns (as in Adi et al.), not pixel noise. Each image is a sinusoidal grating
// plus a few Gaussian blobs: smooth, so a CNN learns them from features that survive pruning,
// quantisation and weight noise better than the single-pixel detail of i.i.d. noise, yet unlike
// any digit or photo. Labels come from a separate seed, uniform and independent of the images,
// so a model that never saw them agrees with each by chance with probability exactly 1/C
// whatever it answers (stats.ts chanceRate), which makes the binomial null hypothesis honest.
//
// Specification, per image in order, drawing from createPrng(imageSeed) (prng.ts):
//   grating: theta = pi*u, freq = 1.5 + 3.5u (cycles per image width), phase = 2 pi u,
//            then per channel an amplitude 0.3 + 0.7u
//   blobs:   count = 2 + int(4); per blob cy = H u, cx = W u, radius = 1.5 + 4.5u,
//            then per channel an amplitude 2u - 1
//   pixel (y, x, c) = amp_c * sin(2 pi freq (x cos theta + y sin theta) / W + phase)
//                     + sum over blobs amp_bc * exp(-((y - cy)^2 + (x - cx)^2) / (2 radius^2))
//   then min-max scaled over the whole image to [0, 1] and rounded to k/255 (so a PNG or a
//   uint8 request carries it exactly), stored NHWC.
// Labels: label_i = int(C) from createPrng(labelSeed), i = 0..N-1.
// Input mapping: a trigger is an image, so a model that takes normalised pixels gets it
// normalised as its training images were (preprocess.ts): with `input` = { range [lo, hi], mean,
// std } (per channel), value = (lo + v (hi - lo) - mean[c]) / std[c] for the [0, 1] value v above.
// Without `input` (every commitment before it, and models that take 0..1) the values are fed as
// they are. The mapping is committed with the mark's parameters, so verification feeds the same.
import { createPrng } from './prng.js';

export interface TriggerImageOptions {
  readonly seed: Uint8Array;
  readonly n: number;
  readonly height: number;
  readonly width: number;
  readonly channels: number;
}

export interface TriggerSet {
  readonly n: number;
  readonly height: number;
  readonly width: number;
  readonly channels: number;
  readonly classes: number;
  /** n * height * width * channels values in [0, 1], NHWC. */
  readonly images: Float32Array;
  /** n labels in [0, classes). */
  readonly labels: Int32Array;
}

const MAX_ELEMENTS = 2 ** 26;

function checkInt(v: number, lo: number, hi: number, what: string): void {
  if (!Number.isSafeInteger(v) || v < lo || v > hi) throw new RangeError(`${what} must be an integer in [${lo}, ${hi}], got ${v}`);
}

/** The images of a trigger set (specification above). */
export function generateTriggerImages(options: TriggerImageOptions): Float32Array {
  const { seed, n, height: h, width: w, channels: ch } = options;
  checkInt(n, 1, 1_000_000, 'trigger count');
  checkInt(h, 1, 4096, 'height');
  checkInt(w, 1, 4096, 'width');
  checkInt(ch, 1, 4, 'channels');
  if (n * h * w * ch > MAX_ELEMENTS) throw new RangeError(`trigger set of ${n * h * w * ch} values exceeds ${MAX_ELEMENTS}`);
  const g = createPrng(seed);
  const out = new Float32Array(n * h * w * ch);
  const img = new Float64Array(h * w * ch);
  for (let k = 0; k < n; k++) {
    const theta = Math.PI * g.nextFloat();
    const freq = 1.5 + 3.5 * g.nextFloat();
    const phase = 2 * Math.PI * g.nextFloat();
    const amp = Array.from({ length: ch }, () => 0.3 + 0.7 * g.nextFloat());
    const blobs = Array.from({ length: 2 + g.nextInt(4) }, () => ({
      cy: h * g.nextFloat(),
      cx: w * g.nextFloat(),
      r: 1.5 + 4.5 * g.nextFloat(),
      amp: Array.from({ length: ch }, () => 2 * g.nextFloat() - 1),
    }));
    const [ct, st] = [Math.cos(theta), Math.sin(theta)];
    let lo = Infinity;
    let hi = -Infinity;
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const wave = Math.sin((2 * Math.PI * freq * (x * ct + y * st)) / w + phase);
        const falloff = blobs.map((b) => Math.exp(-((y - b.cy) ** 2 + (x - b.cx) ** 2) / (2 * b.r * b.r)));
        for (let c = 0; c < ch; c++) {
          let v = amp[c]! * wave;
          for (let i = 0; i < blobs.length; i++) v += blobs[i]!.amp[c]! * falloff[i]!;
          img[(y * w + x) * ch + c] = v;
          if (v < lo) lo = v;
          if (v > hi) hi = v;
        }
      }
    }
    const span = hi - lo;
    const base = k * h * w * ch;
    for (let i = 0; i < img.length; i++) out[base + i] = span > 0 ? Math.round((255 * (img[i]! - lo)) / span) / 255 : 0.5;
  }
  return out;
}

/** How trigger pixels in [0, 1] become the model's input values (specification above). */
export interface TriggerInputMap {
  readonly range: readonly [number, number];
  /** One value, or one per channel. */
  readonly mean: readonly number[];
  /** One value, or one per channel; none is 0. */
  readonly std: readonly number[];
}

/** Whether a mapping changes nothing (0..1, mean 0, std 1): then it is not committed. */
export function isIdentityTriggerInput(m: TriggerInputMap): boolean {
  return m.range[0] === 0 && m.range[1] === 1 && m.mean.every((v) => v === 0) && m.std.every((v) => v === 1);
}

/** The images mapped to the model's input values, NHWC with `channels` channels. */
export function mapTriggerInput(images: Float32Array, channels: number, m: TriggerInputMap): Float32Array {
  const [lo, hi] = m.range;
  const at = (v: readonly number[], c: number) => v[v.length === 1 ? 0 : c]!;
  for (const [what, v] of [['mean', m.mean], ['std', m.std]] as const) {
    if (v.length !== 1 && v.length !== channels) throw new RangeError(`trigger input ${what} has ${v.length} values for ${channels} channels`);
    if (!v.every(Number.isFinite) || (what === 'std' && v.some((x) => x === 0))) throw new RangeError(`trigger input ${what} must be finite numbers${what === 'std' ? ', none 0' : ''}`);
  }
  if (!(Number.isFinite(lo) && Number.isFinite(hi) && lo !== hi)) throw new RangeError('trigger input range must be two different finite numbers');
  const out = new Float32Array(images.length);
  for (let i = 0; i < images.length; i++) {
    const c = i % channels;
    out[i] = (lo + images[i]! * (hi - lo) - at(m.mean, c)) / at(m.std, c);
  }
  return out;
}

/** n labels, uniform in [0, classes), from their own seed. */
export function generateTriggerLabels(options: { seed: Uint8Array; n: number; classes: number }): Int32Array {
  checkInt(options.n, 1, 1_000_000, 'trigger count');
  checkInt(options.classes, 2, 65536, 'classes');
  const g = createPrng(options.seed);
  return Int32Array.from({ length: options.n }, () => g.nextInt(options.classes));
}

/** A whole trigger set from its two seeds (derive.ts: trigger-images, trigger-labels). */
export function generateTriggerSet(options: TriggerImageOptions & { labelSeed: Uint8Array; classes: number }): TriggerSet {
  const { n, height, width, channels, classes } = options;
  return {
    n, height, width, channels, classes,
    images: generateTriggerImages(options),
    labels: generateTriggerLabels({ seed: options.labelSeed, n, classes }),
  };
}

/** How many predicted classes equal the trigger labels. */
export function countTriggerMatches(labels: Int32Array, predictions: ArrayLike<number>): number {
  if (predictions.length !== labels.length) throw new RangeError(`${predictions.length} predictions for ${labels.length} triggers`);
  let m = 0;
  for (let i = 0; i < labels.length; i++) if (predictions[i] === labels[i]) m++;
  return m;
}
