import { existsSync, readdirSync, statSync } from 'node:fs';
import { onnx } from '../../src/formats/onnx-tensor.js';
import { join, relative } from 'node:path';

/** What the server stored: the upload folder (only temporary files now) and the blob store's blobs and names. */
export function storedFiles(home: string): string[] {
  return [...listFiles(join(home, 'uploads')), ...listFiles(join(home, 'blobs', 'objects')), ...listFiles(join(home, 'blobs', 'refs'))];
}

/** Every regular file under a folder, as sorted relative paths ([] when the folder is absent). */
export function listFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out.push(relative(dir, p));
    }
  };
  walk(dir);
  return out.sort();
}

/**
 * A small real ONNX model (Y = X·W, W[rows, 4] random), distinct per call: uploads that claim
 * ONNX must parse as ONNX, so tests that need many different uploads build them here.
 */
export function onnxModelBytes(rows = 4): Uint8Array {
  const w = Float32Array.from({ length: rows * 4 }, () => Math.random() * 2 - 1);
  return onnx.ModelProto.encode(onnx.ModelProto.create({
    irVersion: 8,
    opsetImport: [{ domain: '', version: 13 }],
    producerName: 'hallmark-test',
    graph: {
      name: 'matmul',
      node: [{ opType: 'MatMul', input: ['X', 'W'], output: ['Y'], name: 'mm' }],
      initializer: [{ name: 'W', dims: [rows, 4], dataType: 1, rawData: new Uint8Array(w.buffer) }],
      input: [{ name: 'X', type: { tensorType: { elemType: 1, shape: { dim: [{ dimValue: 1 }, { dimValue: rows }] } } } }],
      output: [{ name: 'Y', type: { tensorType: { elemType: 1, shape: { dim: [{ dimValue: 1 }, { dimValue: 4 }] } } } }],
    },
  })).finish();
}
