// A real MobileNetV1 as a TF.js Layers classifier: the backbone of face-api's SSD face detector
// (fixtures/real/faceapi-ssd-mobilenetv1, uint8-quantized weights from @vladmandic/face-api 1.7.15,
// originally TensorFlow's ssd_mobilenet_v1), laid out exactly as face-api runs it in
// src/ssdMobilenetv1/mobileNetV1.ts: Conv2d_0 (3x3, stride 2, 'same', BN folded into a bias,
// ReLU6), then 13 depthwise-separable blocks (3x3 depthwise 'same' -> BatchNorm eps 1e-3 ->
// ReLU6 -> 1x1 pointwise with folded-BN bias -> ReLU6), stride 2 at blocks 2, 4, 6 and 12. Input
// pixels in -1..1 (face-api: x * 0.007843 - 1). A new head (GlobalAveragePooling2D + Dense)
// makes it a classifier; only the head is seeded, every backbone weight is the real one.
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { readModelTensors, tensorToFloat32 } from '../../src/formats/index.js';
import { REPO } from './paths.js';

export const FACEAPI_MOBILENET = join(REPO, 'fixtures/real/faceapi-ssd-mobilenetv1/ssd_mobilenetv1_model-weights_manifest.json');
const STRIDE2 = new Set([2, 4, 6, 12]);

export async function buildFaceApiMobileNet(o: { size: number; classes: number; seed?: number }): Promise<{ model: tf.LayersModel; used: string[] }> {
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
