// The converter on the ops of mobile vision models, checked against onnxruntime-node on real
// photos (face-api's demo JPEGs, resized and ImageNet-normalised), with a dynamic batch; and on
// the real ONNX model in fixtures/real, which it must refuse naming every op it lacks.
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attr, OnnxGraphBuilder } from '../../src/formats/convert-onnx-build.js';
import { convertOnnxToTfjs } from '../../src/formats/convert-onnx-to-tfjs.js';
import { tfjsArtifactsToOnnx } from '../../src/formats/convert-tfjs-to-onnx.js';
import { FormatError } from '../../src/formats/errors.js';
import { decodeOnnxModel } from '../../src/formats/onnx.js';
import { onnx } from '../../src/formats/onnx-tensor.js';
import { loadImageFolder } from '../../src/images/index.js';
import { buildFaceApiMobileNet } from '../helpers/faceapi-mobilenet.js';
import { maxAbsDiff, predictOnnx, tf, tfReady } from './convert-helpers.js';

const SAMPLES = join(import.meta.dirname, '../../fixtures/real/faceapi-samples');
const REAL = join(import.meta.dirname, '../../fixtures/real');
let root: string;
/** Three real photos, 32x32 RGB, ImageNet mean/std, NHWC and NCHW. */
let nhwc: Float32Array;
let nchw: Float32Array;

beforeAll(async () => {
  await tfReady();
  root = mkdtempSync(join(tmpdir(), 'hallmark-mobile-'));
  mkdirSync(join(root, 'photos', 'all'), { recursive: true });
  for (const i of [2, 4, 5]) copyFileSync(join(SAMPLES, `sample${i}.jpg`), join(root, 'photos', 'all', `s${i}.jpg`));
  const d = await loadImageFolder(join(root, 'photos'), { preprocess: { size: [32, 32], channels: 3, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] } });
  nhwc = d.images;
  nchw = tf.tidy(() => tf.transpose(tf.tensor4d(nhwc, [3, 32, 32, 3]), [0, 3, 1, 2]).dataSync() as Float32Array);
}, 120_000);
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Seeded values in [-scale, scale]. */
function vals(n: number, seed: number, scale = 0.3): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return ((s / 2 ** 32) * 2 - 1) * scale;
  });
}
const str = (name: string, v: string) => onnx.AttributeProto.create({ name, type: onnx.AttributeProto.AttributeType.STRING, s: new TextEncoder().encode(v) });

