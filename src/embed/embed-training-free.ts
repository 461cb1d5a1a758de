// The weight mark without training, for models we cannot fine-tune (ONNX, safetensors, TF.js Graph
// models, or TF.js without data), fidelity first:
//  - bits and margin come from a detection target (core/mark-plan.ts): enough bits to decide at
//    alpha 1e-6 with 10% of them flipped, margins that int8 rounding and 1% weight noise do not cross;
//  - the tensor is the widest non-depthwise kernel with room for the bits (the change per output
//    channel shrinks with the number of channels), and the choice is explained;
//  - the change is the minimum of delta^T Q delta, Q the second moment of the layer's input on
//    calibration inputs, so it lies in directions the layer's inputs do not use, and it is spread
//    over output channels in proportion to their scale;
//  - the marked model is written to a temporary folder, run against the original on calibration
//    inputs (the user's data, else key-derived synthetic inputs), and refused past the user's
//    fidelity limits before anything is committed or written where the user asked.
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, rename, rm } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { JsonObject } from '../../ledger/index.js';
import {
  bitsForTarget, channelWeightsByScale, compareBits, DEFAULT_DETECTION_TARGET, deriveWatermarkKeys, deriveWatermarkRoot, embedWeightMarkTrainingFree, extractBits,
  generateProjection, inverseChannelMetric, kernelGeometry, marginForTarget, meanOverOutputChannels, type DetectionTarget, type KernelLayout,
} from '../core/index.js';
import { checkFidelityLimits, layerInputMoment, measureFidelity, type CalibrationOptions, type FidelityReport } from '../fidelity/index.js';
import { isTfjsFormat, loadLayersModel, readModelJson, readModelTensors, tensorFromFloat32, tensorToFloat32, writeModelTensors, type ModelFormat, type NamedTensor } from '../formats/index.js';
import { evaluateAccuracy } from '../train/evaluate.js';
import type { LabelledImages } from '../train/fit.js';
import { checkPassphrase, commitWithSecret } from './commit-secret.js';
import { imageInputOf, limitImages, loadDatasetSource, type DatasetSource } from './dataset-source.js';
import { checkOutputFree, identifyModelOrThrow } from './embed-finetune.js';
import { int8RoundTrip, int8Step, relativeChangeOf, snapChangeToInt8Steps } from './int8-steps.js';
import { marginThatSurvivesStorage, storedRoundTrip } from './stored-margin.js';
import { EmbedError } from './errors.js';
import { spreadOverGates } from './gate-weights.js';
import { ensureDatasetRegistered, ensureModelRegistered, identifyModel, registerOutput } from './ledger-records.js';
import { inspectOnnx, onnxAccuracy, type OnnxModelInfo } from './onnx-model.js';
import type { EmbedEvent, EmbedOptions, EmbedSummary } from './types.js';

const FLOAT_DTYPES = ['F32', 'F16', 'BF16', 'F64'];
const RUNNABLE: readonly ModelFormat[] = ['onnx', 'tfjs-layers', 'tfjs-graph'];
/** Default fidelity limit: at most 1% of top-1 answers may change (users set tighter ones). */
export const DEFAULT_MIN_TOP1_AGREEMENT = 0.99;
export const DEFAULT_CALIBRATION_INPUTS = 256;

interface Candidate {
  readonly tensor: NamedTensor;
  readonly layout: KernelLayout;
  readonly features: number;
  readonly outputs: number;
}

/** Layout of a weight: from the ONNX graph; TF.js kernels are HWIO / IO; safetensors follow PyTorch (OIHW / OI). */
function layoutOf(t: NamedTensor, format: ModelFormat, onnx?: OnnxModelInfo): KernelLayout | undefined {
  if (!FLOAT_DTYPES.includes(t.dtype)) return undefined;
  if (format === 'onnx') return onnx?.layouts.get(t.name);
  const r = t.shape.length;
  if (isTfjsFormat(format)) return r === 4 ? 'HWIO' : r === 3 ? 'KIO' : r === 2 ? 'IO' : undefined;
  return r === 4 ? 'OIHW' : r === 3 ? 'OIK' : r === 2 ? 'OI' : undefined;
}

