/**
 * One data-parallel training worker (see parallel-layout.ts). It keeps its own TensorFlow.js backend
 * between fits; each fit sends `load` with the model's topology and the shared buffers, and the
 * worker then serves steps from shared memory until the main thread releases it.
 */
import { parentPort } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs';
import { selectBackend, type BackendChoice } from './backend.js';
import { copyValuesInto, tensorOfShared } from './kernel-util.js';
import { updateRange } from './flat-update.js';
import { appliedSlot, CMD_RELEASE, CMD_STEP_APPLY, CTL, sliceOf, totalWeights, type SharedBuffers, type SharedLayout } from './parallel-layout.js';
import { trainingFlag } from './training-mode.js';

export interface LoadMessage {
  readonly type: 'load';
  readonly backend: BackendChoice;
  readonly index: number;
  readonly topology: object;
  /** Every weight (trainable or not) in model.weights order, to start from the main thread's model. */
  readonly initialWeights: readonly { values: Float32Array; shape: number[] }[];
  readonly numClasses: number;
  readonly imageShape: readonly [number, number, number];
  readonly layout: SharedLayout;
  readonly buffers: SharedBuffers;
}

/** Starts the backend (tfjs import, wasm compile: about a second) before the first fit needs it. */
export interface WarmMessage {
  readonly type: 'warm';
  readonly backend: BackendChoice;
}

export type WorkerReply = { type: 'ready'; backend: string } | { type: 'error'; message: string } | { type: 'released' };

const port = parentPort;
if (port === null) throw new Error('fit-worker.ts runs as a worker thread only');
/** The backend this worker runs on, selected once (by a warm-up message or the first load). */
let backendReady: Promise<string> | undefined;
const backendOf = (choice: BackendChoice): Promise<string> => (backendReady ??= selectBackend(choice).then((b) => b.name));

port.on('message', (msg: LoadMessage | WarmMessage) => {
  // A failed warm-up is reported by the load that follows it.
  if (msg.type === 'warm') return void backendOf(msg.backend).catch(() => {});
  void serve(msg).catch((e: unknown) => port.postMessage({ type: 'error', message: e instanceof Error ? e.message : String(e) } satisfies WorkerReply));
});

/**
 * The last model this worker rebuilt, kept for the next fit of the same topology (calibration,
 * attacks and embedding phases fit one architecture many times): rebuilding it and its first steps
 * on fresh memory cost tens of milliseconds a fit. Its weights are replaced at every load.
 */
let replica: { readonly topology: string; readonly model: tf.LayersModel } | undefined;

async function replicaOf(topology: object): Promise<tf.LayersModel> {
  const key = JSON.stringify(topology);
  if (replica?.topology === key) return replica.model;
  replica?.model.dispose();
  replica = undefined;
  const model = await tf.models.modelFromJSON({ modelTopology: topology } as tf.io.ModelArtifacts as never);
  replica = { topology: key, model };
  return model;
}

async function serve(msg: LoadMessage): Promise<void> {
  const backend = await backendOf(msg.backend);
  const model = await replicaOf(msg.topology);
  try {
    const all = msg.initialWeights.map((w) => tf.tensor(w.values, w.shape));
    model.setWeights(all);
    tf.dispose(all);
    const vars = model.trainableWeights.map((v) => v.read() as tf.Variable);
    if (vars.length !== msg.layout.weightSizes.length || vars.some((v, i) => v.size !== msg.layout.weightSizes[i])) {
      throw new Error('the rebuilt model has other trainable weights than the original');
    }
    port!.postMessage({ type: 'ready', backend } satisfies WorkerReply);
    stepLoop(model, vars, msg);
  } catch (e) {
    replica?.model.dispose();
    replica = undefined;
    throw e;
  }
  port!.postMessage({ type: 'released' } satisfies WorkerReply);
}

