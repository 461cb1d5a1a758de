// Local suspects: an ONNX file run by onnxruntime-node, or a TF.js Layers model run by TF.js on
// the backend already selected. Both are loaded lazily so importing src/verify starts neither.
import { readFile } from 'node:fs/promises';
import { detectModelFormat, FormatError, loadLayersModel } from '../formats/index.js';
import { argmaxRows, inputLayout, toNchw, type Classifier, type ImageShape } from './classifier.js';
import { VerifyError } from './errors.js';

const BATCH = 100;
/** ONNX files are read whole into memory; bound that. */
const MAX_ONNX_BYTES = 2 * 1024 ** 3;

/** An onnxruntime-node session over an ONNX file; the input layout (NHWC/NCHW) is read from its metadata. */
export async function openOnnxClassifier(path: string): Promise<Classifier> {
  const ort = await import('onnxruntime-node');
  const bytes = await readFile(path);
  if (bytes.byteLength > MAX_ONNX_BYTES) throw new FormatError('FORMAT_TOO_LARGE', `${path} is larger than ${MAX_ONNX_BYTES} bytes`);
  let session;
  try {
    session = await ort.InferenceSession.create(bytes, { executionProviders: ['cpu'], intraOpNumThreads: 1, interOpNumThreads: 1 });
  } catch (err) {
    throw new FormatError('FORMAT_CORRUPT', `onnxruntime cannot load ${path}: ${(err as Error).message.split('\n')[0]}`, { cause: err });
  }
  const input = session.inputMetadata[0];
  const inputName = session.inputNames[0];
  const outputName = session.outputNames[0];
  if (!input || !inputName || !outputName || session.inputNames.length !== 1) {
    await session.release();
    throw new VerifyError('VERIFY_UNSUPPORTED', `${path} must have exactly one input and at least one output to be queried as an image classifier`);
  }
  const dims = input.isTensor ? input.shape : [];
  const s = session;
  return {
    description: `onnxruntime-node ${ort.env.versions.node} (cpu) on ${path}`,
    async classify(images: Float32Array, n: number, shape: ImageShape): Promise<Int32Array> {
      const layout = inputLayout(dims, shape);
      if (!layout) throw new VerifyError('VERIFY_UNSUPPORTED', `the ONNX input "${inputName}" has shape [${dims.join(', ')}], which takes neither NHWC nor NCHW images of ${shape.join('x')}`);
      const [h, w, c] = shape;
      const size = h * w * c;
      const out = new Int32Array(n);
      for (let from = 0; from < n; from += BATCH) {
        const m = Math.min(BATCH, n - from);
        let x = images.subarray(from * size, (from + m) * size);
        if (layout === 'NCHW') x = toNchw(x, m, shape);
        const tensor = new ort.Tensor('float32', x, layout === 'NHWC' ? [m, h, w, c] : [m, c, h, w]);
        const result = await s.run({ [inputName]: tensor });
        const y = result[outputName];
        if (!y || !(y.data instanceof Float32Array)) throw new VerifyError('VERIFY_UNSUPPORTED', `output "${outputName}" is not a float32 tensor`);
        out.set(argmaxRows(y.data, m, `onnx output "${outputName}"`), from);
      }
      return out;
    },
    close: () => s.release(),
  };
}

/** A TF.js Layers model (folder or model.json) on the current TF.js backend. */
export async function openTfjsClassifier(path: string): Promise<Classifier> {
  const tf = await import('@tensorflow/tfjs');
  const model = await loadLayersModel(path);
  return {
    description: `tfjs ${tf.version_core} (${tf.getBackend()}) on ${path}`,
    async classify(images: Float32Array, n: number, [h, w, c]: ImageShape): Promise<Int32Array> {
      const want = model.inputs[0]?.shape ?? [];
      if (want.length !== 4 || [h, w, c].some((d, i) => want[i + 1] !== null && want[i + 1] !== d)) {
        throw new VerifyError('VERIFY_UNSUPPORTED', `the TF.js model takes inputs of shape [${want.join(', ')}], not ${h}x${w}x${c} images`);
      }
      const out = new Int32Array(n);
      for (let from = 0; from < n; from += BATCH) {
        const m = Math.min(BATCH, n - from);
        const cls = tf.tidy(() => {
          const x = tf.tensor4d(images.subarray(from * h * w * c, (from + m) * h * w * c), [m, h, w, c]);
          return tf.argMax(model.predict(x) as import('@tensorflow/tfjs').Tensor, -1).dataSync();
        });
        out.set(cls, from);
      }
      return out;
    },
    close: async () => {
      model.dispose();
    },
  };
}

/** The right local classifier for a model path (ONNX or TF.js; safetensors has no graph to run). */
export async function openLocalClassifier(path: string): Promise<Classifier> {
  const d = await detectModelFormat(path);
  if (d.format === 'onnx') return openOnnxClassifier(d.path);
  if (d.format === 'tfjs-layers') return openTfjsClassifier(d.path);
  throw new VerifyError('VERIFY_UNSUPPORTED', `${path} is safetensors, which holds weights but no graph to run; use white-box verification`);
}
