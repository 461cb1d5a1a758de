/**
 * The caller's Adam or SGD optimizer, applied in one JavaScript loop over the flat parameter vector
 * of data-parallel fitting instead of about eight tensor ops per variable (1.3-2.3 ms per step on
 * the fixture CNN, about a tenth of a step). The loop itself is flat-update.ts: the main thread runs
 * it over the whole vector (`apply`), or each worker over its share (`coefficients`, then `advance`
 * here once they are done), with the moments in memory the workers share.
 *
 * Every operation is the one tfjs-core 4.22 performs, in the same order, rounded to float32 after
 * each (Math.fround), so the weights are those `optimizer.applyGradients` would give, to the bit on
 * backends whose elementwise ops are IEEE float32 (wasm, cpu). The optimizer's own state (step
 * count, moments) is read at the start of a fit and written back at its end, so a fit that reuses
 * an optimizer continues where the last one stopped, whichever path ran it. Only the exact tfjs
 * classes are taken: a subclass may change the maths, and then the caller's optimizer runs as before.
 */
import * as tf from '@tensorflow/tfjs';
import { COEF, COEF_LENGTH, KIND_ADAM, KIND_SGD, updateRange } from './flat-update.js';

const f = Math.fround;

export interface FlatOptimizer {
  /** Adam's moments (empty for SGD): where updateRange reads and writes them. */
  readonly m: Float32Array;
  readonly v: Float32Array;
  /** Writes the next step's kind and constants into coef (COEF.KIND and COEF.ARGS on). */
  coefficients(coef: Float64Array): void;
  /** Counts a step applied with coefficients() (beta powers, iterations). */
  advance(): void;
  /** weights -= update(gradient), in place; gradient is the mean gradient of the step. */
  apply(gradient: Float32Array, weights: Float32Array): void;
  /** Writes the step count and moments back into the caller's optimizer. */
  store(): Promise<void>;
}

/** Rows of per-weight state a flat version of `optimizer` keeps (Adam 2, SGD 0), or undefined when it has none. */
export function flatStateRows(optimizer: tf.Optimizer): number | undefined {
  if (optimizer.constructor === tf.SGDOptimizer) return 0;
  if (optimizer.constructor === tf.AdamOptimizer) return 2;
  return undefined;
}

/**
 * A flat version of `optimizer` for these variables, or undefined when it is not plain Adam or SGD.
 * `state` (2 x the weights, Adam only) holds its moments, e.g. in memory shared with workers.
 */
export async function flatOptimizer(optimizer: tf.Optimizer, vars: readonly tf.Variable[], state?: Float32Array): Promise<FlatOptimizer | undefined> {
  if (optimizer.constructor === tf.SGDOptimizer) return new FlatSgd(optimizer as tf.SGDOptimizer);
  if (optimizer.constructor === tf.AdamOptimizer) return FlatAdam.load(optimizer as tf.AdamOptimizer, vars, state);
  return undefined;
}

/** The whole vector in one range: the main thread's path. */
function applyWhole(o: FlatOptimizer, g: Float32Array, w: Float32Array): void {
  const coef = new Float64Array(COEF_LENGTH);
  o.coefficients(coef);
  coef[COEF.SCALE] = 1;
  updateRange({ rows: g, rowCount: 1, extra: undefined, coef, w, m: o.m, v: o.v, from: 0, to: w.length });
  o.advance();
}

class FlatSgd implements FlatOptimizer {
  readonly m = new Float32Array(0);
  readonly v = new Float32Array(0);

  constructor(private readonly optimizer: tf.SGDOptimizer) {}

  coefficients(coef: Float64Array): void {
    // tfjs: value + c * gradient, with c = scalar(-learningRate).
    coef[COEF.KIND] = KIND_SGD;
    coef[COEF.ARGS] = f(-(this.optimizer.getConfig().learningRate as number));
  }

  advance(): void {
    bumpIterations(this.optimizer);
  }

  apply(g: Float32Array, w: Float32Array): void {
    applyWhole(this, g, w);
  }

  async store(): Promise<void> {}
}

interface AdamConfig {
  readonly learningRate: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
}

