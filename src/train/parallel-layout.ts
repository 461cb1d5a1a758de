/**
 * The shared memory of one data-parallel fit (fit-parallel.ts on the main thread, fit-worker.ts in
 * each worker). Per step the main thread writes the global batch and the current trainable weights;
 * worker k computes the gradient of the summed loss over its contiguous slice of the batch into its
 * own gradient row; the main thread sums the rows in worker order (so a seed and a worker count give
 * one result), adds its own terms and applies the optimizer. Only control messages travel by
 * postMessage; no tensor does.
 */

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
  /** DONE + k: the last generation worker k finished. */
  DONE: 4,
} as const;

export const CMD_STEP = 1;
export const CMD_RELEASE = 2;

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
}

export interface SharedBuffers {
  readonly control: SharedArrayBuffer;
  readonly images: SharedArrayBuffer;
  /** One float32 target row (one-hot or soft) of numClasses per sample. */
  readonly targets: SharedArrayBuffer;
  /** Trainable weights, concatenated. */
  readonly weights: SharedArrayBuffer;
  /** One row of gradients per worker, each as long as `weights`. */
  readonly gradients: SharedArrayBuffer;
  /** Summed loss of each worker's slice (float64). */
  readonly losses: SharedArrayBuffer;
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
    control: new SharedArrayBuffer(4 * (CTL.DONE + layout.workers)),
    images: new SharedArrayBuffer(4 * capacity(layout) * layout.sampleSize),
    targets: new SharedArrayBuffer(4 * capacity(layout) * layout.numClasses),
    weights: new SharedArrayBuffer(4 * p),
    gradients: new SharedArrayBuffer(4 * p * layout.workers),
    losses: new SharedArrayBuffer(8 * layout.workers),
  };
}

/** Worker k's slice [from, to) of a batch of `size`: contiguous, sizes differing by at most one. */
export function sliceOf(k: number, workers: number, size: number): [number, number] {
  const base = Math.floor(size / workers);
  const extra = size % workers;
  const from = k * base + Math.min(k, extra);
  return [from, from + base + (k < extra ? 1 : 0)];
}
