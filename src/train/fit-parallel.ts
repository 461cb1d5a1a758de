/**
 * The main thread's side of data-parallel fitting (layout in parallel-layout.ts). Each step: ask
 * the caller for its extra samples and append them to the shared batch (they fit unless they
 * outnumber the batch, or have another image shape); write the trainable weights to shared memory
 * and start the workers; meanwhile compute what only this thread can (the caller's extra loss term,
 * and extra samples that did not fit); wait; sum the workers' gradient rows in worker order, divide
 * by the step's sample count, add this thread's gradient, and apply the caller's optimizer to the
 * caller's model. The model here is
 * always the one true copy; workers only ever hold a replica of this step's weights.
 */
import * as tf from '@tensorflow/tfjs';
import type { Worker } from 'node:worker_threads';
import type { BackendChoice } from './backend.js';
import { TrainError } from './errors.js';
import type { LoadMessage, WorkerReply } from './fit-worker.js';
import { flatOptimizer, flatStateRows, type FlatOptimizer } from './flat-optimizer.js';
import { COEF } from './flat-update.js';
import { copyValuesInto, tensorOfShared } from './kernel-util.js';
import { appliedSlot, capacity, CMD_RELEASE, CMD_STEP, CMD_STEP_APPLY, CTL, totalWeights, type SharedBuffers, type SharedLayout } from './parallel-layout.js';
import type { StepContext, StepOutcome, StepRunner, StepHooks } from './fit-step.js';
import { discardTeam, returnTeam, takeTeam, teamBuffers, type Team } from './worker-pool.js';
import { trainingFlag } from './training-mode.js';

type WaitAsync = (a: Int32Array, i: number, v: number) => { async: boolean; value: Promise<string> | string };
const waitAsync = (Atomics as unknown as { waitAsync: WaitAsync }).waitAsync;

export interface ParallelSetup {
  readonly model: tf.LayersModel;
  readonly optimizer: tf.Optimizer;
  readonly backend: BackendChoice;
  readonly workers: number;
  readonly batchSize: number;
  readonly imageShape: readonly [number, number, number];
  readonly numClasses: number;
  readonly hooks: StepHooks;
  readonly softTargets?: boolean;
  /**
   * Where plain Adam or SGD is applied: by the workers, each over its share of the weights
   * (default), or by this thread. Both give the same weights to the bit; "main" is for tests.
   */
  readonly optimizerOn?: 'workers' | 'main';
}

/** Starts `setup.workers` workers on a replica of the model; a string says why it could not. */
export async function startParallel(setup: ParallelSetup): Promise<StepRunner | string> {
  let topology: object;
  try {
    topology = setup.model.toJSON(undefined, false) as object;
  } catch (e) {
    return `the model cannot be serialised for workers (${e instanceof Error ? e.message : String(e)})`;
  }
  const team = takeTeam(setup.backend, setup.workers);
  if (typeof team === 'string') return team;
  const vars = setup.model.trainableWeights.map((v) => v.read() as tf.Variable);
  const [h, w, c] = setup.imageShape;
  const rows = setup.optimizerOn === 'main' ? undefined : flatStateRows(setup.optimizer);
  const layout: SharedLayout = {
    workers: setup.workers, batchSize: setup.batchSize, extraCapacity: setup.batchSize, numClasses: setup.numClasses,
    sampleSize: h * w * c, weightSizes: vars.map((v) => v.size), optimizerRows: rows ?? 0,
  };
  const buffers = teamBuffers(team, layout);
  const flat = await flatOptimizer(setup.optimizer, vars, rows === 2 ? new Float32Array(buffers.optimizer) : undefined);
  // The workers apply the update when the optimizer's state lives in the shared memory they see.
  const inWorkers = flat !== undefined && rows !== undefined && (rows === 0 || flat.m.buffer === buffers.optimizer);
  const runner = new ParallelRunner(setup, team, vars, layout, buffers, flat, inWorkers);
  const initialWeights = setup.model.getWeights().map((t) => ({ values: t.dataSync() as Float32Array, shape: t.shape }));
  const loads = team.workers.map((worker, index) => {
    const msg: LoadMessage = { type: 'load', backend: setup.backend, index, topology, initialWeights, numClasses: setup.numClasses, imageShape: setup.imageShape, layout, buffers };
    worker.postMessage(msg);
    return runner.reply(worker, 'ready');
  });
  try {
    await Promise.all(loads);
  } catch (e) {
    await discardTeam(team);
    return `a worker could not load the model (${e instanceof Error ? e.message : String(e)})`;
  }
  return runner;
}