/** Depthwise and grouped kernels: one input channel per output, so a mark there is a visible change to each filter.
 *  A 1-D kernel with one input channel is skipped too: its fan-in is only its k taps (for example
 *  a fixed STFT basis applied to raw audio), so the mark would reshape every filter it has. */
function isDepthwise(t: NamedTensor, layout: KernelLayout, format: ModelFormat, skip: ReadonlySet<string>): boolean {
  if (skip.has(t.name) || /depthwise/i.test(t.name)) return true;
  if ((layout === 'OIK' || layout === 'KIO') && t.shape[1] === 1) return true;
  return isTfjsFormat(format) && t.shape.length === 4 && t.shape[3] === 1 && t.shape[2]! > 1;
}

export interface TensorChoice extends Candidate {
  /** Why this tensor, for people. */
  readonly reason: string;
  readonly skippedDepthwise: number;
  readonly candidates: number;
  /** Other kernels of the same geometry (e.g. the same layer in the other branch of an If), in file order. */
  readonly twins: readonly Candidate[];
  /** The next best by predicted relative change (at most SHORTLIST - 1), to be tried on calibration inputs. */
  readonly runnersUp: readonly TensorChoice[];
}

/** Kernels whose marks are measured on calibration inputs before one is kept. */
export const SHORTLIST = 3;

/**
 * The tensor named, else, among non-depthwise kernels with at least 4T features (else 2T, else
 * the one with the most features), the one whose mark is predicted to change it least relative
 * to its own weights: margin(target) x sqrt(T) / (rms x M). The margin a bit needs grows with the
 * int8 step of the kernel (max |W| / 127), so a kernel whose scale is set by one outlier weight
 * (silero's first encoder conv: max 15, 99th percentile 1.2) needs a mark 3x larger than its
 * neighbours; more output channels share the change (the margin shrinks as 1/sqrt(outputs)).
 * Without a target: the widest (most output channels). 4T features leave room to place T bits.
 */
