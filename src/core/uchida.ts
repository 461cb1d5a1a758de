// The weight watermark of Uchida et al., "Embedding Watermarks into Deep Neural Networks"
// (ICMR 2017): a T-bit string b is carried by w, the mean over output channels of one kernel
// (kernel-layout.ts), through a secret projection X (T x M, standard normal entries from the
// seeded generator):
//
//   extraction   b_i = 1  iff  (X w)_i > 0
//   training     loss = lambda * (1/T) * sum_i BCE(sigmoid((X w)_i), b_i)
//                     = lambda * (1/T) * sum_i [softplus(y_i) - b_i y_i],   y = X w
//                dloss/dw = lambda * (1/T) * X^T (sigmoid(y) - b)
//                dloss/dK[o, f] = dloss/dw[f] / outputs           (for every output channel o)
//
// The paper sums over bits; we average (so lambda does not scale with T: lambda_paper = lambda/T).
// A TF.js training step can express the same loss with ops: y = matMul(X, mean(K, outputAxis)),
// loss = lambda * mean(softplus(y) - b * y); its autodiff gives the gradient above.
import { createPrng } from './prng.js';

export interface ProjectionMatrix {
  /** T: one row per bit. */
  readonly rows: number;
  /** M: the length of w. */
  readonly cols: number;
  /** Row-major, rows * cols entries. */
  readonly data: Float32Array;
}

/** Bounds the matrix to 256 MiB of float32 before anything is allocated. */
export const MAX_PROJECTION_ELEMENTS = 2 ** 26;

/** X: rows * cols standard normal samples from the seed's stream, row-major, rounded to float32. */
export function generateProjection(seed: Uint8Array, rows: number, cols: number): ProjectionMatrix {
  for (const [v, what] of [[rows, 'rows'], [cols, 'cols']] as const) {
    if (!Number.isSafeInteger(v) || v < 1) throw new RangeError(`projection ${what} must be a positive integer, got ${v}`);
  }
  if (rows * cols > MAX_PROJECTION_ELEMENTS) throw new RangeError(`projection of ${rows} x ${cols} exceeds ${MAX_PROJECTION_ELEMENTS} elements`);
  const data = new Float32Array(rows * cols);
  createPrng(seed).fillGaussian(data);
  return { rows, cols, data };
}

function checkW(x: ProjectionMatrix, w: ArrayLike<number>): void {
  if (w.length !== x.cols) throw new RangeError(`w has ${w.length} elements, the projection expects ${x.cols}`);
}

/** y = X w, accumulated in float64. */
export function project(x: ProjectionMatrix, w: ArrayLike<number>): Float64Array {
  checkW(x, w);
  const y = new Float64Array(x.rows);
  const { data, cols } = x;
  for (let i = 0; i < x.rows; i++) {
    let s = 0;
    const base = i * cols;
    for (let j = 0; j < cols; j++) s += data[base + j]! * w[j]!;
    y[i] = s;
  }
  return y;
}

/** The bits a kernel carries: 1 where (X w)_i > 0, else 0. */
export function extractBits(x: ProjectionMatrix, w: ArrayLike<number>): Uint8Array {
  return Uint8Array.from(project(x, w), (v) => (v > 0 ? 1 : 0));
}

export interface BitComparison {
  readonly total: number;
  readonly matches: number;
  readonly errors: number;
  /** Bit error rate: errors / total. */
  readonly ber: number;
}

/** Matches and bit error rate of extracted bits against the expected ones. */
export function compareBits(expected: Uint8Array, actual: Uint8Array): BitComparison {
  if (expected.length !== actual.length || expected.length === 0) throw new RangeError(`bit strings must be non-empty and of equal length (${expected.length} vs ${actual.length})`);
  let matches = 0;
  for (let i = 0; i < expected.length; i++) if ((expected[i]! & 1) === (actual[i]! & 1)) matches++;
  const total = expected.length;
  return { total, matches, errors: total - matches, ber: (total - matches) / total };
}

/** Signed margins s_i (X w)_i with s_i = +1 for bit 1 and -1 for bit 0: all > 0 iff extraction is exact. */
export function bitMargins(x: ProjectionMatrix, w: ArrayLike<number>, bits: Uint8Array): Float64Array {
  if (bits.length !== x.rows) throw new RangeError(`${bits.length} bits for a projection of ${x.rows} rows`);
  const y = project(x, w);
  return y.map((v, i) => (bits[i] ? v : -v));
}

export interface WatermarkLoss {
  /** lambda * mean BCE(sigmoid(X w), b). */
  readonly loss: number;
  /** dloss/dw, length M (spread it over a kernel with expandOverOutputChannels(g, shape, layout, 1/outputs)). */
  readonly gradient: Float64Array;
}

const softplus = (y: number) => (y > 0 ? y + Math.log1p(Math.exp(-y)) : Math.log1p(Math.exp(y)));
const sigmoid = (y: number) => (y >= 0 ? 1 / (1 + Math.exp(-y)) : Math.exp(y) / (1 + Math.exp(y)));

/** The embedding regulariser and its gradient in w (formulas above), numerically stable. */
export function watermarkLoss(x: ProjectionMatrix, w: ArrayLike<number>, bits: Uint8Array, lambda = 1): WatermarkLoss {
  if (bits.length !== x.rows) throw new RangeError(`${bits.length} bits for a projection of ${x.rows} rows`);
  const y = project(x, w);
  const gradient = new Float64Array(x.cols);
  let loss = 0;
  const k = lambda / x.rows;
  for (let i = 0; i < x.rows; i++) {
    const b = bits[i]! & 1;
    loss += softplus(y[i]!) - b * y[i]!;
    const r = k * (sigmoid(y[i]!) - b);
    const base = i * x.cols;
    for (let j = 0; j < x.cols; j++) gradient[j] = gradient[j]! + r * x.data[base + j]!;
  }
  return { loss: k * loss, gradient };
}