class ParallelRunner implements StepRunner {
  readonly images: Float32Array;
  readonly labels: Int32Array;
  readonly soft: Float32Array | undefined;
  readonly workers: number;
  private readonly ctl: Int32Array;
  private readonly sharedImages: Float32Array;
  private readonly targets: Float32Array;
  private readonly weights: Float32Array;
  private readonly gradients: Float32Array;
  private readonly losses: Float64Array;
  private readonly coef: Float64Array;
  /** The main thread's own gradient row, after the workers' rows. */
  private readonly ownRow: Float32Array;
  /** The variables' data when the shared weights were last written from them or to them. */
  private synced: readonly tf.DataId[] | undefined;
  private readonly sum: Float32Array;
  private scratch: Float32Array | undefined;
  private gen = 0;
  private failure: Error | undefined;
  private readonly failed: Promise<never>;
  private fail: (e: Error) => void = () => {};
  private readonly cleanups: (() => void)[] = [];

  constructor(
    private readonly setup: ParallelSetup,
    private readonly team: Team,
    private readonly vars: tf.Variable[],
    private readonly layout: SharedLayout,
    buffers: SharedBuffers,
    private readonly flat: FlatOptimizer | undefined,
    /** The workers apply `flat` (CMD_STEP_APPLY); else this thread does, after summing the rows. */
    private readonly inWorkers: boolean,
  ) {
    this.workers = layout.workers;
    this.sharedImages = new Float32Array(buffers.images);
    this.images = this.sharedImages.subarray(0, layout.batchSize * layout.sampleSize);
    this.labels = new Int32Array(layout.batchSize);
    this.soft = setup.softTargets ? new Float32Array(layout.batchSize * layout.numClasses) : undefined;
    this.targets = new Float32Array(buffers.targets);
    this.ctl = new Int32Array(buffers.control);
    this.weights = new Float32Array(buffers.weights);
    this.gradients = new Float32Array(buffers.gradients);
    this.losses = new Float64Array(buffers.losses);
    this.coef = new Float64Array(buffers.coefficients);
    const p = totalWeights(layout);
    this.ownRow = new Float32Array(buffers.gradients, 4 * p * layout.workers, p);
    this.sum = new Float32Array(p);
    this.failed = new Promise<never>((_, reject) => {
      this.fail = (e) => {
        this.failure ??= e;
        reject(this.failure);
      };
    });
    this.failed.catch(() => {});
    for (const [i, worker] of team.workers.entries()) {
      const onMessage = (m: WorkerReply) => {
        if (m.type === 'error') this.fail(new TrainError('TRAIN_WORKER_FAILED', `training worker ${i} failed: ${m.message}`));
      };
      const onError = (e: Error) => this.fail(new TrainError('TRAIN_WORKER_FAILED', `training worker ${i} crashed: ${e.message}`, { cause: e }));
      const onExit = (code: number) => this.fail(new TrainError('TRAIN_WORKER_FAILED', `training worker ${i} exited with code ${code}`));
      worker.on('message', onMessage).on('error', onError).on('exit', onExit);
      this.cleanups.push(() => worker.off('message', onMessage).off('error', onError).off('exit', onExit));
    }
  }

  /** Resolves on the worker's next reply of `type`, rejects on its failure. */
  reply(worker: Worker, type: WorkerReply['type']): Promise<void> {
    return Promise.race([
      this.failed,
      new Promise<void>((resolve) => {
        const on = (m: WorkerReply) => {
          if (m.type !== type) return;
          worker.off('message', on);
          resolve();
        };
        worker.on('message', on);
      }),
    ]);
  }

