/**
 * The shared memory of one data-parallel fit (fit-parallel.ts on the main thread, fit-worker.ts in
 * each worker). Per step the main thread writes the global batch and the current trainable weights;
 * worker k computes the gradient of the summed loss over its contiguous slice of the batch into its
 * own gradient row. The rows are summed in worker order (so a seed and a worker count give one
 * result), the main thread's own terms are added and the optimizer is applied: for plain Adam and
 * SGD by the workers themselves, each over its share of the weights, after all rows are in
 * (CMD_STEP_APPLY); otherwise by the main thread. Only control messages travel by postMessage; no
 * tensor does.
 */
import { COEF_LENGTH } from './flat-update.js';

/** Int32 slots of the control array. */
export const CTL = {
  /** Step generation: the main thread increments it to start a step (or to release the workers). */
  GEN: 0,
  /** Command for the current generation: STEP or RELEASE. */
  CMD: 1,
  /** Samples in this step's global batch. */
  SIZE: 2,
  /** Set to 1 by a worker whose step threw (it also posts the error). */
  FAILED: 3,
  /** CMD_STEP_APPLY: the generation whose coefficients and extra row the main thread has written. */
  EXTRA: 4,
  /** CMD_STEP_APPLY: the generation the main thread abandoned (its own part threw); workers apply nothing. */
  ABORT: 5,
  /** DONE + k: the last generation worker k finished its gradient. */
  DONE: 6,
} as const;

/** APPLIED slot of worker k: the last generation it applied the optimizer to its share of the weights. */
export function appliedSlot(layout: SharedLayout, k: number): number {
  return CTL.DONE + layout.workers + k;
}

export const CMD_STEP = 1;
export const CMD_RELEASE = 2;
/** A step after which each worker also applies the optimizer to its share of the weights (flat-update.ts). */
export const CMD_STEP_APPLY = 3;

export interface SharedLayout {
  readonly workers: number;
  readonly batchSize: number;
  /** Room for extra samples after the data samples of a batch. */
  readonly extraCapacity: number;
  readonly numClasses: number;
  /** Values per sample (h * w * c). */
  readonly sampleSize: number;
  /** Values per trainable weight, in model.trainableWeights order. */
  readonly weightSizes: readonly number[];
  /** Rows of per-weight optimizer state the workers update (Adam: 2; SGD, or no flat optimizer: 0). */
  readonly optimizerRows: number;
}

export interface SharedBuffers {
  readonly control: SharedArrayBuffer;
  readonly images: SharedArrayBuffer;
  /** One float32 target row (one-hot or soft) of numClasses per sample. */
  readonly targets: SharedArrayBuffer;
  /** Trainable weights, concatenated. */
  readonly weights: SharedArrayBuffer;
  /** One row of gradients per worker, then the main thread's own row, each as long as `weights`. */
  readonly gradients: SharedArrayBuffer;
  /** Summed loss of each worker's slice (float64). */
  readonly losses: SharedArrayBuffer;
  /** The flat optimizer's state rows (Adam: m then v), each as long as `weights`. */
  readonly optimizer: SharedArrayBuffer;
  /** The step's coefficients for flat-update.ts (float64, COEF_LENGTH). */
  readonly coefficients: SharedArrayBuffer;
}

export function totalWeights(layout: SharedLayout): number {
  return layout.weightSizes.reduce((a, n) => a + n, 0);
}

/** Samples one step can hold: the batch and the extra samples. */
export function capacity(layout: SharedLayout): number {
  return layout.batchSize + layout.extraCapacity;
}

export function allocateShared(layout: SharedLayout): SharedBuffers {
  const p = totalWeights(layout);
  return {
    control: new SharedArrayBuffer(4 * (CTL.DONE + 2 * layout.workers)),
    images: new SharedArrayBuffer(4 * capacity(layout) * layout.sampleSize),
    targets: new SharedArrayBuffer(4 * capacity(layout) * layout.numClasses),
    weights: new SharedArrayBuffer(4 * p),
    gradients: new SharedArrayBuffer(4 * p * (layout.workers + 1)),
    losses: new SharedArrayBuffer(8 * layout.workers),
    optimizer: new SharedArrayBuffer(4 * p * layout.optimizerRows),
    coefficients: new SharedArrayBuffer(8 * COEF_LENGTH),
  };
}

/** Worker k's slice [from, to) of a batch of `size`: contiguous, sizes differing by at most one. */
export function sliceOf(k: number, workers: number, size: number): [number, number] {
  const base = Math.floor(size / workers);
  const extra = size % workers;
  const from = k * base + Math.min(k, extra);
  return [from, from + base + (k < extra ? 1 : 0)];
}
