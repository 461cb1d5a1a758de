// npm run bench:extraction [-- --seeds 3 --queries 4000 --data mnist-t10k --epochs 5,20,40 --synthetic 2000 --models 5 --mark-rate 0.005 --json out.json]
// The guard against a thief who distils the served model from its answers. Per seed s: a fresh
// home, the fixture (converted to ONNX) behind `startGuard` on loopback with the default 0.5%
// mark rate, and three API clients:
//   honest     sends the 2,000 mnist test digits once (altered answers and monitor alerts counted);
//   thief      `attack extract --data D`: N natural queries, student trained E epochs. D is
//              `mnist-t10k` by default: N distinct digits of MNIST's own test set, none of which
//              is in the owner's data; `--data mnist` is the built-in test digits 0..999 and
//              shifted copies (the owner trained on the train split only). One student per
//              entry of --epochs, all from the same answers (the guard answers a repeated query
//              the same way); the thief keeps its most accurate one, and that one is the target.
//              Its twin (--twins 0 skips it; mnist-t10k only) is an innocent model with the kept
//              student's exact recipe (seed, the same digits in the same order, epochs) trained on
//              the digits' true labels, never the guard's answers: it must not be claimed;
//   synthetic  `attack extract --data synthetic`: Jacobian augmentation from 100 seeds, up to
//              --synthetic queries; when the monitor flagged it.
// Then the guard commits, K independently trained models calibrate the thief's set
// (guard.calibrated), and the student is verified as `verify --guard-client` does.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openApiDb } from '../src/api/api-db.js';
import { openKeyStore } from '../src/api/keys.js';
import * as tf from '@tensorflow/tfjs';
import { extractModel, naturalQueries } from '../src/attacks/index.js';
import { loadMnistT10k } from '../src/formats/mnist-idx.js';
import { saveLayersModel } from '../src/formats/index.js';
import { evaluateAccuracy } from '../src/train/evaluate.js';
import { fitModel } from '../src/train/fit.js';
import { buildMnistCnn } from '../src/train/mnist-cnn.js';
import { convertTfjsToOnnx } from '../src/formats/convert-tfjs-to-onnx.js';
import { loadMnist } from '../src/formats/mnist.js';
import { appendGuardCalibration, loadCommittedSets, measureGuardNull, startGuard, verifyGuardMarks } from '../src/guard/index.js';
import { homeTrust, initHome, openHome, ownerRecordSigner } from '../src/home/index.js';
import { selectBackend } from '../src/train/backend.js';
import { openOnnxClassifier, openTfjsClassifier } from '../src/verify/index.js';
import { flag, machine, printTable, writeJson } from './util.js';

const REPO = resolve(fileURLToPath(import.meta.url), '../../..');
const seeds = Number(flag('seeds', '3'));
/** The thief's student seeds are 100 + s: seed 1 would start from the fixture's own initial weights. */
const STUDENT_SEED_BASE = 100;
const queries = Number(flag('queries', '4000'));
const data = flag('data', 'mnist-t10k') ?? 'mnist-t10k';
/** Student training lengths to try, from the same answers: a thief stops early or trains to convergence. */
const epochsList = (flag('epochs', '5,20,40') ?? '5,20,40').split(',').map(Number);
if (epochsList.some((e) => !Number.isSafeInteger(e) || e < 1)) throw new RangeError('--epochs: a comma-separated list of positive integers');
const epochs = epochsList[0]!;
const syntheticQueries = Number(flag('synthetic', '2000'));
const models = Number(flag('models', '5'));
const withTwins = flag('twins', '1') !== '0' && data === 'mnist-t10k';
const markRate = Number(flag('mark-rate', '0.005'));
const PASS = 'bench';
const ALPHA = 1e-6;

await selectBackend('wasm');
const mnist = await loadMnist({ seed: 0 });
const work = mkdtempSync(join(tmpdir(), 'hallmark-bench-extraction-'));
const onnx = join(work, 'fixture.onnx');
writeFileSync(onnx, await convertTfjsToOnnx(join(REPO, 'fixtures', 'mnist-cnn')));
const direct = await openOnnxClassifier(onnx);
const directTest = await direct.classify(mnist.test.images, 2000, [28, 28, 1]);
await direct.close();

/** One retry on a reset connection (a keep-alive socket closed under us on a loaded machine). */
async function fetchRetry(url: string, init: RequestInit): Promise<Response> {
  try {
    return await fetch(url, init);
  } catch {
    return fetch(url, init);
  }
}

