// Fidelity of a marked model against its original on the same calibration inputs, per output:
// top-1 agreement (argmax over the last axis, for outputs with more than one class and not shaped
// like an input, which is a recurrent state handed back), and the
// largest and mean absolute change of any output value. Limits the user sets are checked here.
import type { ModelFormat } from '../formats/index.js';
import { calibrationBatches, type CalibrationOptions } from './calibration.js';
import { FidelityError } from './errors.js';
import { openRunner, type Feed, type Output } from './runner.js';

export interface OutputFidelity {
  readonly name: string;
  /** Fraction of rows whose argmax is unchanged; absent for single-value outputs. */
  readonly top1Agreement?: number;
  readonly maxAbsChange: number;
  readonly meanAbsChange: number;
  /** Root mean square of the changes: between the mean and the largest, weighing large changes more. */
  readonly rmsChange: number;
  /** Shaped like an input: a recurrent state handed back, not an answer (no top-1). */
  readonly state?: true;
}

export interface FidelityReport {
  readonly inputs: number;
  readonly source: 'dataset' | 'synthetic';
  readonly outputs: OutputFidelity[];
  /** The worst over outputs. */
  readonly top1Agreement?: number;
  readonly maxAbsChange: number;
}

export interface FidelityLimits {
  /** Smallest acceptable top-1 agreement (e.g. 0.999). */
  readonly minTop1Agreement?: number;
  /** Largest acceptable absolute change of any output value. */
  readonly maxAbsChange?: number;
}

interface Acc { agree: number; rows: number; max: number; sum: number; sum2: number; n: number; state: boolean }

/** Same dims as one of the inputs fed: a recurrent state handed back (silero's stateN), not class scores. */
const isState = (a: { dims: readonly number[] }, feeds: Record<string, { dims: readonly number[] }>) =>
  Object.values(feeds).some((f) => f.dims.length >= 2 && f.dims.length === a.dims.length && f.dims.every((d, i) => d === a.dims[i]));

function accumulate(acc: Acc, a: Output, b: Output, classes: boolean): void {
  const k = classes && a.dims.length >= 2 ? a.dims[a.dims.length - 1]! : 1;
  for (let i = 0; i < a.data.length; i++) {
    const d = Math.abs(a.data[i]! - b.data[i]!);
    acc.max = Math.max(acc.max, Number.isNaN(d) ? Infinity : d);
    acc.sum += d;
    acc.sum2 += d * d;
  }
  acc.n += a.data.length;
  if (k < 2) return;
  for (let r = 0; r < a.data.length / k; r++) {
    let ia = 0;
    let ib = 0;
    for (let j = 1; j < k; j++) {
      if (a.data[r * k + j]! > a.data[r * k + ia]!) ia = j;
      if (b.data[r * k + j]! > b.data[r * k + ib]!) ib = j;
    }
    acc.rows++;
    if (ia === ib) acc.agree++;
  }
}

/** Chunks per stream when a model hands its state back: about half a second of 16 kHz audio in 512-sample chunks. */
export const DEFAULT_STREAM_LENGTH = 16;

/** The input each state output goes back to: the one input of the same dims (silero's stateN -> state). */
function stateInputs(outputs: readonly Output[], feeds: Record<string, Feed>): Map<string, string> {
  const back = new Map<string, string>();
  for (const out of outputs) {
    if (!isState(out, feeds)) continue;
    const same = Object.entries(feeds).filter(([, f]) => f.dtype === 'float32' && f.dims.length === out.dims.length && f.dims.every((d, i) => d === out.dims[i]));
    if (same.length === 1) back.set(out.name, same[0]![0]);
  }
  return back;
}

/** The feeds with each state input replaced by the state the model handed back on the previous chunk. */
function withState(feeds: Record<string, Feed>, carried: ReadonlyMap<string, Output>): Record<string, Feed> {
  if (carried.size === 0) return feeds;
  const next = { ...feeds };
  for (const [input, out] of carried) {
    const fresh = feeds[input];
    if (fresh && fresh.dims.length === out.dims.length && fresh.dims.every((d, i) => d === out.dims[i])) next[input] = { data: out.data, dims: out.dims, dtype: 'float32' }; // a shorter last batch starts afresh
  }
  return next;
}