export function chooseTensor(tensors: readonly NamedTensor[], format: ModelFormat, bits: number, name?: string, onnx?: OnnxModelInfo, skip: ReadonlySet<string> = new Set(), target?: DetectionTarget): TensorChoice {
  const candidates: Candidate[] = [];
  let skippedDepthwise = 0;
  for (const t of tensors) {
    const layout = layoutOf(t, format, onnx);
    if (!layout || t.shape.length !== layout.length || t.shape.some((d) => d < 1)) continue;
    if (isDepthwise(t, layout, format, new Set([...skip, ...(onnx?.grouped ?? [])]))) {
      skippedDepthwise++;
      if (t.name !== name) continue;
    }
    const g = kernelGeometry(t.shape, layout);
    candidates.push({ tensor: t, layout, features: g.features, outputs: g.outputs });
  }
  const base = { skippedDepthwise, candidates: candidates.length };
  if (name !== undefined) {
    const c = candidates.find((x) => x.tensor.name === name);
    if (!c) throw new EmbedError('EMBED_LAYER_NOT_FOUND', `no convolution or dense weight named "${name.slice(0, 80)}"; candidates: ${candidates.map((x) => x.tensor.name).join(', ').slice(0, 300) || '(none)'}`);
    return { ...c, ...base, twins: [], runnersUp: [], reason: 'named with --tensor' };
  }
  if (candidates.length === 0) throw new EmbedError('EMBED_LAYER_NOT_FOUND', `the model has no float convolution or dense weight to carry a weight mark${skippedDepthwise ? ` (${skippedDepthwise} depthwise or one-input-channel kernels skipped)` : ''}`);
  const score = new Map<Candidate, number>();
  const predicted = (c: Candidate) => {
    if (!score.has(c)) score.set(c, predictedRelativeChange(c, bits, target!));
    return score.get(c)!;
  };
  const better = (a: Candidate, b: Candidate) => (target
    ? predicted(b) < predicted(a)
    : b.outputs > a.outputs || (b.outputs === a.outputs && b.features > a.features));
  const best = (xs: Candidate[]) => xs.reduce((a, b) => (better(a, b) ? b : a));
  const roomy = candidates.filter((c) => c.features >= 4 * bits);
  const fits = candidates.filter((c) => c.features >= 2 * bits);
  const pick = roomy.length ? best(roomy) : fits.length ? best(fits) : candidates.reduce((a, b) => (b.features > a.features ? b : a));
  const how = target ? `the smallest predicted relative change (${(predicted(pick) * 100).toPrecision(2)}%; ${pick.outputs} output channels share it) of` : 'the widest of';
  const why = roomy.length
    ? `${how} ${roomy.length} kernels with >= 4x${bits} input features`
    : fits.length ? `${how} ${fits.length} kernels with >= 2x${bits} input features (none has 4x)` : `the kernel with the most input features (${pick.features}; none has 2x${bits})`;
  const twinOf = (a: Candidate, c: Candidate) => c !== a && c.outputs === a.outputs && c.features === a.features && c.layout === a.layout;
  const twins = candidates.filter((c) => twinOf(pick, c));
  // Runners-up: the next best by prediction among the kernels the pick was drawn from, plus the
  // best of those with room for only 2x the bits. The 4x preference is a guess about room to place
  // the bits, and the measurement below is better evidence (silero's LSTM input weight, 128
  // features and 512 rows, moves its answers several times less than the roomier convs).
  const pool = roomy.length ? roomy : fits;
  const skipped = skippedDepthwise ? `; ${skippedDepthwise} depthwise or one-input-channel kernels skipped` : '';
  const runnersUp: TensorChoice[] = [];
  const taken = (c: Candidate) => c === pick || twinOf(pick, c) || runnersUp.some((r) => r.tensor === c.tensor || twinOf(r, c));
  const add = (c: Candidate, of: string) => runnersUp.push({
    ...c, ...base, twins: candidates.filter((x) => twinOf(c, x)), runnersUp: [],
    reason: `a runner-up by predicted relative change (${(predicted(c) * 100).toPrecision(2)}%, ${c.outputs} output channels) of ${of}${skipped}`,
  });
  if (target) {
    for (const c of [...pool].sort((a, b) => predicted(a) - predicted(b))) {
      if (runnersUp.length >= SHORTLIST - 1) break;
      if (!taken(c)) add(c, `${pool.length} kernels with >= ${roomy.length ? 4 : 2}x${bits} input features`);
    }
    const narrow = roomy.length ? fits.filter((c) => c.features < 4 * bits && !taken(c)) : [];
    if (narrow.length) add(best(narrow), `${narrow.length} kernels with 2x to 4x${bits} input features`);
  }
  return { ...pick, ...base, twins, runnersUp, reason: `${why}${skipped}` };
}

/** margin(target) x sqrt(T) / (rms x M): the relative weight change a T-bit mark needs, up to a constant. */
function predictedRelativeChange(c: Candidate, bits: number, target: DetectionTarget): number {
  const k = tensorToFloat32(c.tensor);
  let s2 = 0;
  for (const v of k) s2 += v * v;
  const rms = Math.sqrt(s2 / k.length) || Number.MIN_VALUE;
  return (marginForTarget(k, c.tensor.shape, c.layout, target) * Math.sqrt(bits)) / (rms * c.features);
}

/** Depthwise kernels of a TF.js Graph model, from its topology. */
async function graphDepthwise(path: string, format: ModelFormat): Promise<Set<string>> {
  if (format !== 'tfjs-graph') return new Set();
  const { json } = await readModelJson(path);
  const nodes = (json.modelTopology as { node?: { op: string; input?: string[] }[] }).node ?? [];
  return new Set(nodes.filter((n) => /Depthwise/.test(n.op)).map((n) => (n.input?.[1] ?? '').split(':')[0]!));
}

/** Input channels of a kernel: the block size of the input metric. */
function inputChannels(shape: readonly number[], layout: KernelLayout): number {
  switch (layout) {
    case 'HWIO': return shape[2]!;
    case 'IO': return shape[0]!;
    default: return shape[1]!; // OIHW, OI, OIK, KIO
  }
}

