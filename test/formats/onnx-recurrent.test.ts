// Recurrent input weights as PyTorch exports them (silero VAD's decoder LSTM): a 2-D
// [4 x hidden, input] weight reaching the LSTM's W through Slice, a gate-reordering Concat and
// Unsqueeze, inside an If nested in another If. The model below reproduces that structure, runs in
// onnxruntime, and checks both what is offered as a kernel and the layer inputs read through two If levels.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { inspectOnnx } from '../../src/embed/onnx-model.js';
import { openRunner } from '../../src/fidelity/runner.js';
import { recurrentInputWeights, scanOnnx } from '../../src/formats/index.js';
import { onnx } from '../../src/formats/onnx-tensor.js';
import { REPO } from '../helpers/paths.js';

const H = 2;
const IN = 3;
const dir = mkdtempSync(join(tmpdir(), 'onnx-recurrent-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const f32 = (name: string, dims: number[], values: number[]) => ({ name, dims, dataType: 1, rawData: new Uint8Array(Float32Array.from(values).buffer) });
const i64 = (name: string, values: number[]) => ({ name, dims: [values.length], dataType: 7, rawData: new Uint8Array(BigInt64Array.from(values.map(BigInt)).buffer) });
const constant = (out: string, t: object) => ({ opType: 'Constant', output: [out], attribute: [{ name: 'value', type: 4, t }] });
const weight = (rows: number, cols: number, seed: number) => Array.from({ length: rows * cols }, (_, i) => Math.sin(seed + i * 1.7) * 0.5);

/** PyTorch gates (i, f, g, o) -> ONNX gates (i, o, f, c): three Slices over rows, a Concat on axis 0, an Unsqueeze. */
function reorder(src: string, out: string, concatAxis = 0): object[] {
  const slice = (name: string, from: number, to: number) => [
    constant(`${name}_s`, i64(`${name}_s`, [from * H])), constant(`${name}_e`, i64(`${name}_e`, [to * H])), constant(`${name}_a`, i64(`${name}_a`, [0])),
    { opType: 'Slice', input: [src, `${name}_s`, `${name}_e`, `${name}_a`], output: [name] },
  ];
  return [
    ...slice(`${src}_if`, 0, 2), ...slice(`${src}_o`, 3, 4), ...slice(`${src}_g`, 2, 3),
    { opType: 'Concat', input: [`${src}_if`, `${src}_o`, `${src}_g`], output: [`${src}_cat`], attribute: [{ name: 'axis', type: 2, i: concatAxis }] },
    constant(`${src}_ax`, i64(`${src}_ax`, [0])),
    { opType: 'Unsqueeze', input: [`${src}_cat`, `${src}_ax`], output: [out] },
  ];
}

/** Y = If c1 (If c2 (LSTM(2 X) with W, R from reordered 2-D Constants) else zeros) else zeros. */
function nestedLstmModel(): Uint8Array {
  const branch = (name: string, nodes: object[], out: string) => ({ name, node: nodes, output: [{ name: out }] });
  const zeros = (out: string) => branch(`${out}_g`, [constant(out, f32(out, [1, 1, H], [0, 0]))], out);
  const lstm = branch('lstm_branch', [
    constant('weight_ih', f32('weight_ih', [4 * H, IN], weight(4 * H, IN, 1))),
    constant('weight_hh', f32('weight_hh', [4 * H, H], weight(4 * H, H, 2))),
    ...reorder('weight_ih', 'W'), ...reorder('weight_hh', 'R'),
    constant('two', f32('two', [], [2])),
    { opType: 'Mul', input: ['X', 'two'], output: ['X2'] },
    { opType: 'LSTM', input: ['X2', 'W', 'R'], output: ['Y', 'Y_h'], attribute: [{ name: 'hidden_size', type: 2, i: H }] },
  ], 'Y_h');
  const inner = branch('inner', [{ opType: 'If', input: ['c2'], output: ['inner_out'], attribute: [{ name: 'then_branch', type: 5, g: lstm }, { name: 'else_branch', type: 5, g: zeros('z2') }] }], 'inner_out');
  const model = onnx.ModelProto.create({
    irVersion: 8,
    opsetImport: [{ domain: '', version: 13 }],
    graph: {
      name: 'nested_lstm',
      node: [{ opType: 'If', input: ['c1'], output: ['outer_out'], attribute: [{ name: 'then_branch', type: 5, g: inner }, { name: 'else_branch', type: 5, g: zeros('z1') }] }],
      input: [
        { name: 'X', type: { tensorType: { elemType: 1, shape: { dim: [{ dimValue: 1 }, { dimValue: 1 }, { dimValue: IN }] } } } },
        { name: 'c1', type: { tensorType: { elemType: 9, shape: { dim: [] } } } },
        { name: 'c2', type: { tensorType: { elemType: 9, shape: { dim: [] } } } },
      ],
      output: [{ name: 'outer_out', type: { tensorType: { elemType: 1 } } }],
    },
  });
  return onnx.ModelProto.encode(model).finish();
}

describe('recurrent input weights (LSTM W through Slice, Concat, Unsqueeze)', () => {
  const bytes = nestedLstmModel();
  const path = join(dir, 'nested-lstm.onnx');
  writeFileSync(path, bytes);
  const x = [0.3, -1.2, 0.7];
  const feeds = (c1: boolean, c2: boolean) => ({
    X: { data: Float32Array.from(x), dims: [1, 1, IN], dtype: 'float32' as const },
    c1: { data: Uint8Array.from([c1 ? 1 : 0]), dims: [], dtype: 'bool' as const },
    c2: { data: Uint8Array.from([c2 ? 1 : 0]), dims: [], dtype: 'bool' as const },
  });

  it('the model is valid: onnxruntime runs the LSTM branch', async () => {
    const s = await ort.InferenceSession.create(bytes);
    const f = feeds(true, true);
    const r = await s.run({ X: new ort.Tensor('float32', f.X.data, [1, 1, IN]), c1: new ort.Tensor('bool', f.c1.data, []), c2: new ort.Tensor('bool', f.c2.data, []) });
    expect(r.outer_out!.dims).toEqual([1, 1, H]);
    expect(Math.abs((r.outer_out!.data as Float32Array)[0]!)).toBeGreaterThan(1e-4);
    await s.release();
  });

  it('offers the 2-D input weight W (rows = 4 x hidden) in OI layout, never the recurrence R', async () => {
    const map = recurrentInputWeights(scanOnnx(bytes).nodes);
    expect([...map.keys()]).toEqual(['weight_ih']);
    expect(map.get('weight_ih')!.rows).toBe(4 * H);
    expect(map.get('weight_ih')!.nodes.map((n) => n.opType)).toEqual(['LSTM']);
    const info = await inspectOnnx(path);
    expect(info.layouts.get('weight_ih')).toBe('OI');
    expect(info.layouts.has('weight_hh')).toBe(false);
  });

  it('does not follow a chain whose rows may not be output units (Concat on axis 1, a Transpose)', () => {
    const m = onnx.ModelProto.decode(bytes);
    const lstmBranch = m.graph!.node![0]!.attribute![0]!.g!.node![0]!.attribute![0]!.g!;
    const cat = lstmBranch.node!.find((n) => n.output?.[0] === 'weight_ih_cat')!;
    cat.attribute![0]!.i = 1;
    expect(recurrentInputWeights(scanOnnx(onnx.ModelProto.encode(m).finish()).nodes).size).toBe(0);
    cat.attribute![0]!.i = 0;
    const sl = lstmBranch.node!.find((n) => n.opType === 'Slice')!;
    lstmBranch.node!.push({ opType: 'Transpose', input: ['weight_ih'], output: ['weight_ih_t'] } as never);
    sl.input![0] = 'weight_ih_t';
    expect(recurrentInputWeights(scanOnnx(onnx.ModelProto.encode(m).finish()).nodes).size).toBe(0);
  });

  it('a hostile graph (Concats taking one value 1,000 times, 8 levels deep) is traced once per value, not 1000^8 times', () => {
    const nodes = [];
    for (let level = 0; level < 8; level++) nodes.push({ opType: 'Concat', inputs: Array.from({ length: 1000 }, () => `v${level + 1}`), outputs: [`v${level}`], ints: new Map([['axis', 0]]), graphPath: '' });
    nodes.push({ opType: 'Constant', inputs: [], outputs: ['v8'], ints: new Map(), graphPath: '' });
    nodes.push({ opType: 'LSTM', inputs: ['X', 'v0', 'R'], outputs: ['Y'], ints: new Map([['hidden_size', 2]]), graphPath: '' });
    // About 8,000 steps; traced without memory it is 1000^8 and never returns (the test times out).
    const map = recurrentInputWeights(nodes);
    expect([...map.keys()]).toEqual(['v8']); // one stored tensor (inspectOnnx then checks its rows)
    const cyclic = [{ opType: 'Identity', inputs: ['a'], outputs: ['b'], ints: new Map(), graphPath: '' }, { opType: 'Identity', inputs: ['b'], outputs: ['a'], ints: new Map(), graphPath: '' }, nodes.at(-1)!];
    cyclic[2] = { ...nodes.at(-1)!, inputs: ['X', 'a', 'R'] };
    expect(recurrentInputWeights(cyclic).size).toBe(0); // a cycle is refused, not looped
  });

  it('reads the LSTM input X through two If levels, and nothing when a branch on the way is not taken', async () => {
    const runner = await openRunner(path, 'onnx');
    try {
      const a = await runner.layerInput('weight_ih', feeds(true, true));
      expect(a).toBeDefined();
      expect(a!.dims).toEqual([1, 1, IN]);
      expect(a!.channelAxis).toBe(2);
      expect([...a!.data].map((v) => Number(v.toFixed(5)))).toEqual(x.map((v) => Number((2 * v).toFixed(5)))); // the Mul in the branch ran
      expect(await runner.layerInput('weight_ih', feeds(true, false))).toBeUndefined(); // inner If took its else branch
      expect(await runner.layerInput('weight_ih', feeds(false, true))).toBeUndefined(); // outer If took its else branch
      expect(await runner.layerInput('weight_hh', feeds(true, true))).toBeUndefined(); // R is not a layer weight we read
    } finally {
      await runner.close();
    }
  });

  it('on the real silero VAD: decoder.rnn.weight_ih (one per sample-rate branch) is an OI kernel of 512 rows; weight_hh is not offered', async () => {
    const info = await inspectOnnx(join(REPO, 'fixtures/real/silero-vad-v5/silero_vad_v5.onnx'));
    const rnn = [...info.layouts].filter(([n]) => /decoder\.rnn/.test(n));
    expect(rnn.map(([n, l]) => `${n.replace(/^If_0_(then|else)_branch__Inline_0__/, '')}:${l}`)).toEqual(['decoder.rnn.weight_ih:OI', 'decoder.rnn.weight_ih:OI']);
    const map = recurrentInputWeights(scanOnnx(new Uint8Array(readFileSync(join(REPO, 'fixtures/real/silero-vad-v5/silero_vad_v5.onnx')))).nodes);
    expect(map.size).toBe(2);
    for (const [name, r] of map) {
      expect(name).toMatch(/decoder\.rnn\.weight_ih$/);
      expect(r.rows).toBe(512);
      expect(r.nodes).toHaveLength(2); // the LSTM of each branch of the decoder's own If reads the same weight
    }
  });
});
