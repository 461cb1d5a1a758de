// The black-box view of a suspect: something that answers a class for each image. Local files
// (onnxruntime-node, TF.js) and remote endpoints (remote-classifier.ts) implement it, so the
// trigger check does not care where the answers come from.
import { VerifyError } from './errors.js';

export type ImageShape = readonly [height: number, width: number, channels: number];

export interface Classifier {
  /** One line for people: what answers (runtime, endpoint, protocol). */
  readonly description: string;
  /** The predicted class of each of the n NHWC images (values in [0, 1]). */
  classify(images: Float32Array, n: number, shape: ImageShape): Promise<Int32Array>;
  close(): Promise<void>;
}

/** Index of the largest score in each row of a row-major [n, classes] array; NaN rows are an error. */
export function argmaxRows(scores: ArrayLike<number>, n: number, where: string): Int32Array {
  if (n < 1 || scores.length % n !== 0 || scores.length === 0) {
    throw new VerifyError('VERIFY_REMOTE_BAD_RESPONSE', `${where}: ${scores.length} scores cannot be split into ${n} rows`);
  }
  const classes = scores.length / n;
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    let max = -Infinity;
    for (let j = 0; j < classes; j++) {
      const v = scores[i * classes + j]!;
      if (typeof v !== 'number' || Number.isNaN(v)) throw new VerifyError('VERIFY_REMOTE_BAD_RESPONSE', `${where}: score ${j} of row ${i} is not a number`);
      if (v > max) {
        max = v;
        best = j;
      }
    }
    out[i] = best;
  }
  return out;
}

/** NHWC -> NCHW for models (PyTorch exports) that take channels first. */
export function toNchw(images: Float32Array, n: number, [h, w, c]: ImageShape): Float32Array {
  const out = new Float32Array(images.length);
  for (let k = 0; k < n; k++) {
    const base = k * h * w * c;
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let ch = 0; ch < c; ch++) out[base + (ch * h + y) * w + x] = images[base + (y * w + x) * c + ch]!;
  }
  return out;
}

/**
 * The layout a model input with these dims expects for images of `shape`: NHWC when dims are
 * [batch, h, w, c], NCHW when [batch, c, h, w]; unknown (symbolic) dims match anything.
 */
export function inputLayout(dims: readonly (number | string)[], [h, w, c]: ImageShape): 'NHWC' | 'NCHW' | undefined {
  if (dims.length !== 4) return undefined;
  const fits = (want: number[]) => want.every((d, i) => typeof dims[i + 1] !== 'number' || dims[i + 1] === d);
  if (fits([h, w, c])) return 'NHWC';
  if (fits([c, h, w])) return 'NCHW';
  return undefined;
}
