// A real MobileNetV1 as a TF.js Layers classifier: the backbone of face-api's SSD face detector
// (model/ssd_mobilenetv1_model* of the npm package @vladmandic/face-api 1.7.15, MIT, a pinned
// devDependency read from node_modules and checked against its SHA-256; uint8-quantized weights,
// originally TensorFlow's ssd_mobilenet_v1), laid out exactly as face-api runs it in
// src/ssdMobilenetv1/mobileNetV1.ts: Conv2d_0 (3x3, stride 2, 'same', BN folded into a bias,
// ReLU6), then 13 depthwise-separable blocks (3x3 depthwise 'same' -> BatchNorm eps 1e-3 ->
// ReLU6 -> 1x1 pointwise with folded-BN bias -> ReLU6), stride 2 at blocks 2, 4, 6 and 12. Input
// pixels in -1..1 (face-api: x * 0.007843 - 1). A new head (GlobalAveragePooling2D + Dense)
// makes it a classifier; only the head is seeded, every backbone weight is the real one.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { readModelTensors, tensorToFloat32 } from '../../src/formats/index.js';
import { REPO } from './paths.js';

const MODEL_DIR = join(REPO, 'node_modules/@vladmandic/face-api/model');
export const FACEAPI_MOBILENET = join(MODEL_DIR, 'ssd_mobilenetv1_model-weights_manifest.json');
/** The published files' SHA-256 (fixtures/real/README.md): a different package version fails loudly. */
const DIGESTS: Record<string, string> = {
  'ssd_mobilenetv1_model-weights_manifest.json': '888f744dffbc84f5f060d1f8427d9742341943a2dfaaf9205d10029b7e7a2955',
  'ssd_mobilenetv1_model.bin': '2835640602d53718aa6ae9a42896327eaa21beefed056c218d32ca7d79e1e2f8',
};

function checkDigests(): void {
  for (const [file, want] of Object.entries(DIGESTS)) {
    const got = createHash('sha256').update(readFileSync(join(MODEL_DIR, file))).digest('hex');
    if (got !== want) throw new Error(`@vladmandic/face-api ${file} has SHA-256 ${got}, want ${want} (version 1.7.15)`);
  }
}
const STRIDE2 = new Set([2, 4, 6, 12]);

export async function buildFaceApiMobileNet(o: { size: number; classes: number; seed?: number }): Promise<{ model: tf.LayersModel; used: string[] }> {
  checkDigests();
  const { tensors } = await readModelTensors(FACEAPI_MOBILENET);
  const w = new Map(tensors.filter((t) => t.name.startsWith('MobilenetV1/')).map((t) => [t.name, t]));
  const used: string[] = [];
  const get = (name: string, shape: number[]): tf.Tensor => {
    const t = w.get(`MobilenetV1/${name}`);
    if (!t) throw new Error(`face-api MobileNetV1 has no ${name}`);
    if (t.shape.join() !== shape.join()) throw new Error(`${name} is [${t.shape.join(',')}], the layer needs [${shape.join(',')}]`);
    used.push(`MobilenetV1/${name}`);
    return tf.tensor(tensorToFloat32(t), shape);
  };
  const input = tf.input({ shape: [o.size, o.size, 3], name: 'image' });
  const conv0 = tf.layers.conv2d({ name: 'Conv2d_0', filters: 32, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu6' });
  let x = conv0.apply(input) as tf.SymbolicTensor;
  const sets: [tf.layers.Layer, tf.Tensor[]][] = [[conv0, [get('Conv2d_0_pointwise/weights', [3, 3, 3, 32]), get('Conv2d_0_pointwise/convolution_bn_offset', [32])]]];
  let ch = 32;
  for (let i = 1; i <= 13; i++) {
    const out = w.get(`MobilenetV1/Conv2d_${i}_pointwise/weights`)!.shape[3]!;
    const dw = tf.layers.depthwiseConv2d({ name: `Conv2d_${i}_depthwise`, kernelSize: 3, strides: STRIDE2.has(i) ? 2 : 1, padding: 'same', useBias: false });
    const bn = tf.layers.batchNormalization({ name: `Conv2d_${i}_depthwise_bn`, epsilon: 0.0010000000474974513 });
    const r = tf.layers.reLU({ name: `Conv2d_${i}_depthwise_relu6`, maxValue: 6 });
    const pw = tf.layers.conv2d({ name: `Conv2d_${i}_pointwise`, filters: out, kernelSize: 1, activation: 'relu6' });
    x = pw.apply(r.apply(bn.apply(dw.apply(x)))) as tf.SymbolicTensor;
    const p = `Conv2d_${i}_depthwise/`;
    sets.push([dw, [get(`${p}depthwise_weights`, [3, 3, ch, 1])]]);
    sets.push([bn, ['gamma', 'beta', 'moving_mean', 'moving_variance'].map((k) => get(`${p}BatchNorm/${k}`, [ch]))]);
    sets.push([pw, [get(`Conv2d_${i}_pointwise/weights`, [1, 1, ch, out]), get(`Conv2d_${i}_pointwise/convolution_bn_offset`, [out])]]);
    ch = out;
  }
  const gap = tf.layers.globalAveragePooling2d({ name: 'gap' }).apply(x) as tf.SymbolicTensor;
  const head = tf.layers.dense({ name: 'head', units: o.classes, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: o.seed ?? 7 }) }).apply(gap) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: head, name: 'faceapi_mobilenet_v1' });
  for (const [layer, ws] of sets) {
    layer.setWeights(ws);
    ws.forEach((t) => t.dispose());
  }
  return { model, used };
}
