// What the guard puts its answers on: the owner's model run in-process (onnxruntime-node for
// ONNX, TF.js for a TF.js Layers model) or an upstream model server (upstream-runner.ts). Every
// runner takes a flat float32 batch of known per-input dims and returns [n, classes] scores.
import { readFile } from 'node:fs/promises';
import { detectModelFormat, loadLayersModel } from '../formats/index.js';
import { GuardError } from './errors.js';

export interface ModelRunner {
  /** One line for logs: runtime and model (never a credential). */
  readonly description: string;
  readonly platform: string;
  readonly inputName: string;
  readonly outputName: string;
  /** Dims of one input, without the batch axis. */
  readonly dims: readonly number[];
  readonly classes: number;
  /** Scores, row-major [n, classes]. */
  run(x: Float32Array, n: number): Promise<Float32Array>;
  close(): Promise<void>;
}

const MAX_MODEL_BYTES = 2 * 1024 ** 3;

function concreteDims(dims: readonly (number | string | null)[], where: string): number[] {
  const rest = dims.slice(1);
  if (rest.length === 0 || rest.some((d) => typeof d !== 'number' || !(d > 0))) {
    throw new GuardError('GUARD_BAD_INPUT', `${where} has input dims [${dims.join(', ')}]; the guard needs fixed dims after the batch axis`);
  }
  return rest as number[];
}

export async function openOnnxRunner(path: string): Promise<ModelRunner> {
  const ort = await import('onnxruntime-node');
  const bytes = await readFile(path);
  if (bytes.byteLength > MAX_MODEL_BYTES) throw new GuardError('GUARD_BAD_INPUT', `${path} is larger than ${MAX_MODEL_BYTES} bytes`);
  let session;
  try {
    session = await ort.InferenceSession.create(bytes, { executionProviders: ['cpu'], intraOpNumThreads: 1, interOpNumThreads: 1 });
  } catch (err) {
    throw new GuardError('GUARD_BAD_INPUT', `onnxruntime cannot load ${path}: ${(err as Error).message.split('\n')[0]}`, { cause: err });
  }
  const meta = session.inputMetadata[0];
  if (session.inputNames.length !== 1 || !meta?.isTensor) {
    await session.release();
    throw new GuardError('GUARD_BAD_INPUT', `${path} must have exactly one tensor input to be served as a classifier`);
  }
  const dims = concreteDims(meta.shape, path);
  const inputName = session.inputNames[0]!;
  const outputName = session.outputNames[0]!;
  const s = session;
  const run = async (x: Float32Array, n: number) => {
    const out = await s.run({ [inputName]: new ort.Tensor('float32', x, [n, ...dims]) });
    const y = out[outputName];
    if (!y || !(y.data instanceof Float32Array) || y.data.length % n !== 0) throw new GuardError('GUARD_BAD_INPUT', `output "${outputName}" is not a float32 [n, classes] tensor`);
    return y.data;
  };
  const size = dims.reduce((a, b) => a * b, 1);
  const classes = (await run(new Float32Array(size), 1)).length;
  return { description: `onnxruntime-node ${ort.env.versions.node} on ${path}`, platform: 'onnxruntime_onnx', inputName, outputName, dims, classes, run, close: () => s.release() };
}

export async function openTfjsRunner(path: string): Promise<ModelRunner> {
  const tf = await import('@tensorflow/tfjs');
  const model = await loadLayersModel(path);
  const dims = concreteDims(model.inputs[0]?.shape ?? [], path);
  const run = async (x: Float32Array, n: number) =>
    tf.tidy(() => (model.predict(tf.tensor(x, [n, ...dims])) as import('@tensorflow/tfjs').Tensor).dataSync() as Float32Array);
  const size = dims.reduce((a, b) => a * b, 1);
  const classes = (await run(new Float32Array(size), 1)).length;
  return {
    description: `tfjs ${tf.version_core} (${tf.getBackend()}) on ${path}`, platform: 'tensorflow_js', inputName: model.inputs[0]?.name ?? 'input', outputName: model.outputs[0]?.name ?? 'output',
    dims, classes, run, close: async () => {
      model.dispose();
    },
  };
}

/** A local model file (ONNX, or TF.js Layers folder/model.json). */
export async function openLocalRunner(path: string): Promise<ModelRunner> {
  const d = await detectModelFormat(path);
  if (d.format === 'onnx') return openOnnxRunner(d.path);
  if (d.format === 'tfjs-layers') return openTfjsRunner(d.path);
  throw new GuardError('GUARD_BAD_INPUT', `${path} is safetensors: weights without a graph cannot be served`);
}
