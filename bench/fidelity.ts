// bench:fidelity: the training-free mark on every real model in fixtures/real (from npm packages),
// as a user runs it: embed with defaults (bits and margin from the detection target), fidelity on
// key-derived synthetic inputs, then white-box detection of the written file and of copies
// attacked by int8 quantization, F16 casting and 1% Gaussian weight noise (every float weight).
// Flags: --inputs N (default 1000), --only NAME, --keys K (each model marked under K fresh owner
// keys, one row each: the bits, so the change, depend on the key), --json FILE.
import { sha256 } from '@noble/hashes/sha2.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createPrng } from '../src/core/index.js';
import { embedWatermark, type EmbedOptions, type EmbedSummary } from '../src/embed/index.js';
import { f16BitsToF32, f32ToF16Bits, readModelTensors, tensorFromFloat32, tensorToFloat32, writeModelTensors, type NamedTensor } from '../src/formats/index.js';
import { parseSignerKey } from '../src/evidence/owner-key.js';
import { homeTrust, initHome, openHome } from '../src/home/index.js';
import { loadMark } from '../src/verify/mark-secrets.js';
import { verifyWeightMark } from '../src/verify/white-box.js';
import { flag, machine, printTable, writeJson, type Row } from './util.js';

const REPO = resolve(fileURLToPath(import.meta.url), '../../..');
const REAL = join(REPO, 'fixtures/real');
const PASS = 'bench-fidelity-passphrase';

/** silero VAD v5 at 16 kHz: one 512-sample chunk of key-derived synthetic audio (src/fidelity/synthetic-audio.ts), the LSTM state of a stream's start (zeros, as its reset_states()), sr 16000. */
const SILERO_CALIBRATION = { batch: 1, fixed: { sr: 16000, state: 0 }, dims: { input: [1, 512], state: [2, 1, 128] }, signals: { input: 'audio' as const } };

interface Case {
  name: string;
  path: string;
  kind: string;
  calibration?: EmbedOptions['calibration'];
}

const CASES: Case[] = [
  { name: 'silero-vad-v5', path: join(REAL, 'silero-vad-v5/silero_vad_v5.onnx'), kind: 'ONNX, Constants in If', calibration: SILERO_CALIBRATION },
  { name: 'human-emotion', path: join(REAL, 'human-emotion/emotion.json'), kind: 'TF.js Graph' },
  { name: 'human-antispoof', path: join(REAL, 'human-antispoof/antispoof.json'), kind: 'TF.js Graph, float16' },
  { name: 'nsfwjs-mobilenet-v2', path: join(REAL, 'nsfwjs-mobilenet-v2/model.json'), kind: 'TF.js Layers, uint8' },
  { name: 'faceapi-expression', path: join(REAL, 'faceapi-expression/face_expression_model-weights_manifest.json'), kind: 'TF.js weights, uint8' },
];

const isFloat = (t: NamedTensor) => ['F32', 'F16', 'BF16'].includes(t.dtype) && t.shape.length >= 2;
const floatDtype = (t: NamedTensor) => t.dtype as 'F32' | 'F16' | 'BF16';

function attack(kind: 'int8' | 'f16' | 'noise', t: NamedTensor): NamedTensor {
  const v = tensorToFloat32(t);
  if (kind === 'int8') {
    const s = v.reduce((m, x) => Math.max(m, Math.abs(x)), 0) / 127 || 1;
    for (let i = 0; i < v.length; i++) v[i] = Math.round(v[i]! / s) * s;
  } else if (kind === 'f16') {
    for (let i = 0; i < v.length; i++) v[i] = f16BitsToF32(f32ToF16Bits(v[i]!));
  } else {
    const rms = Math.sqrt(v.reduce((a, x) => a + x * x, 0) / v.length);
    const g = new Float32Array(v.length);
    createPrng(sha256(new TextEncoder().encode(`bench/noise/${t.name}`))).fillGaussian(g);
    for (let i = 0; i < v.length; i++) v[i] = v[i]! + 0.01 * rms * g[i]!;
  }
  return tensorFromFloat32(t.name, floatDtype(t), t.shape, v);
}

async function runCase(c: Case, inputs: number, dir: string) {
  initHome(join(dir, 'home'));
  const home = openHome(join(dir, 'home'));
  try {
    const out = join(dir, c.path.endsWith('.onnx') ? 'marked.onnx' : 'marked');
    const t0 = performance.now();
    const s: EmbedSummary = await embedWatermark({
      home: { dir: join(dir, 'home'), ledger: home.ledger, ownerVerifierKey: home.ownerVerifierKey },
      ownerSeed: parseSignerKey(home.readOwnerSignerKey()).seed, // the home's owner key signs the commitment
      model: c.path, out, scheme: 'weight', trainingFree: true, passphrase: PASS,
      calibration: { ...(c.calibration ?? {}), count: inputs }, limits: { minTop1Agreement: 0 },
    });
    const seconds = (performance.now() - t0) / 1000;
    const mark = await loadMark({ dir: join(dir, 'home'), ledger: home.ledger }, PASS, s.ledger.committed, homeTrust(home));
    const key = mark.weight!;
    const written = (await readModelTensors(out)).tensors;
    const detect = (ts: NamedTensor[]) => verifyWeightMark(ts, key);
    const clean = detect(written);
    const attacked: Record<string, { log10p: number; ber: number }> = {};
    for (const kind of ['int8', 'f16', 'noise'] as const) {
      const a = join(dir, `attacked-${kind}${c.path.endsWith('.onnx') ? '.onnx' : ''}`);
      await writeModelTensors(out, a, written.filter((t) => isFloat(t) && !/DequantizeLinear/.test(t.name)).map((t) => attack(kind, t)));
      const r = detect((await readModelTensors(a)).tensors);
      attacked[kind] = { log10p: r.log10CorrectedPValue, ber: r.best.ber };
    }
    return { s, seconds, clean: { log10p: clean.log10CorrectedPValue, ber: clean.best.ber }, attacked };
  } finally {
    home.close();
  }
}

