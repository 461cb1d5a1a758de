// Calibration inputs for fidelity measurement and for the layer-input metric: the user's images
// when given (NHWC, transposed for NCHW graphs), else key-derived synthetic inputs of the model's
// input shape (uniform [0, 1) floats from a PRNG seeded by the caller, reproducible by the owner
// and unknown to anyone else). Non-float inputs (a sample rate, a flag) take a fixed value.
import { createPrng } from '../core/index.js';
import { FidelityError } from './errors.js';
import { syntheticAudio, type AudioStream } from './synthetic-audio.js';
import type { Feed, InputSpec } from './runner.js';

export interface CalibrationImages {
  readonly images: Float32Array;
  readonly count: number;
  readonly shape: readonly [number, number, number, number];
}

export interface CalibrationOptions {
  /** Inputs in all. */
  readonly count: number;
  readonly batch: number;
  /** Seed of the synthetic inputs. */
  readonly seed: Uint8Array;
  /** Value for inputs we cannot synthesise (non-float), by input name. */
  readonly fixed?: Readonly<Record<string, number>>;
  /** Range [lo, hi) of an input's synthetic values, by name (default [0, 1): image pixels; audio samples take [-1, 1)). */
  readonly ranges?: Readonly<Record<string, readonly [number, number]>>;
  /** Kind of synthetic values, by input name: 'uniform' (default, in its range) or 'audio' (synthetic-audio.ts). */
  readonly signals?: Readonly<Record<string, 'uniform' | 'audio'>>;
  /** Sample rate of 'audio' signals (default 16000). */
  readonly sampleRate?: number;
  /** Full shape of an input, by name (for dynamic dimensions; batch it as `batch` says). */
  readonly dims?: Readonly<Record<string, readonly number[]>>;
  readonly images?: CalibrationImages;
  /** Chunks per stream for models that hand a state back (measure.ts; default 16). */
  readonly streamLength?: number;
}

function shapeOf(spec: InputSpec, n: number, o: CalibrationOptions): number[] {
  const given = o.dims?.[spec.name];
  if (given) return [...given]; // the caller's full shape (the batch need not be the first axis)
  return spec.dims.map((d, i) => {
    if (i === 0) return n;
    if (d === null) throw new FidelityError('FIDELITY_UNSUPPORTED', `input ${spec.name} has a dynamic dimension ${i}; give the shape of one feed (CLI --input-dims ${spec.name}=1,...; API calibration.dims)`);
    return d;
  });
}

function imageFeed(spec: InputSpec, img: CalibrationImages, from: number, n: number): Feed | undefined {
  const [, h, w, c] = img.shape;
  const d = spec.dims;
  if (d.length !== 4) return undefined;
  const x = img.images.subarray(from * h * w * c, (from + n) * h * w * c);
  if ((d[1] ?? h) === h && (d[2] ?? w) === w && (d[3] ?? c) === c) return { data: Float32Array.from(x), dims: [n, h, w, c], dtype: 'float32' };
  if (d[1] === c && (d[2] ?? h) === h && (d[3] ?? w) === w) {
    const out = new Float32Array(x.length);
    for (let b = 0; b < n; b++) for (let y = 0; y < h; y++) for (let z = 0; z < w; z++) for (let ch = 0; ch < c; ch++) {
      out[((b * c + ch) * h + y) * w + z] = x[((b * h + y) * w + z) * c + ch]!;
    }
    return { data: out, dims: [n, c, h, w], dtype: 'float32' };
  }
  return undefined;
}

const FEEDABLE = new Set(['float32', 'int64', 'int32', 'bool']);