/** A MobileNetV3-style block as PyTorch exports it (NCHW, symbolic batch), with every new op. */
function mobileOnnx(): Uint8Array {
  const b = new OnnxGraphBuilder();
  const f = (name: string, dims: number[], seed: number, scale?: number) => b.addFloat(name, dims, vals(dims.reduce((a, c) => a * c, 1), seed, scale));
  const x = b.reserve('input');
  const c0 = b.add('Conv', [x, f('w0', [16, 3, 3, 3], 1), f('b0', [16], 2, 0.1)], 'c0', [attr.ints('strides', [2, 2]), attr.ints('pads', [1, 1, 1, 1])]);
  const h0 = b.add('HardSwish', [c0], 'h0');
  const dw = b.add('Conv', [h0, f('wd', [16, 1, 3, 3], 3), f('bd', [16], 4, 0.1)], 'dw', [attr.int('group', 16), attr.ints('pads', [1, 1, 1, 1])]);
  const r6 = b.add('Clip', [dw, b.addFloat('lo', [], new Float32Array([0])), b.addFloat('hi', [], new Float32Array([6]))], 'r6');
  const se = b.add('ReduceMean', [r6], 'se', [attr.ints('axes', [2, 3]), attr.int('keepdims', 1)]);
  const s1 = b.add('Relu', [b.add('Conv', [se, f('ws1', [8, 16, 1, 1], 5), f('bs1', [8], 6, 0.1)], 's1')], 's1r');
  const s2 = b.add('Conv', [s1, f('ws2', [16, 8, 1, 1], 7), f('bs2', [16], 8, 0.1)], 's2');
  const hs = b.add('HardSigmoid', [s2], 'hs', [attr.float('alpha', 1 / 6), attr.float('beta', 0.5)]);
  const m = b.add('Mul', [r6, hs], 'm');
  const g = b.add('Conv', [m, f('wg', [16, 8, 3, 3], 9)], 'g', [attr.int('group', 2), attr.ints('pads', [1, 1, 1, 1])]);
  const gm = b.add('Mul', [g, b.addFloat('half', [], new Float32Array([0.5]))], 'gm');
  const ga = b.add('Add', [gm, f('shift', [1, 16, 1, 1], 10, 0.2)], 'ga');
  const gs = b.add('Sub', [ga, b.addFloat('tenth', [], new Float32Array([0.1]))], 'gs');
  const gd = b.add('Div', [gs, b.addFloat('scale', [16, 1, 1], Float32Array.from({ length: 16 }, (_, i) => 0.5 + i / 16))], 'gd');
  const pd = b.add('Pad', [gd, b.addInt64('pads', [0, 0, 1, 0, 0, 0, 0, 1])], 'pd');
  const pc = b.add('Conv', [pd, f('wp', [16, 16, 2, 2], 11), f('bp', [16], 12, 0.1)], 'pc');
  const cat = b.add('Concat', [pc, h0], 'cat', [attr.int('axis', 1)]);
  const ct = b.add('ConvTranspose', [cat, f('wt', [32, 8, 4, 4], 13), f('bt', [8], 14, 0.1)], 'ct', [attr.ints('strides', [2, 2]), attr.ints('pads', [1, 1, 1, 1])]);
  const up = b.add('Resize', [b.add('Conv', [cat, f('wu', [8, 32, 1, 1], 15)], 'cu'), '', b.addFloat('scales', [4], new Float32Array([1, 1, 2, 2]))], 'up', [str('mode', 'nearest')]);
  const upl = b.add('Resize', [b.add('Conv', [cat, f('wl', [8, 32, 1, 1], 16)], 'cl'), '', b.addFloat('scales2', [4], new Float32Array([1, 1, 2, 2]))], 'upl', [str('mode', 'linear'), str('coordinate_transformation_mode', 'asymmetric')]);
  const sum = b.add('Add', [b.add('Add', [ct, up], 'sum0'), upl], 'sum');
  const gap = b.add('ReduceMean', [sum], 'gap', [attr.ints('axes', [2, 3]), attr.int('keepdims', 0)]);
  const logits = b.add('Gemm', [gap, f('wf', [5, 8], 17, 1), f('bf', [5], 18, 0.1)], 'logits', [attr.int('transB', 1)]);
  const m13 = decodeOnnxModel(b.toBytes('mobile', [{ name: x, dims: [3, 32, 32] }], [{ name: logits, dims: [5] }], 'pytorch-like'));
  m13.opsetImport[0]!.version = 14; // HardSwish is opset 14
  return onnx.ModelProto.encode(m13).finish();
}

function top1(out: Float32Array, k: number): number[] {
  return Array.from({ length: out.length / k }, (_, i) => {
    let best = 0;
    for (let j = 1; j < k; j++) if (out[i * k + j]! > out[i * k + best]!) best = j;
    return best;
  });
}

