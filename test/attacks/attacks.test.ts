import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { addGaussianNoise, AttackError, countDistinct, distill, pruneByMagnitude, quantizeUniform, runAttack, startsFromTeacher } from '../../src/attacks/index.js';
import { loadLayersModel } from '../../src/formats/index.js';
import { convertTfjsToOnnx } from '../../src/formats/convert-tfjs-to-onnx.js';
import { readModelTensors, tensorToFloat32 } from '../../src/formats/index.js';
import { hallmark } from '../helpers/cli.js';
import { FIXTURE } from '../verify/helpers.js';

const floats = fc.array(fc.float({ min: -10, max: 10, noNaN: true, noDefaultInfinity: true }), { minLength: 1, maxLength: 300 }).map((a) => Float32Array.from(a));

describe('weight attacks', () => {
  it('pruning zeroes exactly floor(f * n) weights, never a larger one than it keeps', () => {
    fc.assert(
      fc.property(floats, fc.double({ min: 0, max: 1, noNaN: true }), (v, f) => {
        const p = pruneByMagnitude(v, f);
        const zeroed = [...p.keys()].filter((i) => p[i] === 0 && v[i] !== 0);
        const alreadyZero = [...v].filter((x) => x === 0).length;
        const k = Math.floor(f * v.length);
        const kept = [...p.keys()].filter((i) => p[i] !== 0);
        const maxZeroed = Math.max(0, ...zeroed.map((i) => Math.abs(v[i]!)));
        return zeroed.length <= k && zeroed.length >= k - alreadyZero && kept.every((i) => Math.abs(v[i]!) >= maxZeroed && p[i] === v[i]);
      }),
      { numRuns: 200 },
    );
  });

  it('quantisation leaves at most 2^bits values per tensor and errs by at most half a step', () => {
    fc.assert(
      fc.property(floats, fc.integer({ min: 2, max: 8 }), (v, bits) => {
        const q = quantizeUniform(v, bits);
        const max = v.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
        const step = max / (2 ** (bits - 1) - 1);
        // The levels are stored as float32: allow its rounding of each level (half an ulp, and
        // the subnormal spacing 2^-149 that fast-check's tiny floats reach).
        return countDistinct(q) <= 2 ** bits && v.every((x, i) => Math.abs(x - q[i]!) <= step / 2 + 1e-5 * max + Math.abs(q[i]!) * 2 ** -24 + 2 ** -149);
      }),
      { numRuns: 200 },
    );
  });

  it('noise is reproducible from its seed and has the asked spread', () => {
    const v = Float32Array.from({ length: 20000 }, (_, i) => Math.sin(i));
    const a = addGaussianNoise(v, 0.2, new Uint8Array(32).fill(1));
    expect(addGaussianNoise(v, 0.2, new Uint8Array(32).fill(1))).toEqual(a);
    expect(addGaussianNoise(v, 0.2, new Uint8Array(32).fill(2))).not.toEqual(a);
    const d = a.map((x, i) => x - v[i]!);
    const sd = Math.sqrt(d.reduce((s, x) => s + x * x, 0) / d.length);
    expect(sd / (0.2 * Math.SQRT1_2)).toBeCloseTo(1, 1); // std of sin over many periods is 1/sqrt(2)
  });
});