const rows: Record<string, unknown>[] = [];
const started = performance.now();
for (let s = 1; s <= seeds; s++) {
  const dir = join(work, `home-${s}`);
  initHome(dir);
  const db = openApiDb(dir);
  const keys = openKeyStore(db);
  const honest = keys.create({ role: 'client', name: 'honest' });
  const thief = keys.create({ role: 'client', name: 'thief' });
  const synth = keys.create({ role: 'client', name: 'synthetic' });
  db.close();
  const alerts: string[] = [];
  const guard = await startGuard({ homeDir: dir, passphrase: PASS, model: onnx, modelName: 'mnist', port: 0, commitEverySeconds: 3600, markRate, log: (level, event, f) => { if (level === 'alert') alerts.push(String(f?.client)); void event; } });
  // Honest client: the 2,000 test digits.
  let honestAltered = 0;
  for (let from = 0; from < 2000; from += 100) {
    const res = await fetchRetry(`${guard.url}/v2/models/mnist/infer`, { method: 'POST', headers: { authorization: `Bearer ${honest.secret}` }, body: JSON.stringify({ inputs: [{ name: guard.runner.inputName, shape: [100, 28, 28, 1], datatype: 'FP32', data: Array.from(mnist.test.images.subarray(from * 784, (from + 100) * 784)) }] }) });
    const out = ((await res.json()) as { outputs: { data: number[] }[] }).outputs[0]!.data;
    for (let i = 0; i < 100; i++) {
      const row = out.slice(i * 10, i * 10 + 10);
      if (row.indexOf(Math.max(...row)) !== directTest[from + i]) honestAltered++;
    }
  }
  const honestAlerts = alerts.filter((c) => c === honest.key.id).length;
  // Natural extraction: one student per training length, from the same answers.
  const nats = [];
  for (const e of epochsList) {
    const out = join(work, `student-${s}-${e}`);
    nats.push({ epochs: e, out, r: await extractModel({ endpoint: `${guard.url}/v2/models/mnist`, key: thief.secret, queries, data, epochs: e, seed: STUDENT_SEED_BASE + s, out }) });
  }
  // Synthetic extraction, watched by the monitor.
  // --synthetic 0 skips it (the monitor's figure then comes from an earlier run).
  const syn = syntheticQueries > 0 ? await extractModel({ endpoint: `${guard.url}/v2/models/mnist`, key: synth.secret, queries: syntheticQueries, data: 'synthetic', epochs, seed: STUDENT_SEED_BASE + s }) : { queries: 0, studentAccuracy: Number.NaN };
  await guard.flush();
  await guard.close();
  const home = openHome(dir);
  const suspected = home.ledger.list({ type: 'extraction.suspected' }).map((e) => e.entry.payload as { client: string; queries: number; test: { w: number } });
  const synFlag = suspected.find((p) => p.client === synth.key.id);
  const [set] = await loadCommittedSets({ dir, ledger: home.ledger, trust: homeTrust(home) }, PASS, [thief.key.id]);
  const cal = await measureGuardNull({ sets: [set!], models, seed: 2000 + 10 * s });
  appendGuardCalibration(home.ledger, cal, ownerRecordSigner(home));
  const best = nats.reduce((b, n) => (n.r.studentAccuracy > b.r.studentAccuracy ? n : b));
  const twin = withTwins ? await trainTwin(STUDENT_SEED_BASE + s, best.epochs, join(work, `twin-${s}`)) : undefined;
  for (const nat of twin ? [...nats, twin] : nats) {
    const student = await openTfjsClassifier(nat.out);
    const v = await verifyGuardMarks({ sets: [set!], classifier: student, calibration: { ledger: home.ledger, trust: homeTrust(home) }, alpha: ALPHA });
    const vBound = await verifyGuardMarks({ sets: [set!], classifier: student, alpha: ALPHA });
    await student.close();
    const r = v.results[0]!;
    const row = {
      seed: s, epochs: nat.epochs, thiefKeeps: nat === best, twin: nat === twin, studentAccuracy: nat.r.studentAccuracy, queries: nat.r.queries, setSize: set!.marks.length, matches: r.matches, agreement: r.agreement,
      chance: r.chance, calibration: (cal.clients as { agreement: number[] }[])[0]!.agreement, pValue: r.pValue, log10PValue: r.log10PValue, owned: v.owned,
      pValueBound: vBound.results[0]!.pValue, ownedBound: vBound.owned,
      // What a perfect copy (every mark reproduced) would get with this set: chance^n. Below alpha is
      // needed for any claim at all, whatever the student learnt.
      bestPossibleP: r.chance ** set!.marks.length, bestPossiblePBound: (1 / 9) ** set!.marks.length,
      honestAltered, honestAlteredRate: honestAltered / 2000, honestAlerts,
      syntheticQueries: syn.queries, syntheticStudentAccuracy: syn.studentAccuracy, syntheticFlaggedAt: synFlag?.queries ?? null, syntheticW: synFlag?.test.w ?? null,
    };
    rows.push(row);
    console.log(JSON.stringify(row));
  }
  home.close();
}
/** The kept student's innocent twin: the same model, seed, digits and epochs, on true labels. */
async function trainTwin(seed: number, twinEpochs: number, out: string) {
  const t10k = await loadMnistT10k();
  const images = naturalQueries(t10k.images, t10k.count, queries);
  const labels = Int32Array.from({ length: queries }, (_, i) => t10k.labels[i % t10k.count]!);
  const model = buildMnistCnn(seed);
  await fitModel({ model, optimizer: tf.train.adam(1e-3), data: { images, labels, count: queries, shape: [queries, 28, 28, 1] }, numClasses: 10, epochs: twinEpochs, batchSize: 64, seed });
  const studentAccuracy = evaluateAccuracy(model, { images: mnist.test.images.subarray(1000 * 784), labels: mnist.test.labels.subarray(1000), count: 1000, shape: [1000, 28, 28, 1] });
  await saveLayersModel(model, out);
  model.dispose();
  return { epochs: twinEpochs, out, r: { studentAccuracy, queries } };
}

