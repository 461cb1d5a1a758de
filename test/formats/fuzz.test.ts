// Mutates real model files thousands of times with a seeded PRNG and checks that every read
// either succeeds or throws FormatError: never another error type, never a hang.
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { FormatError } from '../../src/formats/errors.js';
import { decodeOnnxModel, initializerBytes, readOnnxTensors, scanOnnx } from '../../src/formats/onnx.js';
import { encodeSafetensors, parseSafetensors } from '../../src/formats/safetensors.js';
import { tensorFromFloat32 } from '../../src/formats/tensor.js';
import { saveLayersModel } from '../../src/formats/tfjs-io.js';
import { readTfjsModel } from '../../src/formats/tfjs-layers.js';
import { gemmReluModel, matmulAddReshapeModel } from './onnx-fixtures.js';

function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  return { next, int, pick: <T>(xs: readonly T[]) => xs[int(xs.length)]! };
}
type Rng = ReturnType<typeof prng>;

const HUGE = ['1099511627776', '18446744073709551615', '9007199254740993', '-1', '1e300', '4294967296'];

/** One random mutation of `b`; `others` supplies bytes for splices. Returns the description too. */
function mutate(rng: Rng, b: Uint8Array, others: Uint8Array[]): [string, Uint8Array] {
  const out = Uint8Array.from(b);
  const at = () => rng.int(Math.max(1, out.length));
  switch (rng.int(9)) {
    case 0: {
      const n = 1 + rng.int(8);
      for (let i = 0; i < n; i++) out[at()] ^= 1 << rng.int(8);
      return [`flip ${n} bits`, out];
    }
    case 1: {
      const n = rng.int(out.length);
      return [`truncate to ${n}`, out.subarray(0, n)];
    }
    case 2: {
      // A length field (8-byte LE at 0 for safetensors; a varint for protobuf) pointing past the end.
      const v = out.length + 1 + rng.int(1 << 20);
      const dv = new DataView(out.buffer);
      if (rng.int(2) === 0 && out.length >= 8) dv.setBigUint64(0, BigInt(v), true);
      else {
        const p = at();
        const varint = [0x3a, (v & 0x7f) | 0x80, (v >> 7) & 0x7f];
        out.set(varint.slice(0, Math.max(0, out.length - p)), p);
      }
      return [`length ${v} past the end`, out];
    }
    case 3: {
      // Huge numbers in place of numbers in any JSON text the file holds.
      const s = Buffer.from(out).toString('latin1');
      const digits = [...s.matchAll(/\d+/g)];
      if (digits.length === 0) return ['no digits', out];
      const m = rng.pick(digits);
      const huge = rng.pick(HUGE);
      return [`number ${m[0]} -> ${huge}`, new Uint8Array(Buffer.from(s.slice(0, m.index) + huge + s.slice(m.index! + m[0].length), 'latin1'))];
    }
    case 4: {
      // A varint of terabytes at a random place.
      const p = at();
      const big = [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x20];
      return [`terabyte varint at ${p}`, new Uint8Array(Buffer.concat([out.subarray(0, p), Uint8Array.from([rng.int(2) ? 0x0a : 0x2a, ...big]), out.subarray(p)]))];
    }
    case 5:
      return ['JSON instead', new TextEncoder().encode(rng.pick(['{"graph":{"initializer":[]}}', '{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}', '[]', 'null', '{']))];
    case 6: {
      const src = rng.pick(others);
      const a = rng.int(src.length + 1);
      const len = rng.int(Math.min(256, src.length - a + 1));
      const p = at();
      return [`splice ${len} bytes at ${p}`, new Uint8Array(Buffer.concat([out.subarray(0, p), src.subarray(a, a + len), out.subarray(p + rng.int(64))]))];
    }
    case 7: {
      const p = at();
      const n = 1 + rng.int(32);
      return [`delete ${n} at ${p}`, new Uint8Array(Buffer.concat([out.subarray(0, p), out.subarray(p + n)]))];
    }
    default: {
      const p = at();
      const junk = Uint8Array.from({ length: 1 + rng.int(16) }, () => rng.int(256));
      return [`insert ${junk.length} at ${p}`, new Uint8Array(Buffer.concat([out.subarray(0, p), junk, out.subarray(p)]))];
    }
  }
}

function expectOnlyFormatErrors(what: string, err: unknown): void {
  if (!(err instanceof FormatError)) {
    throw new Error(`${what}: threw ${(err as Error)?.constructor?.name}: ${(err as Error)?.message}`, { cause: err });
  }
  expect(err.message.length).toBeGreaterThan(0);
  expect(err.message).not.toContain('\n');
}

let safetensorsFile: Uint8Array;
let onnxFiles: Uint8Array[];
let tfjsDir: string;

