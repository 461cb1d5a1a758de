import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { selectBackend, type BackendChoice } from '../../src/train/backend.js';
import { TrainError } from '../../src/train/errors.js';
import { vulkanLoaderPresent } from '../../src/train/webgpu.js';

async function nativeInstalled(): Promise<boolean> {
  for (const pkg of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
    try {
      await import(pkg);
      return true;
    } catch {
      // not installed here
    }
  }
  return false;
}

describe('selectBackend', () => {
  it('auto takes native TensorFlow when installed, else a WebGPU adapter, else wasm, and says which ran and why', async () => {
    const native = await nativeInstalled();
    const selected = await selectBackend('auto');
    if (native) {
      expect(selected.name).toBe('tensorflow');
      return;
    }
    expect(tf.getBackend()).toBe(selected.name);
    if (selected.name === 'webgpu') {
      expect(selected.detail).toMatch(/^webgpu \(tfjs-backend-webgpu \d+\.\d+\.\d+, Dawn, /);
      return;
    }
    // No GPU here (CI, this project's machines): the fallback names its reason.
    expect(selected.name).toBe('wasm');
    expect(selected.skipped.map((s) => s.name)).toEqual(['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node', 'webgpu']);
    expect(selected.detail).toMatch(/^wasm \(tfjs-backend-wasm \d+\.\d+\.\d+, (SIMD|no SIMD), fits on \d+ worker threads\); no GPU: /);
    expect(selected.detail).toContain(selected.skipped[2]!.reason);
    expect(selected.detail).not.toContain('\n');
  });

  it('webgpu asked for without an adapter fails with one typed line, after Dawn really looked', async () => {
    // A loader that is not one makes Dawn (the real native module) try Vulkan and find no adapter,
    // where an absent loader would stop before Dawn. Either way the answer is a typed error.
    const dir = mkdtempSync(path.join(tmpdir(), 'hallmark-vk-'));
    writeFileSync(path.join(dir, 'libvulkan.so.1'), 'not a library');
    const saved = process.env.LD_LIBRARY_PATH;
    process.env.LD_LIBRARY_PATH = dir;
    try {
      const err = await selectBackend('webgpu').catch((e: unknown) => e);
      if (!(err instanceof TrainError)) return; // a machine with a GPU: webgpu started
      expect(err.code).toBe('TRAIN_BACKEND_UNAVAILABLE');
      expect(err.message).toMatch(/^the webgpu backend is unavailable: .*use --backend wasm$/);
      expect(err.message).not.toContain('\n');
    } finally {
      if (saved === undefined) delete process.env.LD_LIBRARY_PATH;
      else process.env.LD_LIBRARY_PATH = saved;
    }
    expect(vulkanLoaderPresent({ LD_LIBRARY_PATH: dir })).toBe(true);
  });

  it('tensorflow fails with a typed error saying what to install when it is missing', async () => {
    if (await nativeInstalled()) {
      expect((await selectBackend('tensorflow')).name).toBe('tensorflow');
      return;
    }
    const err = await selectBackend('tensorflow').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TrainError);
    expect((err as TrainError).code).toBe('TRAIN_BACKEND_UNAVAILABLE');
    expect((err as TrainError).message).toContain('npm install @tensorflow/tfjs-node');
    expect((err as TrainError).message).not.toContain('\n');
  });

  it('cpu and wasm can be picked explicitly and compute the same matmul', async () => {
    const results: number[][] = [];
    for (const choice of ['cpu', 'wasm'] as const) {
      const selected = await selectBackend(choice);
      expect(selected.name).toBe(choice);
      expect(tf.getBackend()).toBe(choice);
      results.push(Array.from(tf.tidy(() => tf.matMul(tf.tensor2d([[1, 2], [3, 4]]), tf.tensor2d([[5], [6]])).dataSync())));
    }
    expect(results[0]).toEqual([17, 39]);
    expect(results[1]).toEqual([17, 39]);
  });

  it('rejects an unknown choice as a caller mistake', async () => {
    await expect(selectBackend('gpu' as BackendChoice)).rejects.toThrow(RangeError);
  });
});
