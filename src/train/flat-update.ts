/**
 * One step of plain tfjs SGD or Adam over a range of the flat weight vector, from the workers'
 * gradient rows: the one loop both the main thread (flat-optimizer.ts) and, in data-parallel
 * fitting, each worker over its own share of the weights (fit-worker.ts) run, so the two give the
 * same weights to the bit.
 *
 * Per weight i: g = (rows summed in row order, then times `scale`) plus `extra[i]`, each operation
 * rounded to float32 (as meanGradient did); then the optimizer's update in tfjs-core 4.22's order,
 * each operation rounded to float32 (see flat-optimizer.ts). The step's constants travel in a
 * Float64Array (they are float32 values, which a double holds exactly).
 */

/** Slots of the coefficient array. */
export const COEF = {
  /** KIND_NONE, KIND_SGD or KIND_ADAM. */
  KIND: 0,
  /** The gradient rows' sum is multiplied by this (1 / the step's sample count). */
  SCALE: 1,
  /** 1 when the extra row (the main thread's own gradient) is added, else 0. */
  EXTRA: 2,
  /** SGD: -learningRate. Adam: beta1, beta2, 1 - beta1, 1 - beta2, epsilon, -learningRate, 1 - beta1^t, 1 - beta2^t. */
  ARGS: 3,
} as const;
export const COEF_LENGTH = COEF.ARGS + 8;
export const KIND_NONE = 0;
export const KIND_SGD = 1;
export const KIND_ADAM = 2;

const f = Math.fround;

export interface UpdateRange {
  /** `rowCount` gradient rows, each `w.length` long, one after the other. */
  readonly rows: Float32Array;
  readonly rowCount: number;
  /** Added after scaling when coef[COEF.EXTRA] is 1. */
  readonly extra: Float32Array | undefined;
  readonly coef: Float64Array;
  readonly w: Float32Array;
  /** Adam's first and second moments (unused by SGD), each `w.length` long. */
  readonly m: Float32Array;
  readonly v: Float32Array;
  readonly from: number;
  readonly to: number;
}

/** Applies the step to weights [from, to). */
export function updateRange(u: UpdateRange): void {
  const kind = u.coef[COEF.KIND];
  if (kind === KIND_ADAM) adamRange(u);
  else if (kind === KIND_SGD) sgdRange(u);
  else throw new RangeError(`no flat optimizer of kind ${kind}`);
}

/** Reused between steps: a fresh array of this size costs page faults every step. */
let scratch = new Float32Array(0);

/**
 * The mean gradients of weights [from, to), as meanGradient computes them: simple passes, each
 * store into a Float32Array rounding to float32 as Math.fround would.
 */
function meanGradients(u: UpdateRange): Float32Array {
  const { rows, rowCount, coef, from, to } = u;
  const p = u.w.length;
  const n = to - from;
  if (scratch.length < n) scratch = new Float32Array(n);
  const g = scratch.subarray(0, n);
  g.set(rows.subarray(from, to));
  for (let k = 1; k < rowCount; k++) {
    const row = rows.subarray(k * p + from, k * p + to);
    for (let i = 0; i < n; i++) g[i] = g[i]! + row[i]!;
  }
  const scale = coef[COEF.SCALE]!;
  for (let i = 0; i < n; i++) g[i] = g[i]! * scale;
  if (coef[COEF.EXTRA] === 1 && u.extra !== undefined) {
    const extra = u.extra.subarray(from, to);
    for (let i = 0; i < n; i++) g[i] = g[i]! + extra[i]!;
  }
  return g;
}

function sgdRange(u: UpdateRange): void {
  const { coef, w, from, to } = u;
  const g = meanGradients(u);
  const c = coef[COEF.ARGS]!;
  for (let i = from; i < to; i++) w[i] = f(f(c * g[i - from]!) + w[i]!);
}

function adamRange(u: UpdateRange): void {
  const { coef, w, m, v, from, to } = u;
  const g = meanGradients(u);
  const a = COEF.ARGS;
  const [b1, b2, c1, c2, eps, rate, oneMinusAcc1, oneMinusAcc2] = [coef[a]!, coef[a + 1]!, coef[a + 2]!, coef[a + 3]!, coef[a + 4]!, coef[a + 5]!, coef[a + 6]!, coef[a + 7]!];
  for (let i = from; i < to; i++) {
    const gi = g[i - from]!;
    const mi = f(f(m[i]! * b1) + f(gi * c1));
    const vi = f(f(v[i]! * b2) + f(f(gi * gi) * c2));
    m[i] = mi;
    v[i] = vi;
    const mHat = f(mi / oneMinusAcc1);
    const vHat = f(vi / oneMinusAcc2);
    w[i] = f(f(f(mHat / f(f(Math.sqrt(vHat)) + eps)) * rate) + w[i]!);
  }
}
