// The flat Adam/SGD of data-parallel fitting against tfjs-core's own optimizers: the same weights to
// the bit on the wasm and cpu backends, over steps that start from a used optimizer's state and hand
// it back, and no flat path for anything that is not exactly Adam or SGD.
import fc from 'fast-check';
import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { selectBackend } from '../../src/train/backend.js';
import { flatOptimizer } from '../../src/train/flat-optimizer.js';

const shapes = [[3, 3, 1, 4], [4], [36, 10], [10]];

function makeVars(seed: number): tf.Variable[] {
  return shapes.map((s, i) => {
    const init = tf.randomNormal(s, 0, 0.5, 'float32', seed + i);
    const v = tf.variable(init);
    init.dispose();
    return v;
  });
}

/** Gradients of step k: mixed magnitudes, zeros and a few large values, as real gradients have. */
function gradientsOf(k: number, seed: number): Float32Array[] {
  return shapes.map((s, i) => {
    const n = s.reduce((a, b) => a * b, 1);
    const g = tf.tidy(() => tf.mul(tf.randomNormal([n], 0, 1, 'float32', seed * 1000 + k * 10 + i), tf.scalar(10 ** ((k % 5) - 3))).dataSync() as Float32Array);
    g[0] = 0;
    if (n > 3) g[3] = 40 * (k % 2 ? 1 : -1);
    return g;
  });
}

const flatten = (xs: readonly Float32Array[]) => {
  const out = new Float32Array(xs.reduce((n, x) => n + x.length, 0));
  let off = 0;
  for (const x of xs) {
    out.set(x, off);
    off += x.length;
  }
  return out;
};

const tfStep = (opt: tf.Optimizer, vars: tf.Variable[], grads: Float32Array[]) =>
  tf.tidy(() => opt.applyGradients(Object.fromEntries(vars.map((v, i) => [v.name, tf.tensor(grads[i]!, v.shape)]))));

/** `before` tfjs steps, `flatSteps` flat steps (state loaded and stored), `after` tfjs steps: the weights. */
async function mixed(make: () => tf.Optimizer, seed: number, before: number, flatSteps: number, after: number, useFlat: boolean): Promise<Float32Array> {
  const vars = makeVars(seed);
  const opt = make();
  let k = 0;
  for (; k < before; k++) tfStep(opt, vars, gradientsOf(k, seed));
  if (useFlat) {
    const flat = await flatOptimizer(opt, vars);
    expect(flat).toBeDefined();
    const w = flatten(vars.map((v) => v.dataSync() as Float32Array));
    for (; k < before + flatSteps; k++) flat!.apply(flatten(gradientsOf(k, seed)), w);
    await flat!.store();
    let off = 0;
    for (const v of vars) {
      tf.tidy(() => v.assign(tf.tensor(w.subarray(off, off + v.size), v.shape)));
      off += v.size;
    }
  } else {
    for (; k < before + flatSteps; k++) tfStep(opt, vars, gradientsOf(k, seed));
  }
  for (; k < before + flatSteps + after; k++) tfStep(opt, vars, gradientsOf(k, seed));
  expect(opt.iterations).toBe(before + flatSteps + after);
  const out = flatten(vars.map((v) => v.dataSync() as Float32Array));
  opt.dispose();
  tf.dispose(vars);
  return out;
}

describe.each(['wasm', 'cpu'] as const)('flat optimizer on %s', (backend) => {
  afterAll(async () => {
    await selectBackend('wasm');
  });

  it.each([
    ['Adam', () => tf.train.adam(0.01)],
    ['Adam with its own betas and epsilon', () => tf.train.adam(3e-4, 0.8, 0.95, 1e-6)],
    ['SGD', () => tf.train.sgd(0.05)],
  ] as const)('%s gives the weights tfjs gives, to the bit, across a hand-over of its state', async (_, make) => {
    await selectBackend(backend);
    const leaked = tf.memory().numTensors;
    for (const [before, flatSteps, after] of [[0, 6, 0], [3, 5, 4]] as const) {
      const reference = await mixed(make, 11, before, flatSteps, after, false);
      const ours = await mixed(make, 11, before, flatSteps, after, true);
      expect(Buffer.from(ours.buffer).equals(Buffer.from(reference.buffer))).toBe(true);
    }
    expect(tf.memory().numTensors).toBe(leaked);
  });

  it('agrees with tfjs Adam on random learning rates and gradients (fast-check)', async () => {
    await selectBackend(backend);
    await fc.assert(
      fc.asyncProperty(fc.double({ min: 1e-5, max: 0.5, noNaN: true }), fc.integer({ min: 1, max: 200 }), fc.integer({ min: 0, max: 3 }), async (lr, seed, before) => {
        const make = () => tf.train.adam(lr);
        const reference = await mixed(make, seed, before, 3, 1, false);
        const ours = await mixed(make, seed, before, 3, 1, true);
        expect(Buffer.from(ours.buffer).equals(Buffer.from(reference.buffer))).toBe(true);
      }),
      { numRuns: 15 },
    );
  });
});

describe('flat optimizer: only the exact tfjs optimizers', () => {
  it('takes no subclass, no other optimizer, and no Adam whose moments belong to other variables', async () => {
    await selectBackend('wasm');
    const vars = makeVars(1);
    class MyAdam extends tf.AdamOptimizer {}
    expect(await flatOptimizer(new MyAdam(0.01, 0.9, 0.999), vars)).toBeUndefined();
    expect(await flatOptimizer(tf.train.rmsprop(0.01), vars)).toBeUndefined();
    expect(await flatOptimizer(tf.train.momentum(0.01, 0.9), vars)).toBeUndefined();
    const used = tf.train.adam(0.01);
    const other = [tf.variable(tf.zeros([5]))];
    tf.tidy(() => used.applyGradients({ [other[0]!.name]: tf.ones([5]) }));
    expect(await flatOptimizer(used, vars)).toBeUndefined();
    used.dispose();
    tf.dispose([...vars, ...other]);
  });
});
