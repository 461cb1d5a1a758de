// npm run bench:embed [-- --seeds 3 --epochs 2 --backend wasm --lr 5e-4 --settle 50 --steps 10 --cpu-steps 2 --no-throughput --json out.json]
// Embedding both marks in fixtures/mnist-cnn, once per key (seed i gives the owner seed
// SHA-256("hallmark/bench/embed/<i>"), so each run has its own root, projection, bits and
// triggers, and the figures can be reproduced): clean accuracy drop on the 2,000 mnist test
// images, BER and trigger accuracy of the marked model, embedding time. Then samples/s of the
// same fine-tuning (regulariser + 50 triggers per batch) on every backend this machine has, a
// few batches each (cpu is very slow), and the ratio wasm / cpu.
import { sha256 } from '@noble/hashes/sha2.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { embedWatermark, type EmbedSummary } from '../src/embed/index.js';
import { initHome, openHome } from '../src/home/index.js';
import type { BackendChoice } from '../src/train/backend.js';
import { flag, machine, printTable, writeJson, type Row } from './util.js';

const REPO = resolve(fileURLToPath(import.meta.url), '../../..');
const FIXTURE = join(REPO, 'fixtures', 'mnist-cnn');
const seeds = Number(flag('seeds', '3'));
const epochs = Number(flag('epochs', '4'));
const backend = flag('backend', 'wasm') as BackendChoice;
const steps = Number(flag('steps', '10'));
const cpuSteps = Number(flag('cpu-steps', '2'));
const lr = flag('lr');
const settle = flag('settle');
const perBatch = flag('triggers-per-batch');
const skipThroughput = process.argv.includes('--no-throughput');
const batchSize = 64;

async function run(i: number, o: { backend: BackendChoice; epochs: number; trainLimit?: number; testLimit?: number; minSteps?: number; settleSteps?: number; learningRate?: number; triggersPerBatch?: number }): Promise<EmbedSummary> {
  const dir = mkdtempSync(join(tmpdir(), 'hallmark-bench-embed-'));
  initHome(dir);
  const home = openHome(dir);
  try {
    return await embedWatermark({
      home: { dir, ledger: home.ledger, ownerVerifierKey: home.ownerVerifierKey },
      ownerSeed: sha256(new TextEncoder().encode(`hallmark/bench/embed/${i}`)),
      model: FIXTURE, out: join(dir, 'marked'), dataset: 'mnist', scheme: 'both', passphrase: 'bench', batchSize, ...o,
    });
  } finally {
    home.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const stats = (xs: number[]) => {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const sd = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, xs.length - 1));
  return { mean, sd, min: Math.min(...xs), max: Math.max(...xs) };
};
const fmt = (s: ReturnType<typeof stats>, d = 2) => `${s.mean.toFixed(d)} ± ${s.sd.toFixed(d)} (${s.min.toFixed(d)}..${s.max.toFixed(d)})`;

const load: { before: number[]; after?: number[] } = { before: loadavg() };
const runs: EmbedSummary[] = [];
for (let i = 0; i < seeds; i++) {
  const s = await run(i, { backend, epochs, ...(lr ? { learningRate: Number(lr) } : {}), ...(settle ? { settleSteps: Number(settle) } : {}), ...(perBatch ? { triggersPerBatch: Number(perBatch) } : {}) });
  runs.push(s);
  console.log(`seed ${i}: accuracy ${(s.cleanAccuracyBefore! * 100).toFixed(2)}% -> ${(s.cleanAccuracyAfter! * 100).toFixed(2)}%, BER ${s.weight!.ber}, triggers ${(s.trigger!.accuracy * 100).toFixed(0)}%, ${s.training!.steps} steps, ${s.seconds.toFixed(1)} s (${s.backend.detail})`);
}

