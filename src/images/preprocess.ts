// How image pixels become a model's input: the size (bilinear resize), the channels (grayscale or
// RGB), the pixel range, per-channel mean/std normalisation and the tensor layout. Declared by the
// user (CLI flags) or in the dataset folder's preprocess.json; flags win over the file.
//
//   value[c] = (lo + (p / 255) * (hi - lo) - mean[c]) / std[c]        p = the 8-bit pixel
//
// The defaults keep what Hallmark always did: 0..1, no mean/std. Common recipes:
//   torchvision / ImageNet:  --pixel-range 0,1  --mean 0.485,0.456,0.406 --std 0.229,0.224,0.225 --layout nchw
//   Keras MobileNet (tf):    --pixel-range -1,1
//   Caffe-style:             --pixel-range 0,255 --mean 123.68,116.78,103.94
import { FormatError } from '../formats/errors.js';

export type Layout = 'nhwc' | 'nchw';

export interface ImagePreprocess {
  /** [height, width] to resize every image to (bilinear); default: the model's input size. */
  readonly size?: readonly [number, number];
  readonly channels?: 1 | 3;
  /** The values pixel 0 and pixel 255 map to before mean/std (default [0, 1]). */
  readonly range?: readonly [number, number];
  /** Subtracted per channel (one value, or one per channel). */
  readonly mean?: readonly number[];
  /** Divided per channel after the mean (one value, or one per channel). */
  readonly std?: readonly number[];
  /** The model's input layout; the loader always gives NHWC and feeds transpose when this is nchw. */
  readonly layout?: Layout;
}

const bad = (msg: string) => new FormatError('FORMAT_CORRUPT', `preprocess: ${msg}`);

function numbers(v: unknown, what: string, max: number): number[] {
  const a = typeof v === 'string' ? v.split(',').map((s) => (s.trim() === '' ? NaN : Number(s))) : v;
  if (!Array.isArray(a) || a.length < 1 || a.length > max || !a.every((x) => typeof x === 'number' && Number.isFinite(x))) {
    throw bad(`${what} ${JSON.stringify(v)} is not ${max === 1 ? 'a number' : `1 to ${max} comma-separated numbers`}`);
  }
  return a as number[];
}

/** Checks and normalises a declared preprocess (from JSON or CLI strings); unknown keys are refused. */
export function parsePreprocess(raw: Record<string, unknown>): ImagePreprocess {
  const known = ['size', 'channels', 'range', 'mean', 'std', 'layout'];
  const extra = Object.keys(raw).filter((k) => !known.includes(k));
  if (extra.length) throw bad(`unknown key${extra.length > 1 ? 's' : ''} ${extra.join(', ')} (known: ${known.join(', ')})`);
  const out: { -readonly [K in keyof ImagePreprocess]: ImagePreprocess[K] } = {};
  if (raw.size !== undefined) {
    const s = typeof raw.size === 'string' ? raw.size.split(/[x,]/).map(Number) : raw.size;
    if (!Array.isArray(s) || s.length !== 2 || !s.every((d) => Number.isSafeInteger(d) && d >= 1 && d <= 4096)) throw bad(`size ${JSON.stringify(raw.size)} is not HxW with sides 1..4096`);
    out.size = [s[0], s[1]];
  }
  if (raw.channels !== undefined) {
    const c = Number(raw.channels);
    if (c !== 1 && c !== 3) throw bad(`channels ${JSON.stringify(raw.channels)} is not 1 or 3`);
    out.channels = c;
  }
  if (raw.range !== undefined) {
    const r = numbers(raw.range, 'range', 2);
    if (r.length !== 2 || r[0] === r[1]) throw bad(`range ${JSON.stringify(raw.range)} is not two different numbers lo,hi`);
    out.range = [r[0]!, r[1]!];
  }
  if (raw.mean !== undefined) out.mean = numbers(raw.mean, 'mean', 3);
  if (raw.std !== undefined) {
    out.std = numbers(raw.std, 'std', 3);
    if (out.std.some((v) => v === 0)) throw bad('std has a zero');
  }
  if (raw.layout !== undefined) {
    const l = String(raw.layout).toLowerCase();
    if (l !== 'nhwc' && l !== 'nchw') throw bad(`layout ${JSON.stringify(raw.layout)} is not nhwc or nchw`);
    out.layout = l;
  }
  return out;
}

/** A per-channel affine map value = p * scale[c] + offset[c] for 8-bit p. */
export function pixelMap(p: ImagePreprocess, channels: number): { scale: Float32Array; offset: Float32Array } {
  const [lo, hi] = p.range ?? [0, 1];
  const per = (v: readonly number[] | undefined, d: number, what: string) => {
    if (!v) return new Array<number>(channels).fill(d);
    if (v.length !== 1 && v.length !== channels) throw bad(`${what} has ${v.length} values for ${channels} channel${channels > 1 ? 's' : ''}`);
    return Array.from({ length: channels }, (_, c) => v[v.length === 1 ? 0 : c]!);
  };
  const mean = per(p.mean, 0, 'mean');
  const std = per(p.std, 1, 'std');
  const scale = Float32Array.from({ length: channels }, (_, c) => (hi - lo) / 255 / std[c]!);
  const offset = Float32Array.from({ length: channels }, (_, c) => (lo - mean[c]!) / std[c]!);
  return { scale, offset };
}

/** One line for people and the ledger's dataset note. */
export function describePreprocess(p: ImagePreprocess, size: readonly [number, number], channels: number): string {
  const [lo, hi] = p.range ?? [0, 1];
  const parts = [`${size[0]}x${size[1]}x${channels}`, `range ${lo}..${hi}`];
  if (p.mean) parts.push(`mean ${p.mean.join(',')}`);
  if (p.std) parts.push(`std ${p.std.join(',')}`);
  parts.push(p.layout ?? 'nhwc');
  return parts.join(', ');
}