  async step(size: number, ctx: StepContext): Promise<StepOutcome> {
    const { ctl, vars, inWorkers } = this;
    this.writeTargets(size);
    // Up to the first await this runs synchronously, in a scope of its own, as tf.tidy would:
    // tensors the caller's hook makes for this step (a gathered window of triggers) are freed at
    // its end; tensors the caller made before are not this scope's, and own.grads are kept.
    const engine = tf.engine();
    engine.startScope();
    let own: OwnGradient | undefined;
    let shared = 0;
    let gen = 0;
    try {
      const extra = this.setup.hooks.extraBatch?.(ctx);
      shared = extra !== undefined && this.appendExtra(size, extra) ? extra.x.shape[0]! : 0;
      // The shared weights hold the last step's result when the workers applied it; they are
      // written from the variables when anything else may have changed those.
      if (!inWorkers || this.stale()) this.writeWeights();
      const leftover = shared > 0 ? undefined : extra;
      // Without a part of its own, this thread lets the workers apply the step as soon as their rows
      // are in: on 2 cores it may not run again until one of them waits.
      const ownPart = leftover !== undefined || this.setup.hooks.extraLoss !== undefined;
      if (inWorkers) this.flat!.coefficients(this.coef);
      Atomics.store(ctl, CTL.SIZE, size + shared);
      Atomics.store(ctl, CTL.CMD, inWorkers ? CMD_STEP_APPLY : CMD_STEP);
      gen = ++this.gen;
      if (inWorkers && !ownPart) this.release(size + shared, {}, gen);
      Atomics.store(ctl, CTL.GEN, gen);
      Atomics.notify(ctl, CTL.GEN);
      // This thread's share while the workers run: the caller's extra loss, and extra samples that
      // did not fit in the shared batch.
      own = ownGradient(this.setup, vars, size + shared, leftover, ctx);
      if (inWorkers && ownPart) this.release(size + shared + own.extraCount, own.grads, gen);
    } catch (e) {
      // Workers waiting for this thread's part apply nothing to this step.
      if (inWorkers && gen === this.gen && gen > 0) {
        Atomics.store(ctl, CTL.ABORT, gen);
        Atomics.notify(ctl, CTL.EXTRA);
      }
      throw e;
    } finally {
      engine.endScope(own ? Object.values(own.grads) : undefined);
    }
    try {
      const slot = inWorkers ? (k: number) => appliedSlot(this.layout, k) : (k: number) => CTL.DONE + k;
      await Promise.race([this.failed, Promise.all(this.team.workers.map((_, k) => this.waitFor(slot(k), gen)))]);
      if (Atomics.load(ctl, CTL.FAILED) !== 0) await this.failed;
      const total = size + shared + own.extraCount;
      let dataLoss = own.extraLossSum;
      for (let k = 0; k < this.workers; k++) dataLoss += this.losses[k]!;
      if (inWorkers) {
        this.flat!.advance();
        this.readWeights();
      } else {
        meanGradient(this.gradients, this.workers, 1 / total, this.extraGradients(own.grads), this.sum);
        if (this.flat) this.applyFlat(this.flat);
        else this.applyTensors();
      }
      return { loss: dataLoss / total + (own.term ?? 0), ...(own.term === undefined ? {} : { extraLoss: own.term }) };
    } finally {
      tf.dispose(Object.values(own.grads));
    }
  }

  /** Lets the workers apply the step: its scale, this thread's gradient row, then EXTRA. */
  private release(total: number, grads: tf.NamedTensorMap, gen: number): void {
    const extra = this.extraGradients(grads, this.ownRow);
    this.coef[COEF.SCALE] = 1 / total;
    this.coef[COEF.EXTRA] = extra === undefined ? 0 : 1;
    Atomics.store(this.ctl, CTL.EXTRA, gen);
    Atomics.notify(this.ctl, CTL.EXTRA);
  }

  /** Whether a variable was given new data since the shared weights were last synced with them. */
  private stale(): boolean {
    const s = this.synced;
    return s === undefined || this.vars.some((v, i) => v.dataId !== s[i]);
  }

  private writeWeights(): void {
    let off = 0;
    for (const v of this.vars) {
      copyValuesInto(v, this.weights, off);
      off += v.size;
    }
    this.synced = this.vars.map((v) => v.dataId);
  }

  /** The variables take the shared weights (the step's result). */
  private readWeights(): void {
    const { vars, weights } = this;
    tf.tidy(() => {
      let off = 0;
      for (const v of vars) {
        v.assign(tensorOfShared(weights.subarray(off, off + v.size), v.shape));
        off += v.size;
      }
    });
    this.synced = vars.map((v) => v.dataId);
  }

  /** This thread's gradient (the extra loss, extra samples) as one flat vector, or undefined when there is none. */
  private extraGradients(grads: tf.NamedTensorMap, into?: Float32Array): Float32Array | undefined {
    if (Object.keys(grads).length === 0) return undefined;
    const out = into ?? (this.scratch ??= new Float32Array(this.sum.length));
    let at = 0;
    for (const v of this.vars) {
      const g = grads[v.name];
      if (g) copyValuesInto(g, out, at);
      else out.fill(0, at, at + v.size);
      at += v.size;
    }
    return out;
  }

  /** The caller's optimizer on tensors: one gradient tensor per variable. */
  private applyTensors(): void {
    const { sum, vars } = this;
    tf.tidy(() => {
      const named: tf.NamedTensorMap = {};
      let at = 0;
      for (const v of vars) {
        named[v.name] = tensorOfShared(sum.subarray(at, at + v.size), v.shape);
        at += v.size;
      }
      this.setup.optimizer.applyGradients(named);
    });
  }

  /**
   * The same update in one loop over the shared weight vector (which holds this step's weights),
   * then the model's variables take the result.
   */
  private applyFlat(flat: FlatOptimizer): void {
    flat.apply(this.sum, this.weights);
    this.readWeights();
  }

