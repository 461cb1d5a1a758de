// What the converters refuse, and that they refuse it with a FormatError naming the op or layer,
// including for thousands of mutations of a real exported model.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FormatError } from '../../src/formats/errors.js';
import { convertOnnxToTfjs } from '../../src/formats/convert-onnx-to-tfjs.js';
import { convertTfjsToOnnx, tfjsArtifactsToOnnx } from '../../src/formats/convert-tfjs-to-onnx.js';
import { readTfjsModel } from '../../src/formats/tfjs-layers.js';
import { buildCnn, buildResidual, saveTfjs, tf, tfReady } from './convert-helpers.js';
import { graphModel, rng } from './convert-onnx-fixtures.js';

let root: string;
beforeAll(async () => {
  await tfReady();
  root = mkdtempSync(join(tmpdir(), 'hallmark-convert-err-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

function caught(fn: () => unknown): FormatError {
  try {
    fn();
  } catch (e) {
    if (e instanceof FormatError) return e;
    throw new Error(`expected a FormatError, got ${String(e)}`);
  }
  throw new Error('expected a FormatError, got success');
}

async function caughtAsync(p: Promise<unknown>): Promise<FormatError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof FormatError) return e;
    throw new Error(`expected a FormatError, got ${String(e)}`);
  }
  throw new Error('expected a FormatError, got success');
}

const ints = (name: string, v: number[]) => ({ name, type: 7, ints: v });
const io = { in: { name: 'x', dims: ['N', 1, 8, 8] as (number | string)[] }, out: { name: 'y', dims: ['N', 2, 8, 8] as (number | string)[] } };

describe('convertTfjsToOnnx refuses', () => {
  it('layers outside the supported set, naming the layer and its class', async () => {
    const m = tf.sequential();
    m.add(tf.layers.conv2d({ inputShape: [8, 8, 1], filters: 2, kernelSize: 3 }));
    m.add(tf.layers.upSampling2d({ size: [2, 2], name: 'up' }));
    const e = await caughtAsync(convertTfjsToOnnx(await saveTfjs(m, join(root, 'up'))));
    expect(e.code).toBe('FORMAT_UNSUPPORTED');
    expect(e.message).toContain('"up" is a UpSampling2D');
  });

  it('activations outside the supported set', async () => {
    const m = tf.sequential();
    m.add(tf.layers.dense({ inputShape: [4], units: 2, activation: 'elu', name: 'd' }));
    const e = await caughtAsync(convertTfjsToOnnx(await saveTfjs(m, join(root, 'elu'))));
    expect([e.code, e.message]).toEqual(['FORMAT_UNSUPPORTED', expect.stringContaining('activation "elu"')]);
  });

  it('missing or mis-shaped weights', async () => {
    const dir = await saveTfjs(buildCnn(), join(root, 'cnn'));
    const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
    const w = json.weightsManifest[0].weights;
    const kernel = w.find((x: { name: string; shape: number[] }) => x.name.endsWith('/kernel') && x.shape.length === 2);
    const name = kernel.name;
    kernel.name = 'renamed/kernel';
    writeFileSync(join(dir, 'model.json'), JSON.stringify(json));
    const missing = await caughtAsync(convertTfjsToOnnx(dir));
    expect([missing.code, missing.message]).toEqual(['FORMAT_NOT_FOUND', expect.stringContaining(name)]);
    // Same byte count, transposed shape: the reader accepts it, the converter must not.
    kernel.name = name;
    kernel.shape = [...kernel.shape].reverse();
    writeFileSync(join(dir, 'model.json'), JSON.stringify(json));
    expect((await caughtAsync(convertTfjsToOnnx(dir))).code).toBe('FORMAT_SHAPE_MISMATCH');
  });

  it('variable input sizes and non-models', async () => {
    const m = tf.sequential();
    m.add(tf.layers.conv2d({ inputShape: [null, null, 1] as unknown as number[], filters: 2, kernelSize: 3 }));
    expect((await caughtAsync(convertTfjsToOnnx(await saveTfjs(m, join(root, 'var'))))).code).toBe('FORMAT_UNSUPPORTED');
    writeFileSync(join(root, 'junk.json'), '{"modelTopology": {"class_name": "Sequential", "config": {"layers": []}}, "weightsManifest": []}');
    expect((await caughtAsync(convertTfjsToOnnx(join(root, 'junk.json')))).code).toBe('FORMAT_CORRUPT');
  });
});

describe('convertOnnxToTfjs refuses', () => {
  it('ops outside the supported set, naming the op', () => {
    const bytes = graphModel([{ opType: 'Sin', input: ['x'], output: ['y'] }], [], io.in, { name: 'y', dims: ['N', 1, 8, 8] });
    const e = caught(() => convertOnnxToTfjs(bytes));
    expect(e.code).toBe('FORMAT_UNSUPPORTED');
    expect(e.message).toMatch(/1 op type the converter does not support: Sin x1/);
  });

  it('grouped convolutions convert (depthwise); pool pads TF.js cannot express are refused', () => {
    const w = new Float32Array(2 * 1 * 3 * 3);
    const grouped = graphModel([{ opType: 'Conv', input: ['x', 'w'], output: ['y'], attribute: [ints('kernel_shape', [3, 3]), { name: 'group', type: 2, i: 2 }] }], [{ name: 'w', dims: [2, 1, 3, 3], values: w }], { name: 'x', dims: ['N', 2, 8, 8] }, io.out);
    const layers = (convertOnnxToTfjs(grouped).modelTopology.config as { layers: { class_name: string }[] }).layers;
    expect(layers.map((l) => l.class_name)).toContain('DepthwiseConv2D');
    const pool = graphModel([{ opType: 'MaxPool', input: ['x'], output: ['y'], attribute: [ints('kernel_shape', [2, 2]), ints('pads', [1, 1, 1, 1])] }], [], io.in, io.out);
    expect(caught(() => convertOnnxToTfjs(pool)).code).toBe('FORMAT_UNSUPPORTED');
  });

  it('bytes that are not ONNX', () => {
    for (const bytes of [new TextEncoder().encode('{"graph": {}}'), new Uint8Array([0x08, 0xff]), new Uint8Array(0)]) {
      expect(caught(() => convertOnnxToTfjs(bytes)).code).toMatch(/^FORMAT_/);
    }
  });

  it('mutations of a real exported model: a FormatError or a model, never anything else', async () => {
    const good = await convertTfjsToOnnx(await saveTfjs(buildCnn(3), join(root, 'fuzz')));
    const next = rng(99);
    const rand = (n: number) => Math.floor(next() * n);
    const outcomes = { ok: 0, error: 0 };
    for (let i = 0; i < 1000; i++) {
      const b = good.slice();
      // Mutate mostly the graph structure (the first bytes are nodes and attributes, the rest weights).
      for (let m = 0; m <= rand(3); m++) b[rand(rand(2) ? Math.min(b.length, 2000) : b.length)] = rand(256);
      const input = rand(8) === 0 ? b.subarray(0, rand(b.length)) : b;
      try {
        convertOnnxToTfjs(input);
        outcomes.ok++;
      } catch (e) {
        if (!(e instanceof FormatError)) throw new Error(`mutation ${i}: ${String(e)}`);
        expect(e.message.split('\n')).toHaveLength(1);
        outcomes.error++;
      }
    }
    console.info(`onnx->tfjs mutations: ${outcomes.ok} converted, ${outcomes.error} FormatErrors`);
    expect(outcomes.error).toBeGreaterThan(100);
    expect(outcomes.ok).toBeGreaterThan(100);
  });
});

describe('tfjsArtifactsToOnnx on mutated topologies', () => {
  it('gives a FormatError or a model for junk in any config field, never anything else', async () => {
    const dir = await saveTfjs(buildResidual(5), join(root, 'topo'));
    const m = await readTfjsModel(dir);
    const next = rng(7);
    const rand = (n: number) => Math.floor(next() * n);
    const junk = [null, -1, 0, 1e12, 'same', 'x', [], [1], [0, 0], [null, 3, 3, 1], {}, true, 2.5, ['nope', 0, 0]];
    const outcomes = { ok: 0, error: 0 };
    for (let i = 0; i < 400; i++) {
      const topo = JSON.parse(JSON.stringify(m.json.modelTopology));
      // Collect every (object, key) slot in the topology, then overwrite one or two of them.
      const slots: [Record<string, unknown>, string][] = [];
      const walk = (v: unknown) => {
        if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) { slots.push([v as Record<string, unknown>, k]); walk(x); }
      };
      walk(topo);
      for (let k = 0; k <= rand(2); k++) {
        const [obj, key] = slots[rand(slots.length)]!;
        obj[key] = junk[rand(junk.length)];
      }
      try {
        tfjsArtifactsToOnnx(topo, m.tensors);
        outcomes.ok++;
      } catch (e) {
        if (!(e instanceof FormatError)) throw new Error(`mutation ${i}: ${String(e)}`);
        outcomes.error++;
      }
    }
    console.info(`tfjs topology mutations: ${outcomes.ok} converted, ${outcomes.error} FormatErrors`);
    expect(outcomes.error).toBeGreaterThan(50);
  });
});
