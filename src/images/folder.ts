/**
 * Labelled images for fine-tuning and calibration: a folder with one subfolder per class holding
 * PNG and JPEG files, decoded, resized (bilinear) to the size asked for, and normalised as the
 * model expects (preprocess.ts). An optional preprocess.json at the folder's root declares the
 * normalisation; the caller's options win over it.
 *
 *   photos/preprocess.json  photos/cat/a.jpg  photos/cat/b.png  photos/dog/c.jpeg ...
 *
 * Classes are the subfolder names in code-unit order, labelled 0, 1, 2, ...; files in a class are
 * in code-unit order. Dotfiles are skipped; any other file that is not PNG/JPEG, a symlink or a
 * nested folder is an error rather than a silent omission. Output is float32 NHWC. Without a size
 * every image must already share one size. Headers are read and bounded before decoding.
 */
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { FormatError } from '../formats/errors.js';
import { readWholeFile } from '../formats/read-file.js';
import { decodeImage, imageKindOf, readImageSize, type Rgba } from './decode.js';
import { parsePreprocess, pixelMap, type ImagePreprocess } from './preprocess.js';
import { resizeBilinear } from './resize.js';

export const PREPROCESS_FILE = 'preprocess.json';

export interface ImageFolderOptions {
  /** Overrides preprocess.json key by key. */
  readonly preprocess?: ImagePreprocess;
  /** Used when neither the options nor preprocess.json give a size / channels (the model's input). */
  readonly defaultSize?: readonly [number, number];
  readonly defaultChannels?: 1 | 3;
  readonly maxSide?: number;
  readonly maxImages?: number;
  readonly maxValues?: number;
  readonly maxFileBytes?: number;
}

export interface ImageFolderDataset {
  readonly classes: readonly string[];
  readonly images: Float32Array;
  readonly labels: Uint16Array;
  readonly count: number;
  readonly shape: readonly [number, number, number, number];
  readonly files: readonly string[];
  /** What was applied, with the size and channels resolved. */
  readonly preprocess: ImagePreprocess & { size: readonly [number, number]; channels: 1 | 3 };
}

async function names(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).filter((n) => !n.startsWith('.')).sort();
  } catch (err) {
    throw new FormatError('FORMAT_NOT_FOUND', `cannot read folder ${dir}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`, { cause: err });
  }
}

/** "class/file" entries with labels; refuses anything but plain PNG/JPEG files in class folders. */
export async function listImageFolder(dir: string, maxImages = 100_000): Promise<{ classes: string[]; files: string[]; labels: number[] }> {
  const classes: string[] = [];
  for (const name of await names(dir)) {
    const st = await lstat(join(dir, name));
    if (st.isDirectory()) classes.push(name);
    else if (st.isSymbolicLink()) throw new FormatError('FORMAT_UNSAFE_PATH', `${join(dir, name)} is a symlink; class folders must be real folders`);
  }
  if (classes.length === 0) throw new FormatError('FORMAT_NOT_FOUND', `${dir} has no class subfolders; expect one folder per class holding PNG or JPEG files`);
  if (classes.length > 65_535) throw new FormatError('FORMAT_TOO_LARGE', `${dir} has ${classes.length} class folders, over 65535`);
  const files: string[] = [];
  const labels: number[] = [];
  for (const [label, cls] of classes.entries()) {
    for (const name of await names(join(dir, cls))) {
      const rel = `${cls}/${name}`;
      const st = await lstat(join(dir, cls, name));
      if (!st.isFile()) throw new FormatError('FORMAT_UNSUPPORTED', `${rel} is not a plain file; class folders hold only PNG and JPEG files`);
      if (!imageKindOf(name)) throw new FormatError('FORMAT_UNSUPPORTED', `${rel} is not a .png, .jpg or .jpeg file; class folders hold only PNG and JPEG files`);
      if (files.length >= maxImages) throw new FormatError('FORMAT_TOO_LARGE', `${dir} holds more than ${maxImages} images`);
      files.push(rel);
      labels.push(label);
    }
  }
  if (files.length === 0) throw new FormatError('FORMAT_NOT_FOUND', `${dir}: the class folders hold no PNG or JPEG files`);
  return { classes, files, labels };
}

