// The calibration flags of `embed --training-free`: what the fidelity measurement feeds each model
// input it cannot synthesise on its own (a dynamic dimension, a non-float input such as a sample
// rate or a recurrent state, an audio signal). Each flag is repeatable and names one input:
//   --input-dims input=1,512      full shape of the input (a dynamic axis needs it)
//   --input-value sr=16000        a fixed value for every element (non-float inputs need one)
//   --input-range input=-1,1      range of the synthetic uniform values (default 0,1)
//   --input-signal input=audio    'uniform' (default) or 'audio' (tones, chirps and noise)
//   --sample-rate 16000           sample rate of the 'audio' signals
// A malformed value is the caller's mistake (RangeError: exit 2, INVALID_ARGUMENT).
import type { EmbedOptions } from '../src/embed/index.js';

export interface CalibrationFlags {
  calibrationInputs?: string;
  inputDims?: string[];
  inputValue?: string[];
  inputRange?: string[];
  inputSignal?: string[];
  sampleRate?: string;
}

type Calibration = NonNullable<EmbedOptions['calibration']>;

const NAME = /^[^=\s][^=]*$/;
const NUMBER = /^-?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i;

/** `name=value` of a repeatable flag; the name is an input name as the model declares it. */
function split(flag: string, v: string): [string, string] {
  const at = v.lastIndexOf('=');
  const name = v.slice(0, at);
  if (at <= 0 || !NAME.test(name)) throw new RangeError(`${flag} takes NAME=VALUE (an input name of the model), got "${v}"`);
  return [name, v.slice(at + 1)];
}

function byName<T>(flag: string, values: readonly string[] | undefined, parse: (value: string, raw: string) => T): Record<string, T> | undefined {
  if (!values || values.length === 0) return undefined;
  const out: Record<string, T> = {};
  for (const raw of values) {
    const [name, value] = split(flag, raw);
    if (name in out) throw new RangeError(`${flag} gives input "${name}" twice`);
    out[name] = parse(value, raw);
  }
  return out;
}

function num(flag: string, v: string, raw: string): number {
  if (!NUMBER.test(v) || !Number.isFinite(Number(v))) throw new RangeError(`${flag} needs a number after "=", got "${raw}"`);
  return Number(v);
}

function dims(v: string, raw: string): number[] {
  const parts = v.split(',');
  if (parts.length > 8 || !parts.every((p) => /^[1-9]\d{0,6}$/.test(p))) throw new RangeError(`--input-dims needs up to 8 positive integers separated by commas, got "${raw}"`);
  const shape = parts.map(Number);
  if (shape.reduce((a, b) => a * b, 1) > 2 ** 26) throw new RangeError(`--input-dims "${raw}" has more than ${2 ** 26} elements`);
  return shape;
}

function range(v: string, raw: string): [number, number] {
  const parts = v.split(',');
  if (parts.length !== 2) throw new RangeError(`--input-range needs LO,HI, got "${raw}"`);
  const [lo, hi] = parts.map((p) => num('--input-range', p, raw)) as [number, number];
  if (!(lo < hi)) throw new RangeError(`--input-range needs LO < HI, got "${raw}"`);
  return [lo, hi];
}

function signal(v: string, raw: string): 'uniform' | 'audio' {
  if (v !== 'uniform' && v !== 'audio') throw new RangeError(`--input-signal takes NAME=uniform or NAME=audio, got "${raw}"`);
  return v;
}

/** The `calibration` option of embedWatermark from the flags, or nothing when none is given. */
export function calibrationFromFlags(o: CalibrationFlags, parseCount: (flag: string, v: string) => number | undefined): { calibration?: Calibration } {
  const count = o.calibrationInputs !== undefined ? parseCount('--calibration-inputs', o.calibrationInputs) : undefined;
  if (count !== undefined && !(count >= 1 && count <= 100_000)) throw new RangeError(`--calibration-inputs must be in [1, 100000], got "${o.calibrationInputs}"`);
  const fixed = byName('--input-value', o.inputValue, (v, raw) => num('--input-value', v, raw));
  const shapes = byName('--input-dims', o.inputDims, dims);
  const ranges = byName('--input-range', o.inputRange, range);
  const signals = byName('--input-signal', o.inputSignal, signal);
  let sampleRate: number | undefined;
  if (o.sampleRate !== undefined) {
    sampleRate = parseCount('--sample-rate', o.sampleRate);
    if (!(sampleRate! >= 1000 && sampleRate! <= 384_000)) throw new RangeError(`--sample-rate must be in [1000, 384000] Hz, got "${o.sampleRate}"`);
  }
  const calibration: Calibration = {
    ...(count !== undefined ? { count } : {}),
    ...(fixed ? { fixed } : {}),
    // A given shape is one whole feed, so each feed is one calibration input.
    ...(shapes ? { dims: shapes, batch: 1 } : {}),
    ...(ranges ? { ranges } : {}),
    ...(signals ? { signals } : {}),
    ...(sampleRate !== undefined ? { sampleRate } : {}),
  };
  return Object.keys(calibration).length > 0 ? { calibration } : {};
}