class FlatAdam implements FlatOptimizer {
  private constructor(
    private readonly optimizer: tf.AdamOptimizer,
    private readonly vars: readonly tf.Variable[],
    readonly m: Float32Array,
    readonly v: Float32Array,
    /** beta^(t+1) after t steps, as tfjs keeps it: a float32 product, one factor per step. */
    private accBeta1: number,
    private accBeta2: number,
  ) {}

  static async load(optimizer: tf.AdamOptimizer, vars: readonly tf.Variable[], into?: Float32Array): Promise<FlatAdam | undefined> {
    const total = vars.reduce((n, v) => n + v.size, 0);
    if (into !== undefined && into.length !== 2 * total) throw new RangeError(`Adam's state takes ${2 * total} values, got ${into.length}`);
    const m = into ? into.subarray(0, total).fill(0) : new Float32Array(total);
    const v = into ? into.subarray(total).fill(0) : new Float32Array(total);
    const state = await optimizer.getWeights();
    try {
      const moments = state.slice(1);
      if (moments.length !== 0 && moments.length !== 2 * vars.length) return undefined;
      if (moments.length > 0) {
        let off = 0;
        for (const [i, x] of vars.entries()) {
          const [mi, vi] = [moments[i]!.tensor, moments[vars.length + i]!.tensor];
          if (mi.size !== x.size || vi.size !== x.size) return undefined;
          m.set(mi.dataSync() as Float32Array, off);
          v.set(vi.dataSync() as Float32Array, off);
          off += x.size;
        }
      }
    } finally {
      state[0]?.tensor.dispose();
    }
    const internal = optimizer as unknown as { accBeta1?: tf.Variable; accBeta2?: tf.Variable };
    const c = config(optimizer);
    const acc = (t: tf.Variable | undefined, beta: number) => (t ? t.dataSync()[0]! : f(beta ** (optimizer.iterations + 1)));
    return new FlatAdam(optimizer, vars, m, v, acc(internal.accBeta1, c.beta1), acc(internal.accBeta2, c.beta2));
  }

  coefficients(coef: Float64Array): void {
    const { beta1, beta2, epsilon, learningRate } = config(this.optimizer);
    coef[COEF.KIND] = KIND_ADAM;
    coef.set([f(beta1), f(beta2), f(1 - beta1), f(1 - beta2), f(epsilon), f(-learningRate), f(1 - this.accBeta1), f(1 - this.accBeta2)], COEF.ARGS);
  }

  advance(): void {
    const { beta1, beta2 } = config(this.optimizer);
    this.accBeta1 = f(this.accBeta1 * f(beta1));
    this.accBeta2 = f(this.accBeta2 * f(beta2));
    bumpIterations(this.optimizer);
  }

  apply(g: Float32Array, w: Float32Array): void {
    applyWhole(this, g, w);
  }

  /** setWeights replaces the moment variables (and sets accBeta from the step count); the old ones are freed. */
  async store(): Promise<void> {
    const before = await this.optimizer.getWeights();
    before[0]?.tensor.dispose();
    const moments: { name: string; tensor: tf.Tensor }[] = [];
    for (const [which, values] of [['m', this.m], ['v', this.v]] as const) {
      let off = 0;
      for (const x of this.vars) {
        moments.push({ name: `${x.name}/${which}`, tensor: tf.tensor(values.subarray(off, off + x.size), x.shape, 'float32') });
        off += x.size;
      }
    }
    const iter = { name: 'iter', tensor: tf.scalar(this.optimizer.iterations, 'int32') };
    await this.optimizer.setWeights([iter, ...moments]);
    tf.dispose([iter.tensor, ...moments.map((t) => t.tensor)]);
    tf.dispose(before.slice(1).map((t) => t.tensor));
    const internal = this.optimizer as unknown as { accBeta1?: tf.Variable; accBeta2?: tf.Variable };
    tf.tidy(() => {
      internal.accBeta1?.assign(tf.scalar(this.accBeta1));
      internal.accBeta2?.assign(tf.scalar(this.accBeta2));
    });
  }
}

function config(o: tf.AdamOptimizer): AdamConfig {
  const c = o.getConfig() as unknown as AdamConfig;
  return { learningRate: c.learningRate, beta1: c.beta1, beta2: c.beta2, epsilon: c.epsilon };
}

/** Optimizer.iterations counts applied steps; the flat path applies them, so it counts them too. */
function bumpIterations(o: tf.Optimizer): void {
  (o as unknown as { incrementIterations(): void }).incrementIterations();
}
