import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { selectBackend, type BackendChoice } from '../../src/train/backend.js';
import { TrainError } from '../../src/train/errors.js';

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
  it('auto takes native TensorFlow when installed, else wasm, and says which ran', async () => {
    const native = await nativeInstalled();
    const selected = await selectBackend('auto');
    expect(selected.name).toBe(native ? 'tensorflow' : 'wasm');
    expect(tf.getBackend()).toBe(native ? 'tensorflow' : 'wasm');
    if (!native) {
      expect(selected.skipped.map((s) => s.name)).toEqual(['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']);
      expect(selected.detail).toMatch(/^wasm \(tfjs-backend-wasm \d+\.\d+\.\d+, (SIMD|no SIMD), /);
    }
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