describe('ONNX -> TF.js: mobile ops against onnxruntime-node on real photos', () => {
  it('agrees under 1e-4 with the same top-1 on every photo, any batch size', async () => {
    const bytes = mobileOnnx();
    const art = convertOnnxToTfjs(bytes);
    const classes = new Set((art.modelTopology.config as { layers: { class_name: string }[] }).layers.map((l) => l.class_name));
    for (const c of ['DepthwiseConv2D', 'Conv2DTranspose', 'Cropping2D', 'UpSampling2D', 'Concatenate', 'ZeroPadding2D', 'Multiply', 'Rescaling', 'GlobalAveragePooling2D']) expect(classes).toContain(c);
    const model = await tf.loadLayersModel(tf.io.fromMemory(art));
    for (const n of [1, 3]) {
      const x = nchw.subarray(0, n * 3 * 32 * 32);
      const ours = tf.tidy(() => (model.predict(tf.tensor4d(x, [n, 3, 32, 32])) as tf.Tensor).dataSync() as Float32Array);
      const ref = await predictOnnx(bytes, Float32Array.from(x), [n, 3, 32, 32]);
      expect(maxAbsDiff(ours, ref)).toBeLessThan(1e-4);
      expect(top1(ours, 5)).toEqual(top1(ref, 5));
      // Not a constant model: the photos give different logits.
      if (n === 3) expect(maxAbsDiff(ref.subarray(0, 5), ref.subarray(10, 15))).toBeGreaterThan(1e-3);
    }
    model.dispose();
  });

  it('refuses the real silero VAD ONNX naming every op it lacks with counts, in one line', async () => {
    const bytes = readFileSync(join(REAL, 'silero-vad-v5/silero_vad_v5.onnx'));
    const g = decodeOnnxModel(bytes).graph!;
    // The expected list, counted here from the file's own main graph.
    const known = new Set(['Conv', 'MaxPool', 'AveragePool', 'GlobalAveragePool', 'Gemm', 'MatMul', 'Add', 'Relu', 'Sigmoid', 'Tanh', 'Softmax', 'Flatten', 'Reshape', 'Transpose', 'BatchNormalization', 'Dropout', 'Identity', 'Constant', 'Clip', 'HardSigmoid', 'HardSwish', 'Mul', 'Sub', 'Div', 'ReduceMean', 'Resize', 'Upsample', 'ConvTranspose', 'Concat', 'Pad']);
    const counts = new Map<string, number>();
    for (const n of g.node) if (!known.has(n.opType!)) counts.set(n.opType!, (counts.get(n.opType!) ?? 0) + 1);
    expect(counts.size).toBeGreaterThan(0);
    let err: unknown;
    try {
      convertOnnxToTfjs(bytes);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(FormatError);
    expect((err as FormatError).code).toBe('FORMAT_UNSUPPORTED');
    const msg = (err as FormatError).message;
    expect(msg).not.toContain('\n');
    expect(msg).toContain(`${counts.size} op type`);
    for (const [op, k] of counts) expect(msg).toContain(`${op} x${k}`);
  });

  it('lists every unsupported op of a graph, not only the first, and keeps foreign domains apart', () => {
    const b = new OnnxGraphBuilder();
    const x = b.reserve('x');
    const a = b.add('LeakyRelu', [x], 'a');
    const c = b.add('Erf', [b.add('LeakyRelu', [a], 'a2')], 'c');
    const bytes = b.toBytes('g', [{ name: x, dims: [4] }], [{ name: c, dims: [4] }]);
    const model = decodeOnnxModel(bytes);
    model.graph!.node[2]!.domain = 'com.microsoft';
    const foreign = onnx.ModelProto.encode(model).finish();
    expect(() => convertOnnxToTfjs(bytes)).toThrow(/2 op types the converter does not support: LeakyRelu x2, Erf x1/);
    expect(() => convertOnnxToTfjs(foreign)).toThrow(/LeakyRelu x2, com\.microsoft\.Erf x1/);
  });
});

describe('TF.js -> ONNX: MobileNet layers', () => {
  it('DepthwiseConv2D, SeparableConv2D, ZeroPadding2D, Concatenate and ReLU6 run the same in onnxruntime, and come back', async () => {
    const init = (seed: number) => tf.initializers.glorotUniform({ seed });
    const input = tf.input({ shape: [32, 32, 3] });
    let y = tf.layers.zeroPadding2d({ padding: [[0, 1], [0, 1]] }).apply(input) as tf.SymbolicTensor;
    y = tf.layers.conv2d({ filters: 8, kernelSize: 3, strides: 2, activation: 'relu6', kernelInitializer: init(1) }).apply(y) as tf.SymbolicTensor;
    const d = tf.layers.depthwiseConv2d({ kernelSize: 3, padding: 'same', depthMultiplier: 2, depthwiseInitializer: init(2), biasInitializer: tf.initializers.randomUniform({ minval: -0.1, maxval: 0.1, seed: 3 }) }).apply(y) as tf.SymbolicTensor;
    const r = tf.layers.reLU({ maxValue: 6 }).apply(d) as tf.SymbolicTensor;
    const s = tf.layers.separableConv2d({ filters: 8, kernelSize: 3, padding: 'same', depthwiseInitializer: init(4), pointwiseInitializer: init(5), activation: 'relu6' }).apply(y) as tf.SymbolicTensor;
    const cat = tf.layers.concatenate().apply([r, s]) as tf.SymbolicTensor;
    const gap = tf.layers.globalAveragePooling2d({}).apply(cat) as tf.SymbolicTensor;
    const out = tf.layers.dense({ units: 4, kernelInitializer: init(6) }).apply(gap) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: out });
    const tensors = model.weights.map((w) => ({ name: w.originalName, dtype: 'F32' as const, shape: w.shape as number[], data: new Uint8Array((w.read().dataSync() as Float32Array).slice().buffer) }));
    const topo = JSON.parse(JSON.stringify(model.toJSON(null, false)));
    const bytes = tfjsArtifactsToOnnx(topo, tensors);
    const ref = tf.tidy(() => (model.predict(tf.tensor4d(nhwc, [3, 32, 32, 3])) as tf.Tensor).dataSync() as Float32Array);
    const viaOrt = await predictOnnx(bytes, Float32Array.from(nhwc), [3, 32, 32, 3]);
    expect(maxAbsDiff(viaOrt, ref)).toBeLessThan(1e-4);
    // And back: the ONNX file converts to a TF.js model that answers the same.
    const back = await tf.loadLayersModel(tf.io.fromMemory(convertOnnxToTfjs(bytes)));
    const again = tf.tidy(() => (back.predict(tf.tensor4d(nhwc, [3, 32, 32, 3])) as tf.Tensor).dataSync() as Float32Array);
    expect(maxAbsDiff(again, ref)).toBeLessThan(1e-4);
    expect(top1(again, 4)).toEqual(top1(ref, 4));
    model.dispose();
    back.dispose();
  });
});

