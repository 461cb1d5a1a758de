// PNG class folders, with real PNG files encoded by pngjs and real MNIST digits.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FormatError } from '../../src/formats/errors.js';
import { loadMnist } from '../../src/formats/mnist.js';
import { loadPngFolder } from '../../src/formats/png-folder.js';

let dir: string;
const roots: string[] = [];
function freshDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'hallmark-png-'));
  roots.push(d);
  return d;
}
afterAll(() => roots.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** Encodes grayscale values 0..1 as an 8-bit gray PNG (colour type 0). */
function grayPng(values: ArrayLike<number>, w: number, h: number): Buffer {
  const png = new PNG({ width: w, height: h, colorType: 0, inputColorType: 0, inputHasAlpha: false });
  const data = Buffer.alloc(w * h);
  for (let i = 0; i < w * h; i++) data[i] = Math.round(values[i]! * 255);
  png.data = data;
  return PNG.sync.write(png, { colorType: 0, inputColorType: 0, inputHasAlpha: false });
}

function rgbaPng(w: number, h: number, px: (i: number) => [number, number, number, number]): Buffer {
  const png = new PNG({ width: w, height: h });
  for (let i = 0; i < w * h; i++) png.data.set(px(i), 4 * i);
  return PNG.sync.write(png);
}

function put(root: string, rel: string, bytes: Uint8Array | string): void {
  const p = join(root, rel);
  mkdirSync(join(p, '..'), { recursive: true });
  writeFileSync(p, bytes);
}

const codeOf = async (p: Promise<unknown>) => p.then(() => 'ok', (e: unknown) => (e instanceof FormatError ? e.code : `not a FormatError: ${String(e)}`));

describe('loadPngFolder', () => {
  beforeAll(async () => {
    dir = freshDir();
    const { test } = await loadMnist({ seed: 0 });
    // 30 real digits as 28x28 gray PNGs, foldered by their label.
    for (let k = 0; k < 30; k++) put(dir, `${test.labels[k]}/img-${String(k).padStart(3, '0')}.png`, grayPng(test.images.subarray(k * 784, (k + 1) * 784), 28, 28));
    put(dir, 'README.txt', 'top-level files are not classes');
    put(dir, `${test.labels[0]}/.DS_Store`, 'x');
  });

  it('decodes real MNIST digits back to their pixels (to 8-bit precision) with folder labels', async () => {
    const ds = await loadPngFolder(dir);
    const { test } = await loadMnist({ seed: 0 });
    expect(ds.shape).toEqual([30, 28, 28, 1]);
    expect(ds.classes).toEqual([...new Set(Array.from(test.labels.subarray(0, 30), String))].sort());
    for (let n = 0; n < ds.count; n++) {
      const k = Number(/img-(\d+)/.exec(ds.files[n]!)![1]);
      expect(ds.classes[ds.labels[n]!]).toBe(String(test.labels[k]));
      let worst = 0;
      for (let i = 0; i < 784; i++) worst = Math.max(worst, Math.abs(ds.images[n * 784 + i]! - test.images[k * 784 + i]!));
      expect(worst).toBeLessThanOrEqual(0.5 / 255 + 1e-6);
    }
    // Sample order: by class, then by file name.
    for (let n = 1; n < ds.count; n++) expect(ds.labels[n - 1]! < ds.labels[n]! || (ds.labels[n - 1] === ds.labels[n] && ds.files[n - 1]! < ds.files[n]!)).toBe(true);
  });

  it('converts RGBA to BT.601 luma over black, or keeps RGB', async () => {
    const d = freshDir();
    const px = (i: number): [number, number, number, number] => [(i * 37) % 256, (i * 91) % 256, (i * 13) % 256, i % 2 ? 255 : 128];
    put(d, 'a/x.png', rgbaPng(4, 3, px));
    const gray = await loadPngFolder(d);
    const rgb = await loadPngFolder(d, { channels: 3 });
    expect(gray.shape).toEqual([1, 3, 4, 1]);
    expect(rgb.shape).toEqual([1, 3, 4, 3]);
    for (let i = 0; i < 12; i++) {
      const [r, g, b, a] = px(i).map((v) => v / 255) as [number, number, number, number];
      expect(gray.images[i]).toBeCloseTo((0.299 * r + 0.587 * g + 0.114 * b) * a, 6);
      expect(rgb.images[3 * i + 1]).toBeCloseTo(g * a, 6);
    }
  });

  it('names the file whose size differs', async () => {
    const d = freshDir();
    put(d, 'a/1.png', grayPng(new Float32Array(16), 4, 4));
    put(d, 'b/2.png', grayPng(new Float32Array(20), 5, 4));
    await expect(loadPngFolder(d)).rejects.toThrow(expect.objectContaining({ code: 'FORMAT_SHAPE_MISMATCH', message: expect.stringContaining('b/2.png is 5x4, but a/1.png is 4x4') }));
  });

  it('refuses absurd dimensions from the header without decoding', async () => {
    const d = freshDir();
    const bytes = grayPng(new Float32Array(16), 4, 4);
    const dv = new DataView(bytes.buffer, bytes.byteOffset);
    dv.setUint32(16, 100_000);
    dv.setUint32(20, 100_000);
    put(d, 'a/huge.png', bytes);
    await expect(loadPngFolder(d)).rejects.toThrow(expect.objectContaining({ code: 'FORMAT_TOO_LARGE', message: expect.stringContaining('a/huge.png is 100000x100000') }));
    const ok = freshDir();
    for (let i = 0; i < 3; i++) put(ok, `c/${i}.png`, grayPng(new Float32Array(64 * 64), 64, 64));
    expect(await codeOf(loadPngFolder(ok, { maxValues: 3 * 64 * 64 - 1 }))).toBe('FORMAT_TOO_LARGE');
  });

  it('gives typed errors for corrupt, truncated and non-PNG files and bad folders', async () => {
    const good = grayPng(new Float32Array(64).map((_, i) => i / 64), 8, 8);
    const cases: [string, Uint8Array | string][] = [
      ['flipped', (() => { const b = Buffer.from(good); b[b.length - 20]! ^= 0xff; return b; })()],
      ['truncated', good.subarray(0, good.length - 30)],
      ['json', '{"not":"a png"}'],
      ['empty', new Uint8Array(0)],
    ];
    for (const [what, bytes] of cases) {
      const d = freshDir();
      put(d, `k/${what}.png`, bytes);
      const err = await loadPngFolder(d).then(() => undefined, (e: unknown) => e);
      expect(err, what).toBeInstanceOf(FormatError);
      expect((err as FormatError).code, what).toBe('FORMAT_CORRUPT');
      expect((err as Error).message).toContain(`k/${what}.png`);
    }
    const other = freshDir();
    put(other, 'k/notes.txt', 'hi');
    expect(await codeOf(loadPngFolder(other))).toBe('FORMAT_UNSUPPORTED');
    expect(await codeOf(loadPngFolder(freshDir()))).toBe('FORMAT_NOT_FOUND');
    expect(await codeOf(loadPngFolder(join(freshDir(), 'missing')))).toBe('FORMAT_NOT_FOUND');
  });

  it('turns every mutation of a real PNG into a FormatError or a clean decode', async () => {
    const good = readFileSync(join(dir, (await loadPngFolder(dir)).files[0]!));
    let seed = 12345;
    const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) >>> 0) % n);
    const d = freshDir();
    for (let i = 0; i < 300; i++) {
      const b = Buffer.from(good);
      for (let m = 0; m <= rand(4); m++) b[rand(b.length)] = rand(256);
      put(d, 'k/m.png', rand(5) === 0 ? b.subarray(0, rand(b.length)) : b);
      const r = await codeOf(loadPngFolder(d));
      expect(r === 'ok' || r.startsWith('FORMAT_'), r).toBe(true);
    }
  });
});
