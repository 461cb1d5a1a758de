// Image class folders for real models: real JPEG photos from an npm package (face-api's demo
// samples, fixtures/real/faceapi-samples), decoded by jpeg-js, resized and normalised; checked
// against TF.js's own resizeBilinear (a second implementation) and the normalisation formula.
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { imageInputOf, loadDatasetSource } from '../../src/embed/dataset-source.js';
import { FormatError } from '../../src/formats/errors.js';
import { loadImageFolder, parsePreprocess, readJpegSize, resizeBilinear } from '../../src/images/index.js';

const SAMPLES = join(import.meta.dirname, '../../fixtures/real/faceapi-samples');
const roots: string[] = [];
function freshDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'hallmark-img-'));
  roots.push(d);
  return d;
}
afterAll(() => roots.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** a: samples 1 and 3, b: samples 4 and 6. */
let photos: string;
beforeAll(() => {
  photos = freshDir();
  for (const i of [1, 3, 4, 6]) {
    const cls = i <= 3 ? 'a' : 'b';
    mkdirSync(join(photos, cls), { recursive: true });
    copyFileSync(join(SAMPLES, `sample${i}.jpg`), join(photos, cls, `sample${i}.jpg`));
  }
});

/** The reference: jpeg-js pixels -> tf.image.resizeBilinear(halfPixelCenters) -> range, mean, std. */
function reference(file: string, h: number, w: number, lo: number, hi: number, mean: number[], std: number[]): Float32Array {
  const img = jpeg.decode(readFileSync(file), { useTArray: true, formatAsRGBA: true, maxMemoryUsageInMB: 1024 });
  return tf.tidy(() => {
    const rgba = tf.tensor3d(Float32Array.from(img.data), [img.height, img.width, 4]);
    const rgb = tf.slice(rgba, [0, 0, 0], [img.height, img.width, 3]);
    const r = tf.image.resizeBilinear(rgb, [h, w], false, true);
    const v = tf.div(tf.sub(tf.add(tf.mul(r, (hi - lo) / 255), lo), tf.tensor1d(mean)), tf.tensor1d(std));
    return v.dataSync() as Float32Array;
  });
}

describe('JPEG and PNG class folders', () => {
  it('reads the JPEG frame size from the header as jpeg-js decodes it', () => {
    for (const i of [1, 6]) {
      const bytes = readFileSync(join(SAMPLES, `sample${i}.jpg`));
      const img = jpeg.decode(bytes, { useTArray: true, maxMemoryUsageInMB: 1024 });
      expect(readJpegSize(bytes, 'x')).toEqual({ width: img.width, height: img.height });
    }
  });

  it('resizes bilinearly as tf.image.resizeBilinear(halfPixelCenters) does, down and up', () => {
    const src = Float32Array.from({ length: 37 * 53 * 3 }, (_, i) => Math.sin(i * 0.37) * 100);
    for (const [oh, ow] of [[12, 17], [64, 80], [37, 10]] as const) {
      const ours = resizeBilinear(src, 37, 53, 3, oh, ow);
      const theirs = tf.tidy(() => tf.image.resizeBilinear(tf.tensor3d(src, [37, 53, 3]), [oh, ow], false, true).dataSync() as Float32Array);
      let max = 0;
      for (let i = 0; i < ours.length; i++) max = Math.max(max, Math.abs(ours[i]! - theirs[i]!));
      expect(max).toBeLessThan(1e-3);
    }
  });

  it('loads real RGB photos at the model size with ImageNet mean/std, matching the reference pipeline', async () => {
    const mean = [0.485, 0.456, 0.406];
    const std = [0.229, 0.224, 0.225];
    const d = await loadImageFolder(photos, { preprocess: { size: [48, 64], channels: 3, mean, std } });
    expect(d.classes).toEqual(['a', 'b']);
    expect(d.shape).toEqual([4, 48, 64, 3]);
    expect([...d.labels]).toEqual([0, 0, 1, 1]);
    const size = 48 * 64 * 3;
    for (const k of [3]) {
      const ref = reference(join(photos, d.files[k]!), 48, 64, 0, 1, mean, std);
      let max = 0;
      for (let i = 0; i < size; i++) max = Math.max(max, Math.abs(d.images[k * size + i]! - ref[i]!));
      expect(max).toBeLessThan(1e-3);
    }
    // Real photos: normalised values spread around 0, not a constant.
    const s = d.images.subarray(0, size);
    const m = s.reduce((a, b) => a + b, 0) / size;
    expect(Math.abs(m)).toBeLessThan(2);
    expect(Math.max(...s) - Math.min(...s)).toBeGreaterThan(3);
  });

  it('takes the size and channels from the model input, preprocess.json from the folder, and flags over the file', async () => {
    const dir = freshDir();
    for (const cls of ['a', 'b']) mkdirSync(join(dir, cls));
    copyFileSync(join(SAMPLES, 'sample1.jpg'), join(dir, 'a', 'one.jpg'));
    const png = new PNG({ width: 5, height: 4 });
    png.data.fill(255);
    writeFileSync(join(dir, 'b', 'white.png'), PNG.sync.write(png));
    writeFileSync(join(dir, 'preprocess.json'), JSON.stringify({ range: [-1, 1] }));
    const src = await loadDatasetSource(dir, { input: [16, 16, 3] });
    expect(src.train.shape).toEqual([2, 16, 16, 3]);
    expect(src.preprocess).toMatchObject({ size: [16, 16], channels: 3, range: [-1, 1] });
    expect(src.testNote).toContain('range -1..1');
    const white = src.train.images.subarray(16 * 16 * 3);
    expect(white.every((v) => Math.abs(v - 1) < 1e-6)).toBe(true);
    const ref = reference(join(dir, 'a', 'one.jpg'), 16, 16, -1, 1, [0, 0, 0], [1, 1, 1]);
    expect(Math.max(...src.train.images.subarray(0, 768).map((v, i) => Math.abs(v - ref[i]!)))).toBeLessThan(1e-3);
    // A flag wins over the file; grayscale is BT.601 luma.
    const gray = await loadDatasetSource(dir, { input: [8, 8, 1], preprocess: { range: [0, 255] } });
    expect(gray.train.shape).toEqual([2, 8, 8, 1]);
    expect(Math.abs(gray.train.images[64]! - 255)).toBeLessThan(1e-3);
    // preprocess.json is part of the dataset: it changes the manifest root the ledger records.
    writeFileSync(join(dir, 'preprocess.json'), JSON.stringify({ range: [0, 1] }));
    expect((await loadDatasetSource(dir, { input: [16, 16, 3] })).descriptor.digest.sha256).not.toBe(src.descriptor.digest.sha256);
  });

  it('tells the layout of a model input', () => {
    expect(imageInputOf([null, 3, 224, 224])).toEqual([224, 224, 3]);
    expect(imageInputOf([1, 224, 224, 3])).toEqual([224, 224, 3]);
    expect(imageInputOf([null, 3, 3, 3], 'nchw')).toEqual([3, 3, 3]);
    expect(imageInputOf([null, 64, 64, 1])).toEqual([64, 64, 1]);
    expect(imageInputOf([null, 100])).toBeUndefined();
  });

  it('refuses bad files and bad declarations with typed one-line errors', async () => {
    const code = async (p: Promise<unknown>) => p.then(() => 'ok', (e: unknown) => (e instanceof FormatError ? e.code : String(e)));
    const mk = (files: Record<string, Uint8Array | string>) => {
      const dir = freshDir();
      for (const [rel, b] of Object.entries(files)) {
        mkdirSync(join(dir, rel, '..'), { recursive: true });
        writeFileSync(join(dir, rel), b);
      }
      return dir;
    };
    const real = readFileSync(join(SAMPLES, 'sample2.jpg'));
    expect(await code(loadImageFolder(mk({ 'a/x.txt': 'hi' })))).toBe('FORMAT_UNSUPPORTED');
    expect(await code(loadImageFolder(mk({ 'a/x.jpg': real.subarray(0, 2000) }), { defaultSize: [8, 8] }))).toBe('FORMAT_CORRUPT');
    expect(await code(loadImageFolder(mk({ 'a/x.jpg': 'not a jpeg' })))).toBe('FORMAT_CORRUPT');
    // A header that claims 60000x60000 is refused before any pixel is decoded.
    const huge = Uint8Array.from(real);
    const sof = huge.findIndex((b, i) => b === 0xff && huge[i + 1]! >= 0xc0 && huge[i + 1]! <= 0xc2);
    huge.set([0xea, 0x60, 0xea, 0x60], sof + 5);
    expect(await code(loadImageFolder(mk({ 'a/x.jpg': huge }), { defaultSize: [8, 8] }))).toBe('FORMAT_TOO_LARGE');
    // Different sizes need a size to resize to.
    const png = new PNG({ width: 3, height: 3 });
    expect(await code(loadImageFolder(mk({ 'a/x.jpg': real, 'b/y.png': PNG.sync.write(png) })))).toBe('FORMAT_SHAPE_MISMATCH');
    expect(await code(loadImageFolder(mk({ 'a/x.jpg': real, 'preprocess.json': '{"mean":[1,2],"colour":1}' })))).toBe('FORMAT_CORRUPT');
    expect(await code(loadImageFolder(mk({ 'a/x.jpg': real, 'preprocess.json': '{"std":[0]}' })))).toBe('FORMAT_CORRUPT');
    expect(await code(loadImageFolder(mk({ 'a/x.jpg': real }), { preprocess: { mean: [1, 2], channels: 3 }, defaultSize: [4, 4] }))).toBe('FORMAT_CORRUPT');
    expect(() => parsePreprocess({ size: '0x5' })).toThrow(/size/);
    expect(parsePreprocess({ size: '224x200', range: '-1,1', mean: '0.5', std: '0.5,0.5,0.5', layout: 'NCHW', channels: '3' }))
      .toEqual({ size: [224, 200], range: [-1, 1], mean: [0.5], std: [0.5, 0.5, 0.5], layout: 'nchw', channels: 3 });
  });
});
