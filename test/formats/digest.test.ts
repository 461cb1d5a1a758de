import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { digestFile, digestModel } from '../../src/formats/digest.js';
import { digestFileSharded } from '../../src/formats/digest-sharded.js';
import { gemmReluModel } from './onnx-fixtures.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'digest-'));
const sha = (b: Uint8Array | string) => createHash('sha256').update(b).digest('hex');
const MiB = 1024 * 1024;

describe('digestFile', () => {
  it('equals sha256sum (coreutils) for sizes around the 4 MiB buffer boundary', async () => {
    const dir = tmp();
    for (const n of [0, 1, 4 * MiB - 1, 4 * MiB, 4 * MiB + 1, 9 * MiB + 3]) {
      const f = join(dir, `f${n}`);
      writeFileSync(f, randomBytes(n));
      const ref = execFileSync('sha256sum', [f], { encoding: 'utf8' }).split(' ')[0];
      expect(await digestFile(f)).toEqual({ sha256: ref, size: n });
    }
  });
  it('a missing file is FORMAT_NOT_FOUND', async () => {
    await expect(digestFile(join(tmp(), 'nope'))).rejects.toMatchObject({ code: 'FORMAT_NOT_FOUND' });
  });
});

describe('digestModel', () => {
  // Reference: JSON.stringify of {path, sha256} objects, sorted by path, is RFC 8785 for ASCII names.
  const reference = (files: Record<string, string>) =>
    sha(JSON.stringify(Object.keys(files).sort().map((p) => ({ path: p, sha256: sha(files[p]!) }))));

  function folder(files: Record<string, string>): string {
    const dir = tmp();
    for (const [p, c] of Object.entries(files)) {
      mkdirSync(join(dir, p, '..'), { recursive: true });
      writeFileSync(join(dir, p), c);
    }
    return dir;
  }

  it('is SHA-256 over the canonical JSON of sorted {path, sha256}', async () => {
    const files = { 'b.bin': 'bbb', 'a/x.json': '{}', 'a/y.bin': 'yy' };
    const d = await digestModel(folder(files));
    expect(d.sha256).toBe(reference(files));
    expect(d.files.map((f) => [f.path, f.size])).toEqual([['a/x.json', 2], ['a/y.bin', 2], ['b.bin', 3]]);
  });

  it('a model that is one file has the file\'s plain SHA-256 (what sha256sum and in-toto tools compute)', async () => {
    const dir = tmp();
    const bytes = gemmReluModel();
    writeFileSync(join(dir, 'm.onnx'), bytes);
    const d = await digestModel(join(dir, 'm.onnx'));
    expect(d.sha256).toBe(sha(bytes));
    expect(execFileSync('sha256sum', [join(dir, 'm.onnx')], { encoding: 'utf8' }).split(' ')[0]).toBe(d.sha256);
  });

  it('a renamed, swapped, dropped or added file changes the digest', async () => {
    const base = { 'w1.bin': 'one', 'w2.bin': 'two', 'model.json': '{}' };
    const d0 = (await digestModel(folder(base))).sha256;
    const variants = [
      { 'w1.bin': 'one', 'w3.bin': 'two', 'model.json': '{}' },
      { 'w1.bin': 'two', 'w2.bin': 'one', 'model.json': '{}' },
      { 'w1.bin': 'one', 'model.json': '{}' },
      { ...base, 'extra.txt': '' },
    ];
    const ds = await Promise.all(variants.map(async (v) => (await digestModel(folder(v))).sha256));
    expect(new Set([d0, ...ds]).size).toBe(5);
  });

  it('for model.json, includes its shards; for .onnx, its external data', async () => {
    const dir = folder({ 'model.json': JSON.stringify({ modelTopology: {}, weightsManifest: [{ paths: ['s1.bin', 'sub/s2.bin'], weights: [] }] }), 's1.bin': 'a', 'sub/s2.bin': 'b', 'unrelated.txt': 'x' });
    const d = await digestModel(join(dir, 'model.json'));
    expect(d.files.map((f) => f.path)).toEqual(['model.json', 's1.bin', 'sub/s2.bin']);
    rmSync(join(dir, 'sub/s2.bin'));
    await expect(digestModel(join(dir, 'model.json'))).rejects.toMatchObject({ code: 'FORMAT_NOT_FOUND' });

    const od = tmp();
    writeFileSync(join(od, 'w.bin'), Buffer.alloc(48, 1));
    writeFileSync(join(od, 'm.onnx'), gemmReluModel({ w: 'external', location: 'w.bin' }));
    expect((await digestModel(join(od, 'm.onnx'))).files.map((f) => f.path)).toEqual(['m.onnx', 'w.bin']);
  });

  it('refuses symbolic links inside a model folder', async () => {
    const dir = folder({ 'a.bin': 'a' });
    symlinkSync('/etc/hostname', join(dir, 'link'));
    await expect(digestModel(dir)).rejects.toMatchObject({ code: 'FORMAT_UNSAFE_PATH' });
  });
});

describe('digestFileSharded (sha256-sharded-v1)', () => {
  it('equals a naive computation of the documented scheme, for 1 and 2 workers', async () => {
    const dir = tmp();
    const data = randomBytes(5 * MiB + 12345);
    const f = join(dir, 'big');
    writeFileSync(f, data);
    const shardBytes = MiB;
    const shards: string[] = [];
    for (let i = 0; i < data.length; i += shardBytes) shards.push(sha(data.subarray(i, i + shardBytes)));
    const want = sha(JSON.stringify({ algorithm: 'sha256-sharded-v1', shardBytes, shards, size: data.length }));
    const two = await digestFileSharded(f, { shardBytes, workers: 2 });
    expect(two.shards).toEqual(shards);
    expect(two.sha256).toBe(want);
    expect((await digestFileSharded(f, { shardBytes, workers: 1 })).sha256).toBe(want);
    expect(two.sha256).not.toBe(sha(data)); // a different digest from plain SHA-256, by design
    const e = join(dir, 'empty');
    writeFileSync(e, '');
    expect((await digestFileSharded(e)).shards).toEqual([]);
  });
  it('a flipped bit changes only its shard hash, and the digest', async () => {
    const dir = tmp();
    const data = randomBytes(3 * MiB);
    writeFileSync(join(dir, 'a'), data);
    const d1 = await digestFileSharded(join(dir, 'a'), { shardBytes: MiB });
    data[2 * MiB + 5] ^= 1;
    writeFileSync(join(dir, 'a'), data);
    const d2 = await digestFileSharded(join(dir, 'a'), { shardBytes: MiB });
    expect(d2.shards.slice(0, 2)).toEqual(d1.shards.slice(0, 2));
    expect(d2.shards[2]).not.toBe(d1.shards[2]);
    expect(d2.sha256).not.toBe(d1.sha256);
  });
});