beforeAll(async () => {
  safetensorsFile = encodeSafetensors(
    [
      tensorFromFloat32('a', 'F32', [3, 2], Float32Array.from([1, 2, 3, 4, 5, 6])),
      tensorFromFloat32('b', 'F16', [4], Float32Array.from([1, -1, 0.5, 2])),
      tensorFromFloat32('c', 'BF16', [2, 1], Float32Array.from([3, 4])),
      { name: 'd', dtype: 'I64', shape: [2], data: BigInt64Array.from([1n, -2n]) },
      { name: 'e', dtype: 'U8', shape: [], data: Uint8Array.from([7]) },
    ],
    { format: 'pt' },
  );
  onnxFiles = [gemmReluModel(), matmulAddReshapeModel(), gemmReluModel({ w: 'typed', b: 'raw' })];
  await tf.setBackend('cpu');
  const m = tf.sequential();
  m.add(tf.layers.dense({ inputShape: [4], units: 3, name: 'd1' }));
  m.add(tf.layers.dense({ units: 2, name: 'd2', activation: 'softmax' }));
  tfjsDir = mkdtempSync(join(tmpdir(), 'fuzz-tfjs-'));
  await saveLayersModel(m, tfjsDir, 32);
});

describe('fuzz: mutated model files give FormatError or a result, nothing else', () => {
  it('safetensors, 4000 mutations', () => {
    const rng = prng(0x5afe);
    let ok = 0;
    for (let i = 0; i < 4000; i++) {
      const [how, bytes] = mutate(rng, safetensorsFile, [safetensorsFile, ...onnxFiles]);
      try {
        parseSafetensors(bytes);
        ok++;
      } catch (e) {
        expectOnlyFormatErrors(`safetensors #${i} (${how})`, e);
      }
    }
    expect(ok).toBeGreaterThan(0); // some mutations (flips in data) still parse
    expect(ok).toBeLessThan(4000);
  });

  it('ONNX, 4000 mutations in memory (scan, decode, every initializer)', async () => {
    const rng = prng(0x0a11);
    let ok = 0;
    for (let i = 0; i < 4000; i++) {
      const [how, bytes] = mutate(rng, rng.pick(onnxFiles), [safetensorsFile, ...onnxFiles]);
      try {
        const scan = scanOnnx(bytes);
        for (const init of scan.initializers) if (init.storage !== 'external') await initializerBytes(init, '/nonexistent');
        decodeOnnxModel(bytes);
        ok++;
      } catch (e) {
        expectOnlyFormatErrors(`onnx #${i} (${how})`, e);
      }
    }
    expect(ok).toBeGreaterThan(0);
    expect(ok).toBeLessThan(4000);
  });

  it('ONNX with external data and TF.js model.json + shards, 1000 mutations on disk', async () => {
    const rng = prng(0x7f15);
    const dir = mkdtempSync(join(tmpdir(), 'fuzz-disk-'));
    writeFileSync(join(dir, 'w.bin'), Buffer.alloc(48, 0x3f));
    const extModel = gemmReluModel({ w: 'external', location: 'w.bin' });
    const json = readFileSync(join(tfjsDir, 'model.json'));
    const shards = readdirSync(tfjsDir).filter((f) => f.endsWith('.bin'));
    const t = join(dir, 'tfjs');
    mkdirSync(t);
    const shardBytes = new Map(shards.map((s) => [s, readFileSync(join(tfjsDir, s))]));
    for (const [s, b] of shardBytes) writeFileSync(join(t, s), b);
    writeFileSync(join(t, 'model.json'), json);
    for (let i = 0; i < 1000; i++) {
      if (i % 2 === 0) {
        const [how, bytes] = mutate(rng, extModel, onnxFiles);
        writeFileSync(join(dir, 'm.onnx'), bytes);
        await readOnnxTensors(join(dir, 'm.onnx')).catch((e) => expectOnlyFormatErrors(`onnx-ext #${i} (${how})`, e));
        continue;
      }
      let how: string;
      let bytes: Uint8Array;
      const shard = rng.int(4) === 0 ? rng.pick(shards) : undefined;
      if (shard) {
        // Mutate a shard instead: its size is what the reader checks.
        [how, bytes] = mutate(rng, shardBytes.get(shard)!, [json]);
        writeFileSync(join(t, shard), bytes);
      } else {
        [how, bytes] = mutate(rng, json, [json, safetensorsFile]);
        writeFileSync(join(t, 'model.json'), bytes);
      }
      await readTfjsModel(t).catch((e) => expectOnlyFormatErrors(`tfjs #${i} (${how})`, e));
      if (shard) writeFileSync(join(t, shard), shardBytes.get(shard)!);
      else writeFileSync(join(t, 'model.json'), json);
    }
  });
});
