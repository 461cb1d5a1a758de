// npm run bench:train [-- --reps 3 --steps 20 --cpu-steps 1 --batch 64 --no-cpu --no-torch --optimizer-ab --anchor PATH --json out.json]
// Training throughput (samples/s) of the fixture CNN (batch 64, Adam 1e-3) on every backend this
// machine has: native TensorFlow if installed, WebGPU on an adapter, wasm on one thread and
// data-parallel on all cores, the cpu backend; and, interleaved in the same run, PyTorch on the same
// network (../shared/anchors/torch_cnn_bench.py) at 1 and 2 threads when python3 has torch. Each
// round runs one repetition of every contender in turn, so load changes hit all alike; the table
// gives medians over rounds and the ratio to PyTorch 2-thread in the same run, with load averages.
// --optimizer-ab adds data-parallel wasm with the optimizer applied on the main thread
// (fitModel's optimizerOn: 'main', the path before the workers applied it) as one more contender,
// and the median of the per-round ratios workers / main.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { loadMnist } from '../src/formats/mnist.js';
import { selectBackend, type BackendChoice } from '../src/train/backend.js';
import { fitModel } from '../src/train/fit.js';
import { buildMnistCnn } from '../src/train/mnist-cnn.js';
import { closeTrainingWorkers } from '../src/train/worker-pool.js';
import { flag, machine, printTable, writeJson, type Row } from './util.js';

const reps = Number(flag('reps', '3'));
const steps = Number(flag('steps', '20'));
const cpuSteps = Number(flag('cpu-steps', '1'));
const batchSize = Number(flag('batch', '64'));
const withCpu = !process.argv.includes('--no-cpu');
const withTorch = !process.argv.includes('--no-torch');
const optimizerAb = process.argv.includes('--optimizer-ab');
const anchor = path.resolve(flag('anchor', path.join('..', 'shared', 'anchors', 'torch_cnn_bench.py'))!);
const cores = availableParallelism();
const { train } = await loadMnist({ seed: 0 });