/** Every input the synthetic calibration cannot feed, and what to give for it, refused in one line. */
function checkFeedable(inputs: readonly InputSpec[], o: CalibrationOptions, useImages: boolean): void {
  const problems: string[] = [];
  for (const spec of inputs) {
    if (useImages && spec.dtype === 'float32' && imageFeed(spec, o.images!, 0, 1)) continue;
    const fixed = o.fixed?.[spec.name];
    if (!FEEDABLE.has(spec.dtype)) problems.push(`${spec.name} is ${spec.dtype}, which we cannot synthesise`);
    else if (spec.dtype !== 'float32' && fixed === undefined) problems.push(`${spec.name} is ${spec.dtype} (give --input-value ${spec.name}=X)`);
    if (o.dims?.[spec.name] || spec.dims.length === 0) continue;
    const dynamic = spec.dims.findIndex((d, i) => i > 0 && d === null);
    if (dynamic > 0) problems.push(`${spec.name} has a dynamic dimension ${dynamic} (give --input-dims ${spec.name}=1,...)`);
  }
  if (problems.length > 0) throw new FidelityError('FIDELITY_UNSUPPORTED', `calibration cannot feed ${problems.length === 1 ? 'an input' : `${problems.length} inputs`}: ${problems.join('; ')} (API: calibration.fixed / calibration.dims)`);
}

/** Batches of feeds; `source` says where the inputs came from. */
export function calibrationBatches(inputs: readonly InputSpec[], o: CalibrationOptions): { source: 'dataset' | 'synthetic'; batches: Record<string, Feed>[] } {
  const prng = createPrng(o.seed);
  const useImages = !!o.images && inputs.filter((i) => i.dtype === 'float32').length === 1 && inputs.some((i) => imageFeed(i, o.images!, 0, 1));
  checkFeedable(inputs, o, useImages);
  const count = useImages ? Math.min(o.count, o.images!.count) : o.count;
  const batches: Record<string, Feed>[] = [];
  const streams = new Map<string, AudioStream>(); // an audio input's signal goes on from batch to batch
  for (let from = 0; from < count; from += o.batch) {
    const n = Math.min(o.batch, count - from);
    const feeds: Record<string, Feed> = {};
    for (const spec of inputs) {
      const img = useImages && spec.dtype === 'float32' ? imageFeed(spec, o.images!, from, n) : undefined;
      if (img) {
        feeds[spec.name] = img;
        continue;
      }
      const fixed = o.fixed?.[spec.name];
      if (spec.dtype !== 'float32' && fixed === undefined) throw new FidelityError('FIDELITY_UNSUPPORTED', `input ${spec.name} is ${spec.dtype}; give its value (CLI --input-value ${spec.name}=X; API calibration.fixed)`);
      const scalar = spec.dims.length === 0;
      const dims = scalar ? [] : shapeOf(spec, n, o);
      const size = dims.reduce((a, b) => a * b, 1);
      if (spec.dtype === 'int64') feeds[spec.name] = { data: new BigInt64Array(size).fill(BigInt(Math.trunc(fixed!))), dims, dtype: 'int64' };
      else if (spec.dtype === 'int32') feeds[spec.name] = { data: new Int32Array(size).fill(fixed!), dims, dtype: 'int32' };
      else if (spec.dtype === 'bool') feeds[spec.name] = { data: new Uint8Array(size).fill(fixed ? 1 : 0), dims, dtype: 'bool' };
      else if (spec.dtype === 'float32') {
        const [lo, hi] = o.ranges?.[spec.name] ?? [0, 1];
        const data = fixed !== undefined ? new Float32Array(size).fill(fixed)
          : o.signals?.[spec.name] === 'audio' ? syntheticAudio(prng, dims, o.sampleRate ?? 16000, streams.get(spec.name) ?? streams.set(spec.name, {}).get(spec.name))
            : Float32Array.from({ length: size }, () => lo + (hi - lo) * prng.nextFloat());
        feeds[spec.name] = { data, dims, dtype: 'float32' };
      }
      else throw new FidelityError('FIDELITY_UNSUPPORTED', `input ${spec.name} has a data type we cannot synthesise`);
    }
    batches.push(feeds);
  }
  return { source: useImages ? 'dataset' : 'synthetic', batches };
}