/**
 * Runs both models on the same calibration inputs and compares every output. A model that hands
 * a state back (an output shaped like an input, such as silero's stateN) is run as it is used:
 * consecutive inputs form streams of `o.streamLength` chunks (default 16), each model carrying its
 * own state from chunk to chunk, from the state the caller gives (zeros, a stream's start). From a
 * fresh state alone, parts of a recurrent layer (its forget gate) would never be seen to matter.
 */
export async function measureFidelity(original: string, marked: string, format: ModelFormat, o: CalibrationOptions): Promise<FidelityReport> {
  const a = await openRunner(original, format);
  const b = await openRunner(marked, format);
  try {
    const { source, batches } = calibrationBatches(a.inputs, o);
    const accs = new Map<string, Acc>();
    const streamLength = Math.max(1, o.streamLength ?? DEFAULT_STREAM_LENGTH);
    let back = new Map<string, string>();
    const carried = { a: new Map<string, Output>(), b: new Map<string, Output>() };
    let inputs = 0;
    for (const [k, feeds] of batches.entries()) {
      if (k % streamLength === 0) [carried.a, carried.b] = [new Map(), new Map()];
      const [ya, yb] = [await a.run(withState(feeds, carried.a)), await b.run(withState(feeds, carried.b))];
      if (k === 0) back = stateInputs(ya, feeds);
      for (const [name, input] of back) {
        carried.a.set(input, ya.find((x) => x.name === name)!);
        carried.b.set(input, yb.find((x) => x.name === name)!);
      }
      ya.forEach((out, i) => {
        const acc = accs.get(out.name) ?? { agree: 0, rows: 0, max: 0, sum: 0, sum2: 0, n: 0, state: isState(out, feeds) };
        accumulate(acc, out, yb[i]!, !acc.state);
        accs.set(out.name, acc);
      });
      inputs += Object.values(feeds)[0]?.dims[0] ?? 1;
    }
    const outputs = [...accs].map(([name, x]) => ({
      name, ...(x.rows > 0 ? { top1Agreement: x.agree / x.rows } : {}), maxAbsChange: x.max, meanAbsChange: x.n ? x.sum / x.n : 0, rmsChange: x.n ? Math.sqrt(x.sum2 / x.n) : 0, ...(x.state ? { state: true as const } : {}),
    }));
    const tops = outputs.flatMap((x) => (x.top1Agreement === undefined ? [] : [x.top1Agreement]));
    return {
      inputs, source, outputs,
      ...(tops.length ? { top1Agreement: Math.min(...tops) } : {}),
      maxAbsChange: Math.max(0, ...outputs.map((x) => x.maxAbsChange)),
    };
  } finally {
    await a.close();
    await b.close();
  }
}

/** Throws FIDELITY_LIMIT_EXCEEDED naming every figure past its limit (the largest change: of the answers, not of a recurrent state). */
export function checkFidelityLimits(r: FidelityReport, limits: FidelityLimits): void {
  const over: string[] = [];
  for (const out of r.outputs) {
    if (limits.minTop1Agreement !== undefined && out.top1Agreement !== undefined && out.top1Agreement < limits.minTop1Agreement) {
      over.push(`${out.name}: top-1 agreement ${(out.top1Agreement * 100).toFixed(2)}% < ${(limits.minTop1Agreement * 100).toFixed(2)}%`);
    }
    // A recurrent state handed back is not an answer: its change reaches the user through the
    // answers of the chunks after it, which the streamed measurement already compares.
    if (limits.maxAbsChange !== undefined && !out.state && out.maxAbsChange > limits.maxAbsChange) {
      over.push(`${out.name}: max |change| ${out.maxAbsChange.toPrecision(3)} > ${limits.maxAbsChange}`);
    }
  }
  if (over.length) {
    throw new FidelityError('FIDELITY_LIMIT_EXCEEDED', `the mark changes the model's answers beyond your limits on ${r.inputs} ${r.source} inputs (${over.join('; ')}); nothing was written. Raise the limits, pick another --tensor, or use fewer --bits`);
  }
}