describe('hallmark attack (runAttack) on the fixture', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hallmark-attack-'));
  const onnx = join(dir, 'fixture.onnx');
  const small = { testLimit: 300, backend: 'wasm' as const };
  beforeAll(async () => {
    writeFileSync(onnx, await convertTfjsToOnnx(FIXTURE));
  });

  it('prunes 30/50/70% of every kernel and the output loads', async () => {
    for (const amount of [0.3, 0.5, 0.7]) {
      const r = await runAttack({ kind: 'prune', model: FIXTURE, out: join(dir, `prune-${amount}`), amount, ...small });
      const kernels = r.tensors.filter((t) => t.name.endsWith('kernel'));
      expect(kernels.length).toBe(4);
      for (const t of kernels) expect(Math.round(t.zeroFraction * t.elements)).toBe(Math.floor(amount * t.elements)); // no kernel weight was 0 before
      expect(r.cleanAccuracy).toBeGreaterThan(0.1);
    }
  });

  it('quantises an ONNX model to int8 and 5 bits; noise changes kernels; each output loads and has an accuracy', async () => {
    for (const bits of [8, 5]) {
      const r = await runAttack({ kind: 'quantize', model: onnx, out: join(dir, `q${bits}.onnx`), bits, ...small });
      expect(r.format).toBe('onnx');
      for (const t of r.tensors) expect(t.distinct).toBeLessThanOrEqual(2 ** bits);
      expect(r.cleanAccuracy).toBeGreaterThan(bits === 8 ? 0.95 : 0.5);
    }
    const n = await runAttack({ kind: 'noise', model: FIXTURE, out: join(dir, 'noise'), sigma: 0.5, ...small });
    const before = (await readModelTensors(FIXTURE)).tensors.find((t) => t.name === 'dense1/kernel')!;
    const after = (await readModelTensors(join(dir, 'noise'))).tensors.find((t) => t.name === 'dense1/kernel')!;
    const [a, b] = [tensorToFloat32(before), tensorToFloat32(after)];
    expect(a.some((x, i) => x !== b[i])).toBe(true);
    expect(n.cleanAccuracy).toBeDefined();
  });

  it('FTAL, RTAL and distillation train (small budgets) and write loadable TF.js models', async () => {
    const f = await runAttack({ kind: 'ftal', model: FIXTURE, out: join(dir, 'ftal'), dataFraction: 0.02, epochs: 1, ...small });
    expect(f.cleanAccuracy).toBeGreaterThan(0.8);
    const r = await runAttack({ kind: 'rtal', model: FIXTURE, out: join(dir, 'rtal'), dataFraction: 0.02, epochs: 1, ...small });
    const last = (await readModelTensors(join(dir, 'rtal'))).tensors.find((t) => t.name === 'dense2/kernel')!;
    const orig = (await readModelTensors(FIXTURE)).tensors.find((t) => t.name === 'dense2/kernel')!;
    const [x, y] = [tensorToFloat32(last), tensorToFloat32(orig)];
    // Re-initialised, then trained briefly: far from the original last layer.
    const dist = Math.sqrt(x.reduce((s, v, i) => s + (v - y[i]!) ** 2, 0) / x.length);
    expect(dist).toBeGreaterThan(0.05);
    expect(r.cleanAccuracy).toBeDefined();
    const d = await runAttack({ kind: 'distill', model: FIXTURE, out: join(dir, 'distill'), queries: 400, epochs: 1, ...small });
    expect(d.parameters.queries).toBe(400);
    expect(d.cleanAccuracy).toBeGreaterThan(0.3);
    // Without --seed, seed 1 would be the fixture's own initialisation: the first other seed is used.
    expect(d.parameters.seed).toBe(2);
  });

  it('soft-label distillation (--temperature) trains on the teacher\'s softened probabilities, not its top class', async () => {
    const hard = await runAttack({ kind: 'distill', model: FIXTURE, out: join(dir, 'distill-hard'), queries: 200, epochs: 1, seed: 2, ...small });
    const soft = await runAttack({ kind: 'distill', model: FIXTURE, out: join(dir, 'distill-soft'), queries: 200, epochs: 1, seed: 2, temperature: 4, ...small });
    expect(soft.parameters).toMatchObject({ queries: 200, seed: 2, temperature: 4 });
    expect(hard.parameters.temperature).toBeUndefined();
    // Same seed, queries and order: only the targets differ, so the students differ.
    const kernel = async (p: string) => tensorToFloat32((await readModelTensors(p)).tensors.find((t) => t.name.endsWith('kernel'))!);
    const [a, b] = [await kernel(join(dir, 'distill-hard')), await kernel(join(dir, 'distill-soft'))];
    expect(a.some((x, i) => x !== b[i])).toBe(true);
    const teacher = await loadLayersModel(FIXTURE);
    try {
      const q = { images: new Float32Array(8 * 784), count: 8, shape: [8, 28, 28, 1] as const };
      for (const temperature of [0, -1, 101, NaN]) await expect(distill(teacher, q, { epochs: 1, seed: 2, temperature })).rejects.toThrow(/temperature/);
    } finally {
      teacher.dispose();
    }
    const cli = hallmark(['attack', 'prune', FIXTURE, '--out', join(dir, 'cli-t'), '--temperature', '4']);
    expect(cli.status).not.toBe(0);
    expect(cli.stderr).toMatch(/--temperature applies to distill only/);
    const cliBad = hallmark(['attack', 'distill', FIXTURE, '--out', join(dir, 'cli-t2'), '--temperature', 'warm']);
    expect(cliBad.stderr).toMatch(/--temperature must be a number/);
    expect(existsSync(join(dir, 'cli-t2'))).toBe(false);
  });

  it('a distillation student never starts from the teacher\'s own initial weights', async () => {
    // The fixture was built by buildMnistCnn(1) (its model.json records initialiser seeds 2..5). A
    // student of seed 1 would be its twin at step 0: the fingerprint bench claimed such a student,
    // and equally a model of seed 1 trained on the true labels of other images.
    const teacher = await loadLayersModel(FIXTURE);
    try {
      expect(startsFromTeacher(teacher, 1)).toBe(true);
      expect(startsFromTeacher(teacher, 2)).toBe(false);
      expect(startsFromTeacher(teacher, 101)).toBe(false);
      const q = { images: new Float32Array(8 * 784), count: 8, shape: [8, 28, 28, 1] as const };
      await expect(distill(teacher, q, { epochs: 1, seed: 1 })).rejects.toMatchObject({ code: 'ATTACK_SHARED_INIT' });
    } finally {
      teacher.dispose();
    }
    const out = join(dir, 'distill-seed-1');
    await expect(runAttack({ kind: 'distill', model: FIXTURE, out, queries: 64, epochs: 1, seed: 1, ...small })).rejects.toMatchObject({ code: 'ATTACK_SHARED_INIT' });
    expect(existsSync(out)).toBe(false);
    const r = hallmark(['attack', 'distill', FIXTURE, '--out', join(dir, 'cli-d1'), '--seed', '1', '--queries', '64', '--epochs', '1', '--test-limit', '100', '--backend', 'wasm']);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/ATTACK_SHARED_INIT/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('refuses to overwrite, and refuses to train a model that has no graph it can train', async () => {
    await expect(runAttack({ kind: 'prune', model: FIXTURE, out: onnx, ...small })).rejects.toThrow(AttackError);
    await expect(runAttack({ kind: 'ftal', model: onnx, out: join(dir, 'x'), ...small })).rejects.toMatchObject({ code: 'ATTACK_UNSUPPORTED' });
  });

  it('hallmark attack prints the clean accuracy and rejects an unknown kind', () => {
    const r = hallmark(['attack', 'quantize', FIXTURE, '--out', join(dir, 'cli-q5'), '--bits', '5', '--test-limit', '200', '--backend', 'wasm']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/clean accuracy\s+before \d+\.\d+%\s+after \d+\.\d+%/);
    const bad = hallmark(['attack', 'melt', FIXTURE, '--out', join(dir, 'x2')]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/attack kind must be one of/);
  });
});