/** The outputs that are answers: recurrent states handed back (silero's stateN) aside. */
const answers = (f: NonNullable<EmbedSummary['fidelity']>) => f.outputs.filter((o) => !o.state);

async function main() {
  const inputs = Number(flag('inputs', '1000'));
  const only = flag('only');
  const rows: Row[] = [];
  const results: Record<string, unknown>[] = [];
  const table: string[] = ['| model | format | tensor (bits) | rel. change | inputs | top-1 agree | max abs change (answers) | mean abs change | log10 p clean | int8 | F16 | 1% noise | s |', '|---|---|---|---|---|---|---|---|---|---|---|---|---|'];
  const keys = Number(flag('keys', '1'));
  const runs = CASES.filter((x) => !only || x.name === only).flatMap((c) => Array.from({ length: keys }, (_, k) => (keys > 1 ? { ...c, name: `${c.name} #${k + 1}` } : c)));
  for (const c of runs) {
    const dir = mkdtempSync(join(tmpdir(), `bench-fidelity-${c.name.replace(/\W+/g, '-')}-`));
    try {
      let r;
      try {
        r = await runCase(c, inputs, dir);
      } catch (err) {
        const code = (err as { code?: string }).code ?? 'ERROR';
        table.push(`| ${c.name} | ${c.kind} | not marked: ${code}: ${(err as Error).message.slice(0, 160)} |||||||||||`);
        rows.push({ metric: `${c.name}: marked`, value: code, target: 'marked', met: false });
        results.push({ name: c.name, kind: c.kind, error: { code, message: (err as Error).message } });
        continue;
      }
      const f = r.s.fidelity;
      const p = (x: { log10p: number; ber: number }) => `${x.log10p.toFixed(1)} (BER ${x.ber.toFixed(2)})`;
      table.push(`| ${c.name} | ${c.kind} | ${r.s.weight!.layer.slice(-40)} [${r.s.weight!.shape.join('x')}] (${r.s.weight!.bits}) | ${(r.s.weight!.relativeChange! * 100).toFixed(2)}% | ${f ? `${f.inputs} ${f.source}` : 'n/a (no graph)'} | ${f?.top1Agreement !== undefined ? `${(f.top1Agreement * 100).toFixed(2)}%` : 'n/a'} | ${f ? Math.max(...answers(f).map((o) => o.maxAbsChange)).toExponential(2) : 'n/a'} | ${f ? Math.max(...answers(f).map((o) => o.meanAbsChange)).toExponential(2) : 'n/a'} | ${p(r.clean)} | ${p(r.attacked.int8!)} | ${p(r.attacked.f16!)} | ${p(r.attacked.noise!)} | ${r.seconds.toFixed(0)} |`);
      if (f?.top1Agreement !== undefined) rows.push({ metric: `${c.name}: top-1 agreement`, value: `${(f.top1Agreement * 100).toFixed(2)}%`, target: '>= 99.9%', met: f.top1Agreement >= 0.999 });
      const probs = f ? answers(f) : [];
      if (probs.length) {
        const m = Math.max(...probs.map((o) => o.maxAbsChange));
        rows.push({ metric: `${c.name}: max abs probability change`, value: m.toExponential(2), target: '<= 0.01', met: m <= 0.01 });
      }
      rows.push({ metric: `${c.name}: bits lost on its own write (${r.s.weight!.margin !== undefined ? `margin ${r.s.weight!.margin.toExponential(2)}` : ''})`, value: `${r.s.weight!.bitErrors} of ${r.s.weight!.bits}`, target: '0', met: r.s.weight!.bitErrors === 0 });
      const worst = Math.max(r.clean.log10p, ...Object.values(r.attacked).map((a) => a.log10p));
      rows.push({ metric: `${c.name}: worst log10 p (clean, int8, F16, noise)`, value: worst.toFixed(1), target: '< -6', met: worst < -6 });
      results.push({ name: c.name, kind: c.kind, weight: r.s.weight, fidelity: f, clean: r.clean, attacked: r.attacked, seconds: r.seconds });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  console.log(`\nbench:fidelity (training-free mark, defaults; ${inputs} key-derived synthetic inputs per model; load average ${loadavg().map((x) => x.toFixed(2)).join(' ')})\n`);
  console.log(table.join('\n'));
  printTable('targets', rows);
  writeJson({ machine: machine(), inputs, results, rows });
}

await main();