/**
 * The chosen kernel, or the first of its twins whose layer input the calibration inputs reach:
 * models such as silero VAD hold one copy of each layer per branch of an If (16 kHz and 8 kHz),
 * and a mark in the branch the inputs do not take would be measured as changing nothing.
 */
async function pickRunningTwin(first: TensorChoice, momentOf: (c: Candidate) => Promise<Float64Array | undefined>): Promise<{ chosen: TensorChoice; moment: Float64Array | undefined }> {
  const own = await momentOf(first);
  if (own || first.twins.length === 0) return { chosen: first, moment: own };
  for (const t of first.twins) {
    const m = await momentOf(t);
    if (m) {
      const reason = `${first.reason}; of ${first.twins.length + 1} kernels of this shape, the one the calibration inputs run (${first.tensor.name} does not run on them, e.g. another If branch)`;
      return { chosen: { ...first, ...t, twins: [first, ...first.twins.filter((x) => x !== t)], reason }, moment: m };
    }
  }
  return { chosen: first, moment: undefined };
}

interface PlanContext {
  readonly model: string;
  readonly format: ModelFormat;
  readonly keys: { readonly bits: Uint8Array; readonly projectionSeed: Uint8Array };
  readonly target: DetectionTarget;
  readonly T: number;
  readonly emit: (e: Omit<EmbedEvent, 'backend'>) => void;
}

interface PlannedMark {
  readonly chosen: TensorChoice;
  readonly moment: Float64Array | undefined;
  readonly projection: ReturnType<typeof generateProjection>;
  readonly margin: number;
  readonly result: ReturnType<typeof embedWeightMarkTrainingFree>;
  readonly notes: readonly string[];
  /** The change is spread over a recurrent layer's gates by their measured effect. */
  readonly gateSpread?: true;
}

/** The mark on one kernel: margin from the target, raised to survive the file's own storage, in whole int8 steps where int8 would round it away. */
async function planMark({ chosen, moment }: { chosen: TensorChoice; moment: Float64Array | undefined }, x: PlanContext, spread?: Float64Array): Promise<PlannedMark> {
  const { keys, T } = x;
  const notes: string[] = [];
  const projection = generateProjection(keys.projectionSeed, T, chosen.features);
  const channels = inputChannels(chosen.tensor.shape, chosen.layout);
  const kernel = tensorToFloat32(chosen.tensor);
  const targetMargin = marginForTarget(kernel, chosen.tensor.shape, chosen.layout, x.target);
  const channelWeights = spread ?? channelWeightsByScale(kernel, chosen.tensor.shape, chosen.layout);
  const applyInverseMetric = moment ? inverseChannelMetric(moment, channels, chosen.features) : undefined;
  const plan = (m: number) => embedWeightMarkTrainingFree({
    kernel, shape: chosen.tensor.shape, layout: chosen.layout, projection, bits: keys.bits, margin: m, channelWeights,
    ...(applyInverseMetric ? { applyInverseMetric } : {}),
  });
  // The margin must also survive the file's own storage (uint8/uint16 quantization, F16/BF16).
  const stored = await storedRoundTrip(x.model, isTfjsFormat(x.format), chosen.tensor);
  const storedErrors = (k: Float32Array) => compareBits(keys.bits, extractBits(projection, meanOverOutputChannels(stored.roundTrip(k), chosen.tensor.shape, chosen.layout))).errors;
  let planned = marginThatSurvivesStorage(targetMargin, plan, storedErrors);
  // Per-tensor int8 must not round the change away (near-zero weights): when it would flip bits,
  // the change is placed in whole int8 steps, which commute with the rounding (int8-steps.ts).
  const int8Errors = (k: Float32Array) => compareBits(keys.bits, extractBits(projection, meanOverOutputChannels(int8RoundTrip(stored.roundTrip(k)), chosen.tensor.shape, chosen.layout))).errors;
  const lostToInt8 = int8Errors(planned.result.kernel);
  if (lostToInt8 > 0) {
    const snapped = (m: number) => {
      const r = plan(m);
      const k = snapChangeToInt8Steps(kernel, r.kernel, chosen.tensor.shape, chosen.layout);
      return { ...r, kernel: k, relativeChange: relativeChangeOf(k, kernel) };
    };
    const alt = marginThatSurvivesStorage(targetMargin, snapped, storedErrors);
    const after = int8Errors(alt.result.kernel);
    if (alt.errors <= planned.errors && after < lostToInt8) {
      planned = alt;
      notes.push(`change placed in whole int8 steps (${int8Step(kernel).toExponential(2)}): per-tensor int8 rounding flipped ${lostToInt8} of ${T} bits of the plain change, ${after} now`);
    }
  }
  if (planned.steps > 0) notes.push(`margin raised ${(planned.margin / targetMargin).toFixed(2)}x so the mark survives the file's own ${stored.form} storage (${planned.initialErrors} of ${T} bits were lost when written at the target's margin, ${planned.errors} now)`);
  return { chosen, moment, projection, margin: planned.margin, result: planned.result, notes };
}

