// Fuzz over the parsers added for real exporters' layouts: nested subgraphs with Constant nodes,
// DequantizeLinear, TF.js Graph / quantized / array manifests, sharded safetensors indexes.
// Every mutated file either reads or throws FormatError (never another error, never a hang),
// and no read allocates more than a bounded amount over the file size.
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FormatError } from '../../src/formats/errors.js';
import { readModelTensors } from '../../src/formats/index.js';
import { scanOnnx } from '../../src/formats/onnx.js';
import { nestedIfModel, qdqModel, shardedSafetensors } from '../../fixtures/make-structures.js';

function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { int: (n: number) => Math.floor(next() * n) };
}

function mutate(rng: ReturnType<typeof prng>, b: Uint8Array): Uint8Array {
  const out = Uint8Array.from(b);
  const at = () => rng.int(Math.max(1, out.length));
  switch (rng.int(5)) {
    case 0: for (let i = 0, n = 1 + rng.int(6); i < n; i++) out[at()] ^= 1 << rng.int(8); return out;
    case 1: return out.subarray(0, rng.int(out.length));
    case 2: { const p = at(); const v = out.length + rng.int(1 << 24); out.set([0x2a, (v & 0x7f) | 0x80, (v >> 7) & 0xff | 0x80, (v >> 15) & 0x7f].slice(0, out.length - p), p); return out; }
    case 3: { const s = Buffer.from(out).toString('latin1').replace(/\d+/g, (d) => (rng.int(4) === 0 ? ['-1', '1e300', '18446744073709551615', '"x"'][rng.int(4)]! : d)); return new Uint8Array(Buffer.from(s, 'latin1')); }
    default: { const p = at(); const q = at(); out.copyWithin(p, q, q + rng.int(64)); return out; }
  }
}

function onlyFormatErrors(what: string, e: unknown): void {
  if (!(e instanceof FormatError)) throw new Error(`${what}: ${(e as Error)?.constructor?.name}: ${(e as Error)?.message}`);
}

const heapOk = (before: number, fileBytes: number) => process.memoryUsage().arrayBuffers - before < 64 * 1024 * 1024 + 40 * fileBytes;

describe('fuzz: new parsers return typed errors only, with bounded memory', () => {
  it('ONNX with nested If Constants and DequantizeLinear: 3000 mutations', async () => {
    const rng = prng(0x11);
    const dir = mkdtempSync(join(tmpdir(), 'fz-'));
    const files = [nestedIfModel(), qdqModel()];
    let ok = 0;
    for (let i = 0; i < 3000; i++) {
      const bytes = mutate(rng, files[i % 2]!);
      const before = process.memoryUsage().arrayBuffers;
      try {
        scanOnnx(bytes);
        writeFileSync(join(dir, 'm.onnx'), bytes);
        await readModelTensors(join(dir, 'm.onnx'));
        ok++;
      } catch (e) {
        onlyFormatErrors(`onnx #${i}`, e);
      }
      expect(heapOk(before, bytes.byteLength)).toBe(true);
    }
    expect(ok).toBeGreaterThan(0);
    expect(ok).toBeLessThan(3000);
  });

  it('TF.js graph model.json, uint8 array manifests, sharded safetensors index: 600 mutations each', async () => {
    const rng = prng(0x22);
    const real = join(import.meta.dirname, '../../fixtures/real');
    const dir = mkdtempSync(join(tmpdir(), 'fz-'));
    copyFileSync(join(real, 'human-emotion/emotion.bin'), join(dir, 'emotion.bin'));
    copyFileSync(join(real, 'faceapi-expression/face_expression_model.bin'), join(dir, 'face_expression_model.bin'));
    mkdirSync(join(dir, 'ckpt'));
    const index = shardedSafetensors(join(dir, 'ckpt'));
    const cases: [string, Uint8Array][] = [
      [join(dir, 'emotion.json'), new Uint8Array(readFileSync(join(real, 'human-emotion/emotion.json')))],
      [join(dir, 'x-weights_manifest.json'), new Uint8Array(readFileSync(join(real, 'faceapi-expression/face_expression_model-weights_manifest.json')))],
      [index, new Uint8Array(readFileSync(index))],
      [join(dir, 'ckpt/model-00002-of-00002.safetensors'), new Uint8Array(readFileSync(join(dir, 'ckpt/model-00002-of-00002.safetensors')))],
    ];
    for (const [path, orig] of cases) {
      let ok = 0;
      for (let i = 0; i < 600; i++) {
        writeFileSync(path, mutate(rng, orig));
        try {
          const { tensors } = await readModelTensors(path.endsWith('.safetensors') ? index : path);
          for (const t of tensors) void t.data.byteLength;
          ok++;
        } catch (e) {
          onlyFormatErrors(`${path} #${i}`, e);
        }
      }
      writeFileSync(path, orig);
      expect(ok, path).toBeLessThan(600);
    }
  });
});
