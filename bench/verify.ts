// npm run bench:verify [-- --reps 5 --json out.json]
// Verification speed:
//  1. white-box: a ~100 MB ONNX model (MLP 1568-64-4096-4096-2048-10 made with TF.js and
//     converted by `hallmark model convert`'s converter; its [1568, 64] kernel carries a 256-bit
//     training-free mark) read from disk, every candidate tensor searched, bits extracted, p-value;
//  2. black-box: the 100 triggers of a mark through onnxruntime-node on the fixture (ONNX), and
//     through a loopback HTTP server speaking OIP v2 and TF Serving (test/helpers/inference-server.ts;
//     25 triggers per request, 4 in flight).
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { deriveWatermarkKeys, deriveWatermarkRoot, embedWeightMarkTrainingFree, generateProjection, suggestMargin } from '../src/core/index.js';
import { convertTfjsToOnnx } from '../src/formats/convert-tfjs-to-onnx.js';
import { readModelTensors, saveLayersModel, tensorFromFloat32, tensorToFloat32, writeModelTensors } from '../src/formats/index.js';
import { selectBackend } from '../src/train/backend.js';
import { buildTriggerSet, verifyTriggerMark } from '../src/verify/black-box.js';
import { openOnnxClassifier } from '../src/verify/local-classifiers.js';
import { openRemoteClassifier } from '../src/verify/remote-classifier.js';
import { verifyWeightMark } from '../src/verify/white-box.js';
import { startInferenceServer } from '../test/helpers/inference-server.js';
import { flag, machine, now, printTable, summarize, writeJson, type Row } from './util.js';

const REPO = resolve(fileURLToPath(import.meta.url), '../../..');
const FIXTURE = join(REPO, 'fixtures', 'mnist-cnn');
const reps = Number(flag('reps', '5'));
const dir = mkdtempSync(join(tmpdir(), 'hallmark-bench-verify-'));
const load = { before: loadavg() };
const keys = deriveWatermarkKeys(deriveWatermarkRoot(new Uint8Array(32).fill(42), 'model:bench-verify'), 256);

async function time<T>(fn: () => Promise<T>): Promise<{ ms: number[]; last: T }> {
  const ms: number[] = [];
  let last!: T;
  for (let i = 0; i < reps; i++) {
    const t = now();
    last = await fn();
    ms.push(now() - t);
  }
  return { ms, last };
}

try {
  await selectBackend('wasm');
  // 1. The 100 MB ONNX model.
  const mlp = tf.sequential({
    layers: [
      tf.layers.dense({ inputShape: [1568], units: 64, activation: 'relu', name: 'marked' }),
      tf.layers.dense({ units: 4096, activation: 'relu' }),
      tf.layers.dense({ units: 4096, activation: 'relu' }),
      tf.layers.dense({ units: 2048, activation: 'relu' }),
      tf.layers.dense({ units: 10, activation: 'softmax' }),
    ],
  });
  await saveLayersModel(mlp, join(dir, 'mlp'));
  mlp.dispose();
  const big = join(dir, 'big.onnx');
  writeFileSync(big, await convertTfjsToOnnx(join(dir, 'mlp')));
  const kernel = (await readModelTensors(big)).tensors.find((t) => t.shape.length === 2 && t.shape[0] === 1568)!;
  const values = tensorToFloat32(kernel);
  const projection = generateProjection(keys.projectionSeed, 256, 1568);
  const marked = embedWeightMarkTrainingFree({ kernel: values, shape: kernel.shape, layout: 'IO', projection, bits: keys.bits, margin: suggestMargin(values, kernel.shape, 'IO', 0.5) });
  const bigMarked = join(dir, 'big-marked.onnx');
  await writeModelTensors(big, bigMarked, [tensorFromFloat32(kernel.name, 'F32', kernel.shape, marked.kernel)]);
  const bytes = statSync(bigMarked).size;
  const white = await time(async () => verifyWeightMark((await readModelTensors(bigMarked)).tensors, { bits: keys.bits, projectionSeed: keys.projectionSeed, features: 1568 }));
  if (white.last.best.matches !== 256) throw new Error(`the big model reads ${white.last.best.matches}/256 bits`);

  // 2. Black-box, 100 triggers.
  const trigger = { imageSeed: keys.triggerImageSeed, labelSeed: keys.triggerLabelSeed, n: 100, classes: 10, height: 28, width: 28, channels: 1 };
  buildTriggerSet(trigger);
  const onnx = join(dir, 'fixture.onnx');
  writeFileSync(onnx, await convertTfjsToOnnx(FIXTURE));
  const local = await time(async () => {
    const c = await openOnnxClassifier(onnx);
    try {
      return await verifyTriggerMark(c, trigger);
    } finally {
      await c.close();
    }
  });
  const server = await startInferenceServer(onnx, 'mnist');
  const remote: Record<string, Awaited<ReturnType<typeof time>>> = {};
  try {
    for (const protocol of ['oip-v2', 'tfserving'] as const) {
      remote[protocol] = await time(async () => verifyTriggerMark(await openRemoteClassifier({ url: server.url, protocol, modelName: 'mnist', batchSize: 25 }, { concurrency: 4 }), trigger));
    }
  } finally {
    await server.close();
  }

  const med = (ms: number[]) => summarize(ms).median;
  const rows: Row[] = [
    { metric: `white-box: ${(bytes / 1e6).toFixed(1)} MB ONNX read + search + 256-bit extraction (median of ${reps})`, value: `${med(white.ms).toFixed(0)} ms`, target: 'measured' },
    { metric: `  candidates searched / bits matching`, value: `${white.last.candidates} / ${white.last.best.matches}` },
    { metric: 'black-box: 100 triggers, onnxruntime-node on the fixture (load + run)', value: `${med(local.ms).toFixed(0)} ms`, target: 'measured' },
    { metric: 'black-box: 100 triggers, loopback OIP v2 (metadata + 4 requests)', value: `${med(remote['oip-v2']!.ms).toFixed(0)} ms`, target: 'measured' },
    { metric: 'black-box: 100 triggers, loopback TF Serving (4 requests)', value: `${med(remote.tfserving!.ms).toFixed(0)} ms`, target: 'measured' },
  ];
  printTable('bench:verify', rows);
  console.log(`\nload average before ${load.before.map((x) => x.toFixed(2)).join(' ')}, after ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  writeJson({
    machine: machine(), reps, load: { before: load.before, after: loadavg() },
    whiteBox: { bytes, ms: white.ms, candidates: white.last.candidates, matches: white.last.best.matches },
    blackBox: { localOnnxMs: local.ms, oipV2Ms: remote['oip-v2']!.ms, tfservingMs: remote.tfserving!.ms },
  });
} finally {
  rmSync(dir, { recursive: true, force: true });
}
