// npm run bench:train [-- --reps 5 --steps 10 --cpu-steps 1 --batch 64 --json out.json]
// Training throughput (samples/s) of the fixture CNN on each backend this machine has (native
// TensorFlow if installed, wasm with our Conv2DBackpropFilter kernel, cpu), median over
// repetitions after one warm-up step, and the ratio wasm / cpu. The cpu backend is slow, so it
// runs fewer steps per repetition.
import * as tf from '@tensorflow/tfjs';
import { loadMnist } from '../src/formats/mnist.js';
import { selectBackend, type BackendChoice } from '../src/train/backend.js';
import { fitModel } from '../src/train/fit.js';
import { buildMnistCnn } from '../src/train/mnist-cnn.js';
import { flag, machine, printTable, writeJson, type Row } from './util.js';

const reps = Number(flag('reps', '5'));
const steps = Number(flag('steps', '10'));
const cpuSteps = Number(flag('cpu-steps', '1'));
const batchSize = Number(flag('batch', '64'));
const { train } = await loadMnist({ seed: 0 });

interface Measured {
  backend: string;
  detail: string;
  stepsPerRep: number;
  samplesPerSecond: number[];
  median: number;
}

async function measure(choice: BackendChoice, stepsPerRep: number): Promise<Measured | undefined> {
  let detail: string;
  try {
    detail = (await selectBackend(choice)).detail;
  } catch (e) {
    console.log(`skip ${choice}: ${e instanceof Error ? e.message : String(e)}`);
    return undefined;
  }
  const model = buildMnistCnn(1);
  const optimizer = tf.train.adam(0.001);
  const run = (maxSteps: number, seed: number) =>
    fitModel({ model, optimizer, data: train, numClasses: 10, epochs: 1, batchSize, seed, maxSteps });
  await run(1, 0); // warm-up: kernel setup, optimizer slots
  const samplesPerSecond: number[] = [];
  for (let r = 0; r < reps; r++) {
    samplesPerSecond.push((await run(stepsPerRep, r + 1)).samplesPerSecond);
    console.log(`  ${choice} rep ${r + 1}/${reps}: ${samplesPerSecond.at(-1)!.toFixed(1)} samples/s`);
  }
  model.dispose();
  optimizer.dispose();
  const sorted = [...samplesPerSecond].sort((a, b) => a - b);
  return { backend: choice, detail, stepsPerRep, samplesPerSecond, median: sorted[Math.floor(sorted.length / 2)]! };
}

const results: Measured[] = [];
for (const [choice, n] of [['tensorflow', steps], ['wasm', steps], ['cpu', cpuSteps]] as const) {
  const m = await measure(choice, n);
  if (m) results.push(m);
}

const wasm = results.find((r) => r.backend === 'wasm');
const cpu = results.find((r) => r.backend === 'cpu');
const ratio = wasm && cpu ? wasm.median / cpu.median : undefined;
const rows: Row[] = results.map((r) => ({
  metric: `${r.backend} samples/s (median of ${reps} x ${r.stepsPerRep} steps of ${batchSize})`,
  value: r.median.toFixed(1),
}));
if (ratio !== undefined) rows.push({ metric: 'ratio wasm / cpu', value: `${ratio.toFixed(1)}x`, target: '> 1', met: ratio > 1 });
printTable('Training throughput, fixture CNN conv16-pool-conv32-pool-dense64-dense10 on mnist', rows);
for (const r of results) console.log(`${r.backend}: ${r.detail}`);
writeJson({ batchSize, reps, results, ratioWasmOverCpu: ratio ?? null, machine: machine() });