async function declared(dir: string): Promise<ImagePreprocess> {
  const path = join(dir, PREPROCESS_FILE);
  const st = await lstat(path).catch(() => undefined);
  if (!st) return {};
  if (!st.isFile()) throw new FormatError('FORMAT_UNSUPPORTED', `${path} is not a plain file`);
  let raw: unknown;
  try {
    raw = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(await readWholeFile(path, 64 * 1024)));
  } catch (err) {
    if (err instanceof FormatError) throw err;
    throw new FormatError('FORMAT_CORRUPT', `${path} is not JSON: ${(err as Error).message}`, { cause: err });
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new FormatError('FORMAT_CORRUPT', `${path} is not a JSON object`);
  return parsePreprocess(raw as Record<string, unknown>);
}

/** RGBA8 -> float [h, w, c] in pixel units 0..255: alpha over black, BT.601 luma for one channel. */
function toFloat(img: Rgba, channels: 1 | 3): Float32Array {
  const n = img.width * img.height;
  const out = new Float32Array(n * channels);
  const d = img.data;
  for (let p = 0; p < n; p++) {
    const a = d[4 * p + 3]! / 255;
    const r = d[4 * p]! * a;
    const g = d[4 * p + 1]! * a;
    const b = d[4 * p + 2]! * a;
    if (channels === 1) out[p] = 0.299 * r + 0.587 * g + 0.114 * b;
    else {
      out[3 * p] = r;
      out[3 * p + 1] = g;
      out[3 * p + 2] = b;
    }
  }
  return out;
}

export async function loadImageFolder(dir: string, o: ImageFolderOptions = {}): Promise<ImageFolderDataset> {
  const p: ImagePreprocess = { ...(await declared(dir)), ...stripUndefined(o.preprocess ?? {}) };
  const channels = p.channels ?? o.defaultChannels ?? 1;
  const maxSide = o.maxSide ?? 8192;
  const maxValues = o.maxValues ?? 2 ** 28;
  const { classes, files, labels } = await listImageFolder(dir, o.maxImages ?? 100_000);
  let size = p.size ?? o.defaultSize;
  let first = '';
  let images = new Float32Array(0);
  const { scale, offset } = pixelMap(p, channels);
  for (const [k, rel] of files.entries()) {
    const kind = imageKindOf(rel)!;
    const bytes = await readWholeFile(join(dir, rel), o.maxFileBytes ?? 64 * 2 ** 20);
    const { width, height } = readImageSize(bytes, kind, rel);
    if (width === 0 || height === 0 || width > maxSide || height > maxSide) throw new FormatError('FORMAT_TOO_LARGE', `${rel} is ${width}x${height}; sides must be 1..${maxSide}`);
    if (!size) {
      size = [height, width];
      first = rel;
    } else if (!p.size && !o.defaultSize && (height !== size[0] || width !== size[1])) {
      throw new FormatError('FORMAT_SHAPE_MISMATCH', `${rel} is ${width}x${height}, but ${first} is ${size[1]}x${size[0]}; give a size to resize to, or make all images one size`);
    }
    const [oh, ow] = size;
    if (k === 0) {
      const total = files.length * oh * ow * channels;
      if (total > maxValues) throw new FormatError('FORMAT_TOO_LARGE', `${files.length} images of ${oh}x${ow}x${channels} make ${total} values, over the limit of ${maxValues}`);
      images = new Float32Array(total);
    }
    const img = decodeImage(bytes, kind, rel);
    const px = resizeBilinear(toFloat(img, channels), img.height, img.width, channels, oh, ow);
    const at = k * oh * ow * channels;
    for (let i = 0; i < px.length; i++) images[at + i] = px[i]! * scale[i % channels]! + offset[i % channels]!;
  }
  const s = size!;
  return {
    classes, images, labels: Uint16Array.from(labels), count: files.length, shape: [files.length, s[0], s[1], channels], files,
    preprocess: { ...p, size: s, channels },
  };
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