const fmtP = (p: number) => (p < 1e-3 ? p.toExponential(1) : p.toFixed(3));
const table = ['| seed | epochs | student acc. % | queries | set size seen | agreement | chance | p (calibrated) | owned | p (bound 1/9) | p of a perfect copy (calibrated / bound) | honest altered | honest alerts | synthetic flagged at | synthetic student acc. % |', '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|'];
// eslint-disable-next-line @typescript-eslint/no-explicit-any
for (const r of rows as any[]) {
  table.push(`| ${r.seed} | ${r.twin ? `twin, ${r.epochs}` : `${r.epochs}${r.thiefKeeps ? ' (kept)' : ''}`} | ${(r.studentAccuracy * 100).toFixed(1)} | ${r.queries} | ${r.setSize} | ${r.matches}/${r.setSize} | ${r.chance.toFixed(4)} | ${fmtP(r.pValue)} | ${r.owned ? 'yes' : 'no'} | ${fmtP(r.pValueBound)} | ${fmtP(r.bestPossibleP)} / ${fmtP(r.bestPossiblePBound)} | ${r.honestAltered}/2000 | ${r.honestAlerts} | ${r.syntheticFlaggedAt ?? 'not flagged'} | ${(r.syntheticStudentAccuracy * 100).toFixed(1)} |`);
}
console.log(`\n${table.join('\n')}`);
const kept = rows.filter((r) => r.thiefKeeps);
const ownedKept = kept.filter((r) => r.owned).length;
printTable(`bench:extraction (${seeds} seeds, ${queries} natural queries from ${data}, students of ${epochsList.join(', ')} epochs; load average ${loadavg().map((l) => l.toFixed(2)).join(' ')})`, [
  { metric: "the thief's kept (most accurate) student claimed at alpha 1e-6", value: `${ownedKept}/${kept.length}`, target: `${kept.length}/${kept.length}`, met: ownedKept === kept.length },
  ...(withTwins ? [{ metric: "the kept student's twin (true labels, same recipe) claimed", value: `${rows.filter((r) => r.twin && r.owned).length}/${rows.filter((r) => r.twin).length}`, target: '0', met: !rows.some((r) => r.twin && r.owned) }] : []),
  ...epochsList.map((e) => {
    const at = rows.filter((r) => r.epochs === e && !r.twin);
    const n = at.filter((r) => r.owned).length;
    return { metric: `student of ${e} epochs claimed at alpha 1e-6 (accuracy ${at.map((r) => ((r.studentAccuracy as number) * 100).toFixed(1)).join(', ')}%)`, value: `${n}/${at.length}`, target: `${at.length}/${at.length}`, met: n === at.length };
  }),
  { metric: 'sets large enough for a claim (a perfect copy, calibrated chance, below alpha)', value: `${rows.filter((r) => (r.bestPossibleP as number) < ALPHA).length}/${rows.length}`, target: `${rows.length}/${rows.length}`, met: rows.every((r) => (r.bestPossibleP as number) < ALPHA) },
  { metric: 'honest altered answers (max)', value: `${(Math.max(...rows.map((r) => r.honestAlteredRate as number)) * 100).toFixed(2)}%`, target: '<= 0.5%', met: rows.every((r) => (r.honestAlteredRate as number) <= 0.005) },
  { metric: 'honest alerts', value: String(rows.reduce((s, r) => s + (r.honestAlerts as number), 0)), target: '0', met: rows.every((r) => r.honestAlerts === 0) },
  syntheticQueries > 0
    ? { metric: 'synthetic flagged before 2,000 queries', value: `${rows.filter((r) => r.syntheticFlaggedAt !== null && (r.syntheticFlaggedAt as number) < 2000).length}/${rows.length}`, target: `${rows.length}/${rows.length}`, met: rows.every((r) => r.syntheticFlaggedAt !== null && (r.syntheticFlaggedAt as number) < 2000) }
    : { metric: 'synthetic flagged before 2,000 queries', value: 'not run (--synthetic 0)' },
]);
console.log(`\n${((performance.now() - started) / 1000).toFixed(0)} s`);
writeJson({ machine: machine(), loadavg: loadavg(), markRate, seeds, queries, data, epochs: epochsList, syntheticQueries, models, rows, table: table.join('\n') });
