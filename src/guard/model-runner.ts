// What the guard puts its answers on: the owner's model run in-process (onnxruntime-node for
// ONNX, TF.js for a TF.js Layers model) or an upstream model server (upstream-runner.ts). Every
// runner takes a flat float32 batch of known per-input dims and returns [n, classes] scores.
import { readFile } from 'node:fs/promises';
import { detectModelFormat, loadLayersModel } from '../formats/index.js';
import { GuardError } from './errors.js';
import { openOnnxThreadRunner } from './onnx-thread-runner.js';

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

/** Where an ONNX model runs: on the request thread, on a worker thread, or chosen by its speed. */
export type ModelPlacement = 'auto' | 'worker' | 'inline';

/**
 * A model call at least this long (median of five on a zero input) goes to a worker thread under
 * `auto`: the hand-over costs about 0.1 ms and a copy of the input, which pays for itself once
 * the guard's own work on the input (up to about 1 ms for 224x224x3) can run during the call.
 * Below it the hop would cost as much as the model (the 0.05 ms MNIST fixture: 5,400 against
 * 3,500 requests/s served directly, measured with bench:guard).
 */
export const AUTO_WORKER_MS = 2;

async function medianCallMs(r: ModelRunner): Promise<number> {
  const x = new Float32Array(r.dims.reduce((a, b) => a * b, 1));
  const t: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    await r.run(x, 1);
    t.push(performance.now() - t0);
  }
  return t.sort((a, b) => a - b)[2]!;
}

async function openOnnxPlaced(path: string, placement: ModelPlacement): Promise<ModelRunner> {
  if (placement === 'worker') return openOnnxThreadRunner(path);
  const inline = await openOnnxRunner(path);
  if (placement === 'inline') return inline;
  const ms = await medianCallMs(inline);
  const why = `a model call takes ${ms.toFixed(2)} ms`;
  if (ms < AUTO_WORKER_MS) return { ...inline, description: `${inline.description} (request thread: ${why})` };
  await inline.close();
  const worker = await openOnnxThreadRunner(path);
  return { ...worker, description: `${worker.description}: ${why}` };
}

/**
 * A local model file (ONNX, or TF.js Layers folder/model.json). An ONNX model runs where
 * `placement` says (default auto: on a worker thread when a call takes AUTO_WORKER_MS or more).
 */
export async function openLocalRunner(path: string, o: { placement?: ModelPlacement } = {}): Promise<ModelRunner> {
  const d = await detectModelFormat(path);
  if (d.format === 'onnx') return openOnnxPlaced(d.path, o.placement ?? 'auto');
  if (d.format === 'tfjs-layers') return openTfjsRunner(d.path);
  throw new GuardError('GUARD_BAD_INPUT', `${path} is safetensors: weights without a graph cannot be served`);
}