describe('the real MobileNetV1 (face-api weights) through both converters', () => {
  it('TF.js -> ONNX runs the same in onnxruntime on real photos, and ONNX -> TF.js comes back the same', async () => {
    const { model } = await buildFaceApiMobileNet({ size: 32, classes: 5 });
    // Photos in -1..1, as face-api feeds it.
    const x = nhwc.map((v, i) => ((v * [0.229, 0.224, 0.225][i % 3]! + [0.485, 0.456, 0.406][i % 3]!) * 2 - 1));
    const tensors = model.weights.map((w) => ({ name: w.originalName, dtype: 'F32' as const, shape: w.shape as number[], data: new Uint8Array((w.read().dataSync() as Float32Array).slice().buffer) }));
    const bytes = tfjsArtifactsToOnnx(JSON.parse(JSON.stringify(model.toJSON(null, false))), tensors);
    const ref = tf.tidy(() => (model.predict(tf.tensor4d(x, [3, 32, 32, 3])) as tf.Tensor).dataSync() as Float32Array);
    const viaOrt = await predictOnnx(bytes, Float32Array.from(x), [3, 32, 32, 3]);
    const back = await tf.loadLayersModel(tf.io.fromMemory(convertOnnxToTfjs(bytes)));
    const again = tf.tidy(() => (back.predict(tf.tensor4d(x, [3, 32, 32, 3])) as tf.Tensor).dataSync() as Float32Array);
    const d1 = maxAbsDiff(viaOrt, ref);
    const d2 = maxAbsDiff(again, viaOrt);
    console.log(`face-api MobileNetV1: tfjs vs onnxruntime max |diff| ${d1.toExponential(2)}, onnx->tfjs vs onnxruntime ${d2.toExponential(2)}`);
    expect(d1).toBeLessThan(1e-4);
    expect(d2).toBeLessThan(1e-4);
    expect(top1(again, 5)).toEqual(top1(viaOrt, 5));
    expect(top1(viaOrt, 5)).toEqual(top1(ref, 5));
    model.dispose();
    back.dispose();
  });
});
