/**
 * A user's own labelled images: a folder with one subfolder per class, each holding PNG files.
 *
 *   digits/0/a.png  digits/0/b.png  digits/1/c.png ...
 *
 * Classes are the subfolder names in code-unit order, labelled 0, 1, 2, ...; files inside a class
 * are in code-unit order too, so the same folder always gives the same tensors. Dotfiles are
 * skipped; any other non-PNG file, a symlink or a nested folder is an error rather than a silent
 * omission. Pixels become float32 in 0..1, [N, H, W, C] (NHWC, as TF.js expects):
 *  - channels 1 (default): luma = 0.299 R + 0.587 G + 0.114 B (ITU-R BT.601), after compositing
 *    any alpha over black, which is how MNIST-style white-on-black digits are drawn;
 *  - channels 3: R, G, B, alpha composited over black.
 * All images must share one size. Each file's IHDR is read and bounded before pngjs decodes it, so
 * a 100000x100000 header costs nothing.
 */
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { FormatError } from './errors.js';
import { readWholeFile } from './read-file.js';

export interface PngFolderOptions {
  readonly channels?: 1 | 3;
  /** Largest width or height accepted (default 4096). */
  readonly maxSide?: number;
  /** Largest number of images (default 100,000). */
  readonly maxImages?: number;
  /** Largest total of N*H*W*C float values (default 2^28, i.e. 1 GiB of float32). */
  readonly maxValues?: number;
  /** Largest PNG file in bytes (default 64 MiB). */
  readonly maxFileBytes?: number;
}

export interface PngFolderDataset {
  readonly classes: readonly string[];
  /** Row-major NHWC pixels in 0..1. */
  readonly images: Float32Array;
  readonly labels: Uint16Array;
  readonly count: number;
  readonly shape: readonly [number, number, number, number];
  /** Paths relative to the folder, "class/file.png", in sample order. */
  readonly files: readonly string[];
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const MAX_CLASSES = 65_535;

/** Width and height from a PNG's IHDR, which must be the first chunk. */
export function readPngSize(bytes: Uint8Array, file: string): { width: number; height: number } {
  if (bytes.length < 24 || PNG_SIGNATURE.some((b, i) => bytes[i] !== b)) throw new FormatError('FORMAT_CORRUPT', `${file} is not a PNG file (bad signature)`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (dv.getUint32(8) !== 13 || String.fromCharCode(...bytes.subarray(12, 16)) !== 'IHDR') throw new FormatError('FORMAT_CORRUPT', `${file}: the first PNG chunk is not a 13-byte IHDR`);
  return { width: dv.getUint32(16), height: dv.getUint32(20) };
}

async function listDir(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).filter((n) => !n.startsWith('.')).sort();
  } catch (err) {
    throw new FormatError('FORMAT_NOT_FOUND', `cannot read folder ${dir}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`, { cause: err });
  }
}

/** Lists "class/file.png" entries with their labels, refusing anything that is not a plain PNG file. */
export async function listPngFolder(dir: string, maxImages = 100_000): Promise<{ classes: string[]; files: string[]; labels: number[] }> {
  const classes: string[] = [];
  for (const name of await listDir(dir)) {
    const st = await lstat(join(dir, name));
    if (st.isDirectory()) classes.push(name);
    else if (st.isSymbolicLink()) throw new FormatError('FORMAT_UNSAFE_PATH', `${join(dir, name)} is a symlink; class folders must be real folders`);
  }
  if (classes.length === 0) throw new FormatError('FORMAT_NOT_FOUND', `${dir} has no class subfolders; expect one folder per class holding PNG files`);
  if (classes.length > MAX_CLASSES) throw new FormatError('FORMAT_TOO_LARGE', `${dir} has ${classes.length} class folders, over ${MAX_CLASSES}`);
  const files: string[] = [];
  const labels: number[] = [];
  for (const [label, cls] of classes.entries()) {
    for (const name of await listDir(join(dir, cls))) {
      const rel = `${cls}/${name}`;
      const st = await lstat(join(dir, cls, name));
      if (!st.isFile()) throw new FormatError('FORMAT_UNSUPPORTED', `${rel} is not a plain file; class folders hold only PNG files`);
      if (!/\.png$/i.test(name)) throw new FormatError('FORMAT_UNSUPPORTED', `${rel} is not a .png file; class folders hold only PNG files`);
      if (files.length >= maxImages) throw new FormatError('FORMAT_TOO_LARGE', `${dir} holds more than ${maxImages} images`);
      files.push(rel);
      labels.push(label);
    }
  }
  if (files.length === 0) throw new FormatError('FORMAT_NOT_FOUND', `${dir}: the class folders hold no PNG files`);
  return { classes, files, labels };
}

/** Decodes a class-per-subfolder PNG dataset into NHWC float32. */
export async function loadPngFolder(dir: string, options: PngFolderOptions = {}): Promise<PngFolderDataset> {
  const channels = options.channels ?? 1;
  if (channels !== 1 && channels !== 3) throw new RangeError(`channels must be 1 or 3, got ${String(channels)}`);
  const maxSide = options.maxSide ?? 4096;
  const maxValues = options.maxValues ?? 2 ** 28;
  const { classes, files, labels } = await listPngFolder(dir, options.maxImages ?? 100_000);
  let size: { width: number; height: number; first: string } | undefined;
  let images = new Float32Array(0);
  for (const [k, rel] of files.entries()) {
    const bytes = await readWholeFile(join(dir, rel), options.maxFileBytes ?? 64 * 2 ** 20);
    const { width, height } = readPngSize(bytes, rel);
    if (width === 0 || height === 0 || width > maxSide || height > maxSide) throw new FormatError('FORMAT_TOO_LARGE', `${rel} is ${width}x${height}; sides must be 1..${maxSide}`);
    if (!size) {
      size = { width, height, first: rel };
      const total = files.length * width * height * channels;
      if (total > maxValues) throw new FormatError('FORMAT_TOO_LARGE', `${files.length} images of ${width}x${height}x${channels} make ${total} values, over the limit of ${maxValues}`);
      images = new Float32Array(total);
    } else if (width !== size.width || height !== size.height) {
      throw new FormatError('FORMAT_SHAPE_MISMATCH', `${rel} is ${width}x${height}, but ${size.first} is ${size.width}x${size.height}; all images must share one size`);
    }
    let png: PNG;
    try {
      png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    } catch (err) {
      throw new FormatError('FORMAT_CORRUPT', `${rel} is not a readable PNG: ${(err as Error).message.split('\n')[0]}`, { cause: err });
    }
    writePixels(png.data, images, k * width * height * channels, width * height, channels);
  }
  const s = size!;
  return { classes, images, labels: Uint16Array.from(labels), count: files.length, shape: [files.length, s.height, s.width, channels], files };
}

/** RGBA8 -> float NHWC at `offset`, alpha composited over black. */
function writePixels(rgba: Uint8Array, out: Float32Array, offset: number, pixels: number, channels: 1 | 3): void {
  for (let p = 0; p < pixels; p++) {
    const a = rgba[4 * p + 3]! / 255;
    const r = (rgba[4 * p]! / 255) * a;
    const g = (rgba[4 * p + 1]! / 255) * a;
    const b = (rgba[4 * p + 2]! / 255) * a;
    if (channels === 1) out[offset + p] = 0.299 * r + 0.587 * g + 0.114 * b;
    else {
      out[offset + 3 * p] = r;
      out[offset + 3 * p + 1] = g;
      out[offset + 3 * p + 2] = b;
    }
  }
}