interface Contender {
  readonly name: string;
  detail: string;
  readonly rep: () => Promise<number>;
  readonly samplesPerSecond: number[];
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

async function tfjsContender(choice: BackendChoice, workers: number, stepsPerRep: number, optimizerOn?: 'main'): Promise<Contender | undefined> {
  let detail: string;
  try {
    detail = (await selectBackend(choice)).detail;
  } catch (e) {
    console.log(`skip ${choice}: ${e instanceof Error ? e.message : String(e)}`);
    return undefined;
  }
  const model = buildMnistCnn(1);
  const optimizer = tf.train.adam(0.001);
  let seed = 0;
  const run = async (maxSteps: number) => {
    await tf.setBackend(choice);
    const r = await fitModel({ model, optimizer, data: train, numClasses: 10, epochs: 1, batchSize, seed: seed++, maxSteps, workers, ...(optimizerOn ? { optimizerOn } : {}) });
    return r.samplesPerSecond;
  };
  await run(2); // warm-up: worker start, kernel setup, optimizer slots
  const name = `${choice}${workers > 1 ? ` data-parallel x${workers}` : ' 1 thread'}${optimizerOn ? ', optimizer on main' : ''}`;
  return { name, detail, rep: () => run(stepsPerRep), samplesPerSecond: [] };
}

function torchPython(): string | undefined {
  for (const py of ['/usr/bin/python3', 'python3']) {
    const r = spawnSync(py, ['-c', 'import torch'], { stdio: 'ignore' });
    if (r.status === 0) return py;
  }
  return undefined;
}

function torchContender(py: string, threads: number): Contender {
  const c: Contender = {
    name: `PyTorch ${threads} thread${threads > 1 ? 's' : ''}`,
    detail: '',
    samplesPerSecond: [],
    rep: async () => {
      const r = spawnSync(py, [anchor, '--threads', String(threads), '--reps', '1', '--steps', String(steps), '--batch', String(batchSize), '--json'], {
        encoding: 'utf8',
        env: { ...process.env, OMP_WAIT_POLICY: 'PASSIVE' },
      });
      const line = r.stdout.trim().split('\n').at(-1) ?? '';
      if (r.status !== 0 || !line.startsWith('{')) throw new Error(`torch anchor failed: ${r.stderr.trim().split('\n').at(-1)}`);
      const out = JSON.parse(line) as { impl: string; median: number };
      c.detail = out.impl;
      return out.median;
    },
  };
  return c;
}

const loadBefore = loadavg();
const contenders: Contender[] = [];
for (const [choice, workers, n] of [
  ['tensorflow', 1, steps],
  ['webgpu', 1, steps],
  ['wasm', 1, steps],
  ['wasm', cores, steps],
  ...(withCpu ? [['cpu', cores, cpuSteps]] : []),
] as [BackendChoice, number, number][]) {
  if (choice === 'wasm' && workers === 1 && cores === 1) continue;
  const c = await tfjsContender(choice, workers, n);
  if (c) contenders.push(c);
}
const onMain = optimizerAb && cores > 1 ? await tfjsContender('wasm', cores, steps, 'main') : undefined;
if (onMain) contenders.push(onMain);
const onWorkers = contenders.find((c) => c.name === `wasm data-parallel x${cores}`);
const py = withTorch ? torchPython() : undefined;
if (withTorch && !py) console.log('skip PyTorch: no python3 with torch (apt-get install python3-torch libopenblas0-pthread)');
if (withTorch && py && !existsSync(anchor)) console.log(`skip PyTorch: anchor ${anchor} not found (--anchor PATH)`);
const torch = py && existsSync(anchor) ? [torchContender(py, 1), torchContender(py, 2)] : [];
contenders.push(...torch);

const rounds: { load1: number; ratio?: number }[] = [];
for (let r = 0; r < reps; r++) {
  const line: string[] = [];
  for (const c of contenders) {
    c.samplesPerSecond.push(await c.rep());
    line.push(`${c.name} ${c.samplesPerSecond.at(-1)!.toFixed(0)}`);
  }
  const ours = contenders.filter((c) => !torch.includes(c) && c !== onMain);
  const best = Math.max(...ours.map((c) => c.samplesPerSecond.at(-1)!));
  const t2 = torch[1]?.samplesPerSecond.at(-1);
  rounds.push({ load1: loadavg()[0]!, ...(t2 ? { ratio: best / t2 } : {}) });
  console.log(`round ${r + 1}/${reps} (load ${loadavg()[0]!.toFixed(2)}): ${line.join(', ')}`);
}
await closeTrainingWorkers();
const loadAfter = loadavg();

const ours = contenders.filter((c) => !torch.includes(c) && c !== onMain);
const best = ours.reduce((a, c) => (median(c.samplesPerSecond) > median(a.samplesPerSecond) ? c : a));
const torch2 = torch[1] ? median(torch[1].samplesPerSecond) : undefined;
const rows: Row[] = contenders.map((c) => ({
  metric: `${c.name} samples/s (median of ${reps})`,
  value: median(c.samplesPerSecond).toFixed(0),
  ...(torch2 ? { target: `${(median(c.samplesPerSecond) / torch2).toFixed(2)}x PyTorch 2t` } : {}),
}));
const bestMedian = median(best.samplesPerSecond);
rows.push({ metric: `best: ${best.name} samples/s`, value: bestMedian.toFixed(0), target: '>= 3000', met: bestMedian >= 3000 });
if (torch2) {
  const pairRatio = median(rounds.map((r) => r.ratio!));
  rows.push({ metric: 'best / PyTorch 2 threads (median of per-round ratios)', value: `${pairRatio.toFixed(2)}x`, target: '>= 1.0x', met: pairRatio >= 1 });
}
if (onMain && onWorkers) {
  const ab = median(onWorkers.samplesPerSecond.map((x, i) => x / onMain.samplesPerSecond[i]!));
  rows.push({ metric: 'optimizer in the workers / on the main thread (median of per-round ratios)', value: `${ab.toFixed(3)}x` });
}
rows.push({ metric: 'load average before / after (1 min)', value: `${loadBefore[0]!.toFixed(2)} / ${loadAfter[0]!.toFixed(2)}` });
printTable(`Training throughput, fixture CNN conv16-pool-conv32-pool-dense64-dense10, batch ${batchSize}, ${steps} steps per repetition, ${cores} cores`, rows);
for (const c of contenders) console.log(`${c.name}: ${c.detail}`);
writeJson({
  batchSize, reps, steps, cores, loadBefore, loadAfter, rounds,
  results: contenders.map((c) => ({ name: c.name, detail: c.detail, samplesPerSecond: c.samplesPerSecond, median: median(c.samplesPerSecond) })),
  best: best.name, ratioBestOverTorch2: torch2 ? median(rounds.map((r) => r.ratio!)) : null, machine: machine(),
});
process.exit(0);