/** Top-1 disagreement, then the root-mean-square change of the answers (recurrent states aside):
 *  on a few dozen inputs the largest change does not rank marks steadily (silero: 7e-3 on 64
 *  inputs, 0.35 on 200), and the mean ignores the tail (on silero a Conv1d mark with the same mean
 *  as the LSTM's moved a voiced signal 20x more); the RMS weighs large changes more and is steady.
 *  First of all, a mark that moves no output at all sits in a layer the calibration inputs never
 *  run (the 8 kHz branch of silero when they are 16 kHz audio): its effect is unmeasured, not nil,
 *  so it ranks last. */
type FidelityScore = readonly [unmeasured: number, top1Loss: number, rmsChange: number];
const fidelityScore = (f: FidelityReport): FidelityScore => [
  f.outputs.every((x) => x.maxAbsChange === 0) ? 1 : 0,
  1 - (f.top1Agreement ?? 1),
  Math.max(0, ...f.outputs.filter((x) => !x.state).map((x) => x.rmsChange)),
];
const compareScores = (a: FidelityScore, b: FidelityScore) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
const describeScore = (s: FidelityScore) => (s[0] ? 'not run by the calibration inputs' : `${s[1] > 0 ? `top-1 ${((1 - s[1]) * 100).toFixed(1)}%, ` : ''}RMS change ${s[2].toExponential(1)}`);

/** The mark written beside `out` and run against the original on `calibration`; nothing kept. */
function trialFidelity(model: string, out: string, format: ModelFormat, m: PlannedMark, calibration: CalibrationOptions): Promise<FidelityReport> {
  return trialKernel(model, out, format, m.chosen.tensor, m.result.kernel, calibration);
}

/** `kernel` written in place of `tensor` beside `out` and run against the original; nothing kept. */
async function trialKernel(model: string, out: string, format: ModelFormat, tensor: NamedTensor, kernel: Float32Array, calibration: CalibrationOptions): Promise<FidelityReport> {
  const staged = await stageOutput(out);
  try {
    await writeModelTensors(model, staged.path, [tensorFromFloat32(tensor.name, tensor.dtype as 'F32' | 'F16' | 'BF16' | 'F64', tensor.shape, kernel)]);
    return await measureFidelity(model, staged.path, format, calibration);
  } finally {
    await staged.discard();
  }
}

/** For a recurrent layer's input weight: the same mark with its change spread over the gates by their measured effect (gate-weights.ts). */
async function gateSpreadMark(m: PlannedMark, gates: number, x: PlanContext, trial: (t: NamedTensor, k: Float32Array) => Promise<FidelityReport>): Promise<PlannedMark | undefined> {
  const { tensor, layout } = m.chosen;
  const spread = await spreadOverGates(tensorToFloat32(tensor), tensor.shape, layout, gates, m.result.delta, async (k) => fidelityScore(await trial(tensor, k))[2]);
  if (!spread) return undefined;
  const planned = await planMark(m, x, spread.channelWeights);
  const shares = spread.shares.map((v, i) => `${i + 1}: ${(v / gates).toFixed(2)}`).join(', ');
  const reason = `${m.chosen.reason}; its change spread over the ${gates} gates (blocks of rows) by their measured effect (RMS change ${spread.effects.map((e) => e.toExponential(1)).join(', ')} with the whole change on one), shares ${shares}`;
  return { ...planned, gateSpread: true, chosen: { ...planned.chosen, reason } };
}