  /** The batch's target rows: its soft targets when it has them, else one-hot rows of its labels. */
  private writeTargets(size: number): void {
    const nc = this.layout.numClasses;
    if (this.soft) {
      this.targets.set(this.soft.subarray(0, size * nc));
      return;
    }
    this.targets.fill(0, 0, size * nc);
    for (let k = 0; k < size; k++) this.targets[k * nc + this.labels[k]!] = 1;
  }

  /** Copies the extra samples after the batch; false when they do not fit or have another shape. */
  private appendExtra(size: number, extra: { x: tf.Tensor; y: tf.Tensor }): boolean {
    const { layout } = this;
    const n = extra.x.shape[0] ?? 0;
    const sameShape = extra.x.rank === 4 && sameDims(extra.x.shape.slice(1), this.setup.imageShape);
    const targetsFit = extra.y.rank === 2 && extra.y.shape[0] === n && extra.y.shape[1] === layout.numClasses;
    if (n === 0 || !sameShape || !targetsFit || size + n > capacity(layout)) return false;
    tf.tidy(() => {
      copyValuesInto(tf.cast(extra.x, 'float32'), this.sharedImages, size * layout.sampleSize);
      copyValuesInto(tf.cast(extra.y, 'float32'), this.targets, size * layout.numClasses);
    });
    return true;
  }

  /** Resolves when control slot `slot` reaches generation `gen`. */
  private async waitFor(slot: number, gen: number): Promise<void> {
    for (;;) {
      const v = Atomics.load(this.ctl, slot);
      if (v === gen) return;
      const r = waitAsync(this.ctl, slot, v);
      if (r.async) await r.value;
    }
  }

  async close(): Promise<void> {
    const { ctl } = this;
    let stored: unknown;
    try {
      await this.flat?.store();
    } catch (e) {
      stored = e;
    }
    Atomics.store(ctl, CTL.CMD, CMD_RELEASE);
    Atomics.store(ctl, CTL.GEN, ++this.gen);
    Atomics.notify(ctl, CTL.GEN);
    const released = Promise.all(this.team.workers.map((w) => this.reply(w, 'released')));
    try {
      if (this.failure) throw this.failure;
      await released;
      this.cleanups.forEach((f) => f());
      returnTeam(this.team);
    } catch {
      this.cleanups.forEach((f) => f());
      await discardTeam(this.team);
    }
    if (stored !== undefined) throw stored;
  }
}

/**
 * out = (the workers' gradient rows summed in worker order) * scale + extra, each operation rounded
 * to float32, in one pass over memory.
 */
function meanGradient(rows: Float32Array, workers: number, scale: number, extra: Float32Array | undefined, out: Float32Array): void {
  const p = out.length;
  const f = Math.fround;
  for (let i = 0; i < p; i++) {
    let s = rows[i]!;
    for (let k = 1; k < workers; k++) s = f(s + rows[k * p + i]!);
    s = f(s * scale);
    out[i] = extra === undefined ? s : s + extra[i]!;
  }
}

function sameDims(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

interface OwnGradient {
  readonly grads: tf.NamedTensorMap;
  readonly extraCount: number;
  /** Summed data loss over the extra samples. */
  readonly extraLossSum: number;
  /** Value of the extra loss term, when there is one. */
  readonly term: number | undefined;
}

/**
 * Gradient of (summed loss over the extra samples this thread computes) / (all samples of the step)
 * plus the extra loss term. `shared` counts the samples the workers compute.
 */
function ownGradient(
  setup: ParallelSetup, vars: tf.Variable[], shared: number, extra: { x: tf.Tensor; y: tf.Tensor } | undefined, ctx: StepContext,
): OwnGradient {
  const { hooks, model } = setup;
  if (!extra && !hooks.extraLoss) return { grads: {}, extraCount: 0, extraLossSum: 0, term: undefined };
  const extraCount = extra ? extra.x.shape[0]! : 0;
  let extraLossSum = 0;
  let term: number | undefined;
  const grads = tf.tidy(() => {
    const { grads: g } = tf.variableGrads(() => {
      let loss = tf.scalar(0);
      if (extra) {
        const predictions = model.apply(extra.x, { training: trainingFlag(model) }) as tf.Tensor;
        const summed = tf.sum(tf.metrics.categoricalCrossentropy(tf.cast(extra.y, 'float32'), predictions)) as tf.Scalar;
        extraLossSum = summed.dataSync()[0]!;
        loss = tf.div(summed, shared + extraCount);
      }
      if (hooks.extraLoss) {
        const t = hooks.extraLoss(ctx);
        term = t.dataSync()[0]!;
        loss = tf.add(loss, t);
      }
      return loss;
    }, vars);
    return g;
  });
  return { grads, extraCount, extraLossSum, term };
}
