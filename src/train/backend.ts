/**
 * Training backend choice. `auto` takes native TensorFlow (`@tensorflow/tfjs-node-gpu`, then
 * `@tensorflow/tfjs-node`) when installed, then WebGPU on a hardware adapter (Dawn, webgpu.ts), then
 * wasm, then the pure-JS cpu backend. Every output that reports training says which backend ran,
 * and what `auto` skipped and why, from the `SelectedBackend` returned here.
 */
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths, version_wasm } from '@tensorflow/tfjs-backend-wasm';
import { TrainError } from './errors.js';
import { registerWasmTrainingKernels } from './wasm-kernels.js';
import { activateWebgpu } from './webgpu.js';

export type BackendChoice = 'auto' | 'tensorflow' | 'webgpu' | 'wasm' | 'cpu';
export const BACKEND_CHOICES: readonly BackendChoice[] = ['auto', 'tensorflow', 'webgpu', 'wasm', 'cpu'];

export interface SelectedBackend {
  /** What ran: 'tensorflow' (native, CPU or CUDA), 'webgpu', 'wasm' or 'cpu'. */
  readonly name: 'tensorflow' | 'webgpu' | 'wasm' | 'cpu';
  /** One line for people: package, version, SIMD/threads or GPU. */
  readonly detail: string;
  /** Backends that `auto` tried and could not use, with why. */
  readonly skipped: readonly { name: string; reason: string }[];
}

const NATIVE_PACKAGES = ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'] as const;

export async function selectBackend(choice: BackendChoice = 'auto'): Promise<SelectedBackend> {
  if (!BACKEND_CHOICES.includes(choice)) {
    throw new RangeError(`selectBackend: choice must be one of ${BACKEND_CHOICES.join(', ')}, got ${String(choice)}`);
  }
  const skipped: { name: string; reason: string }[] = [];
  if (choice === 'auto' || choice === 'tensorflow') {
    for (const pkg of NATIVE_PACKAGES) {
      try {
        return { ...(await activateNative(pkg)), skipped };
      } catch (e) {
        skipped.push({ name: pkg, reason: firstLine(e) });
      }
    }
    if (choice === 'tensorflow') {
      throw new TrainError(
        'TRAIN_BACKEND_UNAVAILABLE',
        `native TensorFlow is not installed (${skipped.map((s) => `${s.name}: ${s.reason}`).join('; ')}); ` +
          'run `npm install @tensorflow/tfjs-node` (or -gpu with CUDA), or use --backend wasm',
      );
    }
  }
  if (choice === 'auto' || choice === 'webgpu') {
    try {
      return { ...(await activateWebgpu(choice === 'auto')), skipped };
    } catch (e) {
      if (choice === 'webgpu') {
        throw new TrainError('TRAIN_BACKEND_UNAVAILABLE', `the webgpu backend is unavailable: ${firstLine(e)}; use --backend wasm`, { cause: e });
      }
      skipped.push({ name: 'webgpu', reason: firstLine(e) });
    }
  }
  if (choice === 'auto' || choice === 'wasm') {
    try {
      return withFallbackNote({ ...(await activateWasm()), skipped });
    } catch (e) {
      if (choice === 'wasm') {
        throw new TrainError('TRAIN_BACKEND_UNAVAILABLE', `the wasm backend failed to start: ${firstLine(e)}`, { cause: e });
      }
      skipped.push({ name: 'wasm', reason: firstLine(e) });
    }
  }
  if (!(await tf.setBackend('cpu'))) {
    throw new TrainError('TRAIN_BACKEND_UNAVAILABLE', 'the tfjs cpu backend failed to start');
  }
  return withFallbackNote({ name: 'cpu', detail: `cpu (pure JavaScript, tfjs ${tf.version_core}, fits on ${availableParallelism()} worker threads)`, skipped });
}

/** `auto` says why it did not take the GPU (native TensorFlow is optional and not worth a line). */
function withFallbackNote(s: SelectedBackend): SelectedBackend {
  const gpu = s.skipped.find((k) => k.name === 'webgpu');
  return gpu ? { ...s, detail: `${s.detail}; no GPU: ${gpu.reason}` } : s;
}

async function activateNative(pkg: string): Promise<Omit<SelectedBackend, 'skipped'>> {
  // A variable specifier keeps tsc from requiring the optional package's types.
  const mod = (await import(pkg)) as { version?: { 'tfjs-node'?: string } };
  if (!(await tf.setBackend('tensorflow'))) throw new Error(`${pkg} loaded but the 'tensorflow' backend did not start`);
  const gpu = pkg.endsWith('-gpu') ? 'CUDA' : 'CPU';
  const version = mod.version?.['tfjs-node'] ?? 'unknown version';
  return { name: 'tensorflow', detail: `tensorflow (${pkg} ${version}, native ${gpu})` };
}

let wasmPathsSet = false;

async function activateWasm(): Promise<Omit<SelectedBackend, 'skipped'>> {
  registerWasmTrainingKernels();
  if (!wasmPathsSet) {
    const require = createRequire(import.meta.url);
    const dist = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));
    // Node reads the .wasm files from disk; a prefix ending in a separator is what the loader expects.
    setWasmPaths(dist + path.sep);
    wasmPathsSet = true;
  }
  if (!(await tf.setBackend('wasm'))) throw new Error('tf.setBackend("wasm") returned false');
  const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
  // tfjs-backend-wasm turns threads off under Node (tensorflow/tfjs#3830): its pthread workers are
  // blob: URLs, which worker_threads refuses (ERR_WORKER_PATH). So each wasm instance runs on one
  // thread, and fitModel trains data-parallel on worker threads instead (fit-parallel.ts).
  return {
    name: 'wasm',
    detail: `wasm (tfjs-backend-wasm ${version_wasm}, ${simd ? 'SIMD' : 'no SIMD'}, fits on ${availableParallelism()} worker threads)`,
  };
}

function firstLine(e: unknown): string {
  const message = e instanceof Error ? e.message : String(e);
  return message.split('\n')[0] ?? message;
}