const throughput: { backend: string; detail: string; steps: number; samplesPerSecond: number }[] = [];
for (const [choice, n] of skipThroughput ? [] : ([['tensorflow', steps], ['wasm', steps], ['cpu', cpuSteps]] as const)) {
  try {
    // No early stop (minSteps above the run), a tiny test set: only the training rate counts.
    const s = await run(100, { backend: choice, epochs: 1, trainLimit: n * batchSize, testLimit: 50, minSteps: n + 1, settleSteps: 0 });
    throughput.push({ backend: s.backend.name, detail: s.backend.detail, steps: s.training!.steps, samplesPerSecond: s.training!.samplesPerSecond });
    console.log(`${choice}: ${s.training!.samplesPerSecond.toFixed(1)} samples/s over ${s.training!.steps} batches (${s.backend.detail})`);
  } catch (e) {
    console.log(`skip ${choice}: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`);
  }
}
load.after = loadavg();

const drop = stats(runs.map((r) => r.accuracyDropPoints!));
const ber = stats(runs.map((r) => r.weight!.ber));
const trig = stats(runs.map((r) => r.trigger!.accuracy * 100));
const secs = stats(runs.map((r) => r.seconds));
const stepsS = stats(runs.map((r) => r.training!.steps));
const wasm = throughput.find((t) => t.backend === 'wasm');
const cpu = throughput.find((t) => t.backend === 'cpu');
const ratio = wasm && cpu ? wasm.samplesPerSecond / cpu.samplesPerSecond : undefined;
const rows: Row[] = [
  { metric: `clean accuracy before (%)`, value: fmt(stats(runs.map((r) => r.cleanAccuracyBefore! * 100))) },
  { metric: `clean accuracy after (%)`, value: fmt(stats(runs.map((r) => r.cleanAccuracyAfter! * 100))) },
  { metric: 'accuracy drop (points)', value: fmt(drop), target: '<= 0.5', met: drop.max <= 0.5 },
  { metric: 'BER (256 bits, dense1)', value: fmt(ber, 4), target: '0', met: ber.max === 0 },
  { metric: 'trigger accuracy (%, N = 100)', value: fmt(trig, 1), target: '>= 99', met: trig.min >= 99 },
  // Issue 17: 3x shorter than the 39-55 s per key measured before it (a range over keys): the mean
  // against the low end, every key against the high end. The first key of a process also pays its
  // one-off start (worker threads, wasm tier-up, dataset decoding), about 2 s here.
  { metric: 'embedding time per key (s, whole run)', value: fmt(secs, 1), target: '<= 13.0 mean, <= 18.3 each (39-55 s / 3)', met: secs.mean <= 13 && secs.max <= 55 / 3 },
  { metric: 'fine-tuning steps (early stop)', value: fmt(stepsS, 0) },
  ...throughput.map((t) => ({ metric: `${t.backend} fine-tuning samples/s (${t.steps} batches)`, value: t.samplesPerSecond.toFixed(1) })),
  ...(ratio !== undefined ? [{ metric: 'ratio wasm / cpu', value: `${ratio.toFixed(1)}x` }] : []),
];
printTable(`Embedding both marks in fixtures/mnist-cnn, ${seeds} keys, ${backend}, <= ${epochs} epochs (load ${load.before.map((l) => l.toFixed(2)).join(' ')} before, ${(load.after ?? []).map((l) => l.toFixed(2)).join(' ')} after)`, rows);
writeJson({
  seeds, epochs, backend, batchSize,
  runs: runs.map((r) => ({ backend: r.backend, cleanAccuracyBefore: r.cleanAccuracyBefore, cleanAccuracyAfter: r.cleanAccuracyAfter, accuracyDropPoints: r.accuracyDropPoints, weight: r.weight, trigger: r.trigger, training: r.training, seconds: r.seconds })),
  summary: { drop, ber, triggerAccuracy: trig, seconds: secs, steps: stepsS },
  throughput, ratioWasmOverCpu: ratio ?? null, loadavg: load, machine: machine(),
});