/** Writes into a temporary folder beside `out`; `commit` moves the result into place. */
async function stageOutput(out: string): Promise<{ path: string; commit: () => Promise<void>; discard: () => Promise<void> }> {
  const dir = await mkdtemp(join(dirname(resolve(out)), '.hallmark-embed-'));
  return {
    path: join(dir, basename(out)),
    async commit() {
      for (const e of await readdir(dir)) await rename(join(dir, e), join(dirname(resolve(out)), e));
      await rm(dir, { recursive: true, force: true });
    },
    discard: () => rm(dir, { recursive: true, force: true }),
  };
}
async function accuracyOf(path: string, format: ModelFormat, onnx: OnnxModelInfo | undefined, data: LabelledImages): Promise<number | undefined> {
  if (format === 'onnx') return onnxAccuracy(path, onnx!, data);
  if (format === 'tfjs-layers') {
    const m = await loadLayersModel(path);
    try {
      return evaluateAccuracy(m, data);
    } finally {
      m.dispose();
    }
  }
  return undefined; // safetensors holds weights, not a graph to run
}

export async function embedTrainingFree(o: EmbedOptions): Promise<EmbedSummary> {
  const started = performance.now();
  const scheme = o.scheme ?? 'weight';
  if (scheme !== 'weight') throw new EmbedError('EMBED_UNSUPPORTED', `--training-free embeds the weight mark only; a ${scheme} mark needs fine-tuning (drop --training-free, with a TF.js model)`);
  if (o.bits !== undefined && (!Number.isSafeInteger(o.bits) || o.bits < 1)) throw new RangeError(`bits must be a positive integer, got ${o.bits}`);
  const target: DetectionTarget = { ...DEFAULT_DETECTION_TARGET, ...(o.detection ?? {}) };
  const actor = o.actor ?? 'hallmark';
  const backendName = 'none (training-free)';
  const emit = (e: Omit<EmbedEvent, 'backend'>) => o.onProgress?.({ ...e, backend: backendName });
  emit({ phase: 'load', message: o.model });
  checkOutputFree(o.out);
  const input = await identifyModelOrThrow(o.model);
  await checkPassphrase(o.home.dir, o.passphrase);
  const onnx = input.format === 'onnx' ? await inspectOnnx(o.model) : undefined;
  const { tensors } = await readModelTensors(o.model);
  const tryable = tensors.filter((t) => FLOAT_DTYPES.includes(t.dtype) && t.shape.length >= 2 && t.shape.length <= 4).length * 2;
  const T = o.bits ?? bitsForTarget(target, tryable);
  const first = chooseTensor(tensors, input.format, T, o.tensor, onnx, await graphDepthwise(o.model, input.format), target);

  let data: DatasetSource | undefined;
  let test: LabelledImages | undefined;
  if (o.dataset !== undefined) {
    const hwc = onnx ? imageInputOf(onnx.input.dims, o.preprocess?.layout) : undefined;
    data = await loadDatasetSource(o.dataset, { ...(o.preprocess ? { preprocess: o.preprocess } : {}), ...(hwc ? { input: hwc } : {}) });
    test = limitImages(data.test, o.testLimit);
  }
  const runnable = RUNNABLE.includes(input.format);
  if (runnable) await tf.ready();
  emit({ phase: 'evaluate', message: test ? `clean accuracy before, on ${data!.testNote}` : 'no dataset: accuracy not measured' });
  const before = test ? await accuracyOf(o.model, input.format, onnx, test) : undefined;

  // The root is the owner's signature over the input id: known before the commitment is appended,
  // so the mark can be planned, written aside and measured first.
  const root = deriveWatermarkRoot(o.ownerSeed, input.id);
  const keys = deriveWatermarkKeys(root, T);
  const calibration: CalibrationOptions = {
    count: o.calibration?.count ?? DEFAULT_CALIBRATION_INPUTS, batch: o.calibration?.batch ?? 32,
    seed: createHash('sha256').update('hallmark/fidelity-inputs/v1').update(root.signature).digest(),
    ...(o.calibration?.fixed ? { fixed: o.calibration.fixed } : {}), ...(o.calibration?.dims ? { dims: o.calibration.dims } : {}),
    ...(o.calibration?.ranges ? { ranges: o.calibration.ranges } : {}),
    ...(o.calibration?.signals ? { signals: o.calibration.signals } : {}), ...(o.calibration?.sampleRate ? { sampleRate: o.calibration.sampleRate } : {}),
    ...(test ? { images: test } : {}),
  };
  const momentOf = (c: Candidate) => (runnable
    ? layerInputMoment(o.model, input.format, c.tensor.name, inputChannels(c.tensor.shape, c.layout), { ...calibration, count: Math.min(64, calibration.count) }).catch(() => undefined)
    : Promise.resolve(undefined));
  const ctx: PlanContext = { model: o.model, format: input.format, keys, target, T, emit };
  let mark = await planMark(await pickRunningTwin(first, momentOf), ctx);
  if (runnable && first.runnersUp.length > 0) {
    // Fidelity first: the prediction ignores how the model uses each layer, so the shortlist's
    // marks are each written aside and run on (up to 128) calibration inputs; the one that moves
    // the answers least is kept.
    const trial = { ...calibration, count: Math.min(128, calibration.count) };
    const scored: { mark: PlannedMark; score: FidelityScore }[] = [];
    const trialOf = (t: NamedTensor, k: Float32Array) => trialKernel(o.model, o.out, input.format, t, k, trial);
    for (const c of [first, ...first.runnersUp]) {
      const m = c === first ? mark : await planMark(await pickRunningTwin(c, momentOf), ctx);
      scored.push({ mark: m, score: fidelityScore(await trialFidelity(o.model, o.out, input.format, m, trial)) });
      const gates = onnx?.gates.get(m.chosen.tensor.name) ?? 0;
      const spread = gates > 1 && scored.at(-1)!.score[0] === 0 ? await gateSpreadMark(m, gates, ctx, trialOf) : undefined;
      if (spread) scored.push({ mark: spread, score: fidelityScore(await trialFidelity(o.model, o.out, input.format, spread, trial)) });
    }
    scored.sort((a, b) => compareScores(a.score, b.score));
    mark = scored[0]!.mark;
    const list = scored.map((x) => `${x.mark.chosen.tensor.name.slice(-40)}${x.mark.gateSpread ? ' spread over its gates' : ''} ${describeScore(x.score)}`).join(', ');
    mark = { ...mark, chosen: { ...mark.chosen, reason: `${mark.chosen.reason}; kept after measuring ${scored.length} shortlisted marks on ${trial.count} calibration inputs (${list})` } };
  }
  const { chosen, projection, margin, result } = mark;
  for (const note of mark.notes) emit({ phase: 'load', message: note });
  emit({ phase: 'load', message: `marking ${chosen.tensor.name} [${chosen.tensor.shape.join('x')}] with ${T} bits: ${chosen.reason}` });
  const moment = mark.moment;
  const dtype = chosen.tensor.dtype as 'F32' | 'F16' | 'BF16' | 'F64';
  const staged = await stageOutput(o.out);
  let fidelity: FidelityReport | undefined;
  try {
    emit({ phase: 'write', message: `${o.out} (staged)` });
    await writeModelTensors(o.model, staged.path, [tensorFromFloat32(chosen.tensor.name, dtype, chosen.tensor.shape, result.kernel)]);
    if (runnable) {
      emit({ phase: 'evaluate', message: `fidelity on ${test ? 'your data' : `${calibration.count} key-derived synthetic inputs`}` });
      fidelity = await measureFidelity(o.model, staged.path, input.format, calibration);
      checkFidelityLimits(fidelity, { minTop1Agreement: DEFAULT_MIN_TOP1_AGREEMENT, ...(o.limits ?? {}) });
    }
  } catch (err) {
    await staged.discard();
    throw err;
  }

  const parameters: JsonObject = {
    derivation: 'hallmark/watermark/v1',
    trainingFree: true,
    weight: { bits: T, tensor: chosen.tensor.name, shape: [...chosen.tensor.shape], layout: chosen.layout, dtype: chosen.tensor.dtype, margin, target: { ...target } },
  };
  const ledger = o.home.ledger;
  const inputIndex = ensureModelRegistered(ledger, input, actor);
  const ds = data ? ensureDatasetRegistered(ledger, data, actor) : undefined;
  let committed;
  try {
    committed = await commitWithSecret({ home: o.home, ownerSeed: o.ownerSeed, model: input.id, scheme, parameters, passphrase: o.passphrase, actor, ...(o.tsa ? { tsa: o.tsa } : {}) });
  } catch (err) {
    await staged.discard();
    throw err;
  }
  emit({ phase: 'commit', message: `watermark.committed at entry ${committed.index}, sealed by checkpoint ${committed.seal.checkpointSize}${committed.seal.timestamp ? ` and an RFC 3161 token of ${committed.seal.timestamp.genTime}` : ''}` });
  await staged.commit();

  // Measure on what was written, as a verifier would (F16/BF16 rounding, re-quantization included).
  const written = (await readModelTensors(o.out)).tensors.find((t) => t.name === chosen.tensor.name)!;
  const w = meanOverOutputChannels(tensorToFloat32(written), written.shape, chosen.layout);
  const cmp = compareBits(keys.bits, extractBits(projection, w));
  const after = test ? await accuracyOf(o.out, input.format, onnx && (await inspectOnnx(o.out)), test) : undefined;
  const fidelityRecord = fidelity ? (JSON.parse(JSON.stringify(fidelity)) as JsonObject) : { measured: false, reason: `${input.format} has no graph to run` };

  const identified = await identifyModel(o.out);
  // The fidelity figures ride on the marked model's descriptor (annotations): the derivation's
  // parameters stay exactly { scheme, parameters, commitment }, which is how verify finds the
  // run that made a commitment live (src/verify/mark-secrets.ts markedModelOf).
  const output = { ...identified, descriptor: { ...identified.descriptor, annotations: { 'hallmark.fidelity': fidelityRecord } } };
  const reg = registerOutput(ledger, {
    output, input: input.id, ...(ds ? { dataset: ds.id } : {}), actor,
    parameters: { scheme, parameters, commitment: committed.commitment },
    startedOn: new Date(Date.now() - (performance.now() - started)), finishedOn: new Date(),
  });
  emit({ phase: 'register', message: `model.registered at entry ${reg.model}, lineage.derived at ${reg.derivation}` });
  return {
    scheme,
    trainingFree: true,
    backend: { name: 'none', detail: runnable ? `no training; fidelity by ${input.format === 'onnx' ? 'onnxruntime-node' : 'TensorFlow.js'}` : 'no training' },
    input: { path: o.model, id: input.id, format: input.format },
    output: { path: o.out, id: output.id, format: output.format },
    ...(data && ds ? { dataset: { name: data.name, id: ds.id, accuracyOn: test === data.test ? data.testNote : `first ${test!.count} of ${data.testNote}` } } : {}),
    weight: {
      layer: chosen.tensor.name, shape: chosen.tensor.shape, layout: chosen.layout, bits: T, bitErrors: cmp.errors, ber: cmp.ber,
      berBefore: result.bitErrorsBefore / T, margin, relativeChange: result.relativeChange, reason: chosen.reason, inputMetric: moment !== undefined,
    },
    ...(fidelity ? { fidelity } : {}),
    ...(before !== undefined ? { cleanAccuracyBefore: before } : {}),
    ...(after !== undefined ? { cleanAccuracyAfter: after } : {}),
    ...(before !== undefined && after !== undefined ? { accuracyDropPoints: (before - after) * 100 } : {}),
    seconds: (performance.now() - started) / 1000,
    commitment: committed.commitment,
    seal: committed.seal,
    secret: { id: committed.secretId, path: committed.secretPath },
    ledger: { inputModel: inputIndex, ...(ds ? { dataset: ds.index } : {}), committed: committed.index, model: reg.model, derivation: reg.derivation },
    ok: cmp.ber === 0,
  };
}