/** Blocks on the control array; returns when the main thread releases this worker. */
function stepLoop(model: tf.LayersModel, vars: tf.Variable[], msg: LoadMessage): void {
  const { layout, buffers, index, numClasses } = msg;
  const ctl = new Int32Array(buffers.control);
  const images = new Float32Array(buffers.images);
  const targets = new Float32Array(buffers.targets);
  const weights = new Float32Array(buffers.weights);
  const p = totalWeights(layout);
  const grads = new Float32Array(buffers.gradients, 4 * p * index, p);
  const losses = new Float64Array(buffers.losses);
  const [h, w, c] = msg.imageShape;
  let seen = 0;
  for (;;) {
    Atomics.wait(ctl, CTL.GEN, seen);
    const gen = Atomics.load(ctl, CTL.GEN);
    seen = gen;
    if (Atomics.load(ctl, CTL.CMD) === CMD_RELEASE) return;
    try {
      const [from, to] = sliceOf(index, layout.workers, Atomics.load(ctl, CTL.SIZE));
      losses[index] = to > from ? sliceGradient(model, vars, weights, grads, images.subarray(from * layout.sampleSize, to * layout.sampleSize), targets.subarray(from * numClasses, to * numClasses), [to - from, h, w, c], numClasses) : 0;
      if (to <= from) grads.fill(0);
    } catch (e) {
      Atomics.store(ctl, CTL.FAILED, 1);
      port!.postMessage({ type: 'error', message: e instanceof Error ? e.message : String(e) } satisfies WorkerReply);
    }
    Atomics.store(ctl, CTL.DONE + index, gen);
    Atomics.notify(ctl, CTL.DONE + index);
    if (Atomics.load(ctl, CTL.CMD) === CMD_STEP_APPLY) applyShare(msg, gen);
  }
}

/**
 * CMD_STEP_APPLY: once every worker's gradient row and the main thread's part are in, applies the
 * optimizer to this worker's share of the weights (the same loop the main thread would run over all
 * of them), then reports APPLIED. A step abandoned by a failed worker or by the main thread applies
 * nothing.
 */
function applyShare(msg: LoadMessage, gen: number): void {
  const { layout, buffers, index } = msg;
  const ctl = new Int32Array(buffers.control);
  const p = totalWeights(layout);
  const slots = [CTL.EXTRA, ...Array.from({ length: layout.workers }, (_, j) => CTL.DONE + j)];
  if (slots.every((slot) => reached(ctl, slot, gen))) {
    const [from, to] = sliceOf(index, layout.workers, p);
    const state = new Float32Array(buffers.optimizer);
    updateRange({
      rows: new Float32Array(buffers.gradients, 0, p * layout.workers), rowCount: layout.workers,
      extra: new Float32Array(buffers.gradients, 4 * p * layout.workers, p), coef: new Float64Array(buffers.coefficients),
      w: new Float32Array(buffers.weights), m: state.subarray(0, state.length / 2), v: state.subarray(state.length / 2), from, to,
    });
  }
  Atomics.store(ctl, appliedSlot(layout, index), gen);
  Atomics.notify(ctl, appliedSlot(layout, index));
}

/** Blocks until ctl[slot] is `gen`; false when the step was abandoned first. */
function reached(ctl: Int32Array, slot: number, gen: number): boolean {
  for (;;) {
    const v = Atomics.load(ctl, slot);
    if (v === gen) return true;
    if (Atomics.load(ctl, CTL.FAILED) !== 0 || Atomics.load(ctl, CTL.ABORT) === gen) return false;
    // A failure or abort is also noticed within 50 ms by slots nobody will notify.
    Atomics.wait(ctl, slot, v, 50);
  }
}

/** Loads the shared weights, writes d(sum of losses over the slice)/d(weights) into `grads`, returns the summed loss. */
function sliceGradient(
  model: tf.LayersModel, vars: tf.Variable[], weights: Float32Array, grads: Float32Array,
  xsShared: Float32Array, ysShared: Float32Array, shape: [number, number, number, number], numClasses: number,
): number {
  return tf.tidy(() => {
    let off = 0;
    for (const v of vars) {
      v.assign(tensorOfShared(weights.subarray(off, off + v.size), v.shape));
      off += v.size;
    }
    const x = tensorOfShared<tf.Rank.R4>(xsShared, shape);
    const y = tensorOfShared<tf.Rank.R2>(ysShared, [shape[0], numClasses]);
    const { value, grads: g } = tf.variableGrads(() => {
      const predictions = model.apply(x, { training: trainingFlag(model) }) as tf.Tensor;
      return tf.sum(tf.metrics.categoricalCrossentropy(y, predictions)) as tf.Scalar;
    }, vars);
    off = 0;
    for (const v of vars) {
      copyValuesInto(g[v.name]!, grads, off);
      off += v.size;
    }
    return value.dataSync()[0]!;
  });
}
