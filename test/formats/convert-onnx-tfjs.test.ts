// ONNX -> TF.js: models written by our exporter and by hand in the shapes other exporters use
// (NCHW input, explicit pads, Gemm transB, MatMul+Add, Reshape) load in tfjs and agree with
// onnxruntime-node on real MNIST test images; tfjs -> onnx -> tfjs agrees with the original.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { convertOnnxToTfjs, type TfjsArtifacts } from '../../src/formats/convert-onnx-to-tfjs.js';
import { convertTfjsToOnnx } from '../../src/formats/convert-tfjs-to-onnx.js';
import { loadLayersModel, writeTfjsArtifacts } from '../../src/formats/tfjs-io.js';
import { buildBnModel, buildGapModel, buildReshapeModel, buildCnn, buildResidual, maxAbsDiff, mnistImages, predictOnnx, predictTfjs, saveTfjs, spread, tf, tfReady } from './convert-helpers.js';
import { graphModel, pytorchStyleCnn, rng, toNchw } from './convert-onnx-fixtures.js';

const N = 300;
let root: string;
let images: Awaited<ReturnType<typeof mnistImages>>;

beforeAll(async () => {
  await tfReady();
  root = mkdtempSync(join(tmpdir(), 'hallmark-convert-back-'));
  images = await mnistImages(N);
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

async function load(a: TfjsArtifacts): Promise<tf.LayersModel> {
  return tf.loadLayersModel(tf.io.fromMemory({ modelTopology: a.modelTopology, weightSpecs: a.weightSpecs, weightData: a.weightData }));
}

/** Writes the artifacts as a folder and loads it back with the formats reader, as the CLI would. */
async function viaFolder(a: TfjsArtifacts, name: string): Promise<tf.LayersModel> {
  const dir = join(root, name);
  await writeTfjsArtifacts(dir, a);
  return loadLayersModel(dir);
}

describe('convertOnnxToTfjs', () => {
  for (const [name, build] of [['cnn', buildCnn], ['batchnorm-dropout-avgpool', buildBnModel], ['residual', buildResidual], ['reshape-softmax', buildReshapeModel], ['global-avg-pool', buildGapModel]] as const) {
    it(`${name}: tfjs -> onnx -> tfjs agrees with the original and with onnxruntime`, async () => {
      const original = build();
      const onnxBytes = await convertTfjsToOnnx(await saveTfjs(original, join(root, `${name}-src`)));
      const back = await viaFolder(convertOnnxToTfjs(onnxBytes), `${name}-back`);
      const want = predictTfjs(original, images.data, images.shape);
      const got = predictTfjs(back, images.data, images.shape);
      const ortOut = await predictOnnx(onnxBytes, images.data, images.shape);
      const d1 = maxAbsDiff(want, got);
      const d2 = maxAbsDiff(ortOut, got);
      expect(d1).toBeLessThan(1e-4);
      expect(d2).toBeLessThan(1e-4);
      expect(spread(want, 10)).toBeGreaterThan(1e-2);
      // Our own graphs come back without Permute layers where the transposes fold into views
      // (GlobalAveragePool's [N,C,1,1] output needs one before its Flatten).
      if (name !== 'global-avg-pool') expect(back.layers.map((l) => l.getClassName())).not.toContain('Permute');
      console.info(`${name}: round trip max diff ${d1.toExponential(2)}, onnxruntime vs converted tfjs ${d2.toExponential(2)}`);
      original.dispose();
      back.dispose();
    });
  }

  it('imports a PyTorch-style graph (NCHW input, explicit pads, Gemm transB, MatMul+Add, Reshape) that agrees with onnxruntime', async () => {
    const onnxBytes = pytorchStyleCnn(7);
    const a = convertOnnxToTfjs(onnxBytes);
    const model = await load(a);
    // The NCHW flatten needs a Permute, the asymmetric pads a ZeroPadding2D; the bias Adds fold away.
    const classes = model.layers.map((l) => l.getClassName());
    expect(classes).toEqual(expect.arrayContaining(['Permute', 'ZeroPadding2D', 'BatchNormalization', 'AveragePooling2D']));
    expect(classes).not.toContain('Add');
    const nchw = toNchw(images.data, N, 28, 28, 1);
    const ortOut = await predictOnnx(onnxBytes, nchw, [N, 1, 28, 28]);
    const got = predictTfjs(model, nchw, [N, 1, 28, 28]);
    const d = maxAbsDiff(ortOut, got);
    expect(d).toBeLessThan(1e-4);
    expect(spread(ortOut, 10)).toBeGreaterThan(1e-2);
    console.info(`pytorch-style: onnxruntime vs converted tfjs ${d.toExponential(2)}`);
    model.dispose();
  });

  it('does not fold an activation or bias into a layer whose output another node also reads', async () => {
    const r = rng(3);
    const w = Float32Array.from({ length: 784 * 10 }, () => r() * 0.2 - 0.1);
    // m feeds both Identity -> Relu and the final Add: folding the Relu into the MatMul would change m.
    const bytes = graphModel([
      { opType: 'Flatten', input: ['x'], output: ['f'] },
      { opType: 'MatMul', input: ['f', 'w'], output: ['m'] },
      { opType: 'Identity', input: ['m'], output: ['i'] },
      { opType: 'Relu', input: ['i'], output: ['r'] },
      { opType: 'Add', input: ['r', 'm'], output: ['y'] },
    ], [{ name: 'w', dims: [784, 10], values: w }], { name: 'x', dims: ['N', 28, 28, 1] }, { name: 'y', dims: ['N', 10] });
    const model = await load(convertOnnxToTfjs(bytes));
    const d = maxAbsDiff(await predictOnnx(bytes, images.data, images.shape), predictTfjs(model, images.data, images.shape));
    expect(d).toBeLessThan(1e-4);
    expect(model.layers.map((l) => l.getClassName())).toContain('Activation');
    model.dispose();
  });
});
