import type { Command } from 'commander';
import { loadFingerprint, runFingerprintCalibration } from '../../src/fingerprint/index.js';
import { homeTrust, openHome, ownerRecordSigner, resolveHomeDir, type Home } from '../../src/home/index.js';
import { resolvePassphrase } from '../../src/secrets/index.js';
import { BACKEND_CHOICES, type BackendChoice } from '../../src/train/backend.js';
import { runCalibration } from '../../src/verify/calibration.js';
import { latestLiveCommitment, loadMark } from '../../src/verify/mark-secrets.js';
import { action, emit, parseCount } from '../output.js';
import { startProgress } from '../progress.js';
import { promptPassphrase } from './prompt-passphrase.js';

interface Opts {
  models?: string;
  epochs?: string;
  trainSamples?: string;
  seed?: string;
  commitment?: string;
  fingerprint?: string | boolean;
  dataset?: string;
  backend?: string;
  json?: boolean;
  home?: string;
  guardClient?: string;
  guardAll?: boolean;
}

async function calibrateFingerprint(home: Home, passphrase: string, opts: Opts): Promise<void> {
  const fp = await loadFingerprint({ dir: home.paths.dir, ledger: home.ledger, ownerVerifierKey: home.ownerVerifierKey }, passphrase, opts.fingerprint === true ? undefined : parseCount('--fingerprint', opts.fingerprint as string));
  const progress = !opts.json && process.stderr.isTTY;
  const r = await runFingerprintCalibration(home.ledger, {
    signer: ownerRecordSigner(home),
    fingerprint: fp, dataset: opts.dataset!,
    ...(opts.models === undefined ? {} : { models: parseCount('--models', opts.models)! }), seed: parseCount('--seed', opts.seed)!,
    ...(opts.epochs === undefined ? {} : { epochs: parseCount('--epochs', opts.epochs)! }),
    ...(opts.trainSamples === undefined ? {} : { trainSamples: parseCount('--train-samples', opts.trainSamples)! }),
    backend: opts.backend as BackendChoice,
    onModel: (e) => {
      if (progress) process.stderr.write(`reference ${e.k}/${e.models}: accuracy ${(e.accuracy * 100).toFixed(1)}%, fingerprint agreement ${e.agreement.toFixed(2)}\n`);
    },
  });
  const f = (r.payload as { fingerprint: { agreement: number[]; max: number; mean: number }; models: number; backend: string });
  emit(opts, { index: r.index, ...r.payload }, () => [
    `calibration.recorded #${r.index}: ${f.models} fresh reference models for fingerprint.committed #${fp.index} (${f.backend})`,
    `  fingerprint agreement ${f.fingerprint.agreement.map((a) => a.toFixed(2)).join(' ')} (max ${f.fingerprint.max.toFixed(2)}, mean ${f.fingerprint.mean.toFixed(3)}); verification uses chance = max(1/C, ${f.fingerprint.max.toFixed(2)})`,
  ].join('\n'));
}

export function registerCalibrate(program: Command): void {
  program
    .command('calibrate')
    .description('train K unmarked models on the same task and record how often they agree with our marks by chance (calibration.recorded)')
    .option('--models <k>', 'independent unmarked models to train (default 5; with --fingerprint 10, half of them trained on every image for 10 epochs)')
    .option('--epochs <n>', 'epochs per model (default 1; with --fingerprint 2)')
    .option('--train-samples <n>', 'mnist training images per model, of 8000 (default 2000; with --fingerprint 3000)')
    .option('--seed <n>', 'first seed; model k uses seed + k', '1000')
    .option('--commitment <index>', 'the watermark.committed entry to calibrate for (default: the latest)')
    .option('--fingerprint [index]', 'calibrate a fingerprint.committed entry (default: the latest) on fresh reference models instead of a watermark')
    .option('--dataset <mnist|dir>', 'with --fingerprint: the data the fingerprint was made from', 'mnist')
    .option('--backend <b>', `TF.js backend: ${BACKEND_CHOICES.join(' | ')}`, 'auto')
    .option('--guard-client <ids>', 'calibrate the guard\'s committed watermark sets of these client key ids instead (guard.calibrated)')
    .option('--guard-all', 'calibrate every guard client\'s committed watermark set')
    .option('--json', 'print JSON')
    .option('--home <dir>', 'home folder')
    .action(action(async (opts: Opts) => {
      if (!BACKEND_CHOICES.includes(opts.backend as BackendChoice)) throw new RangeError(`--backend must be one of ${BACKEND_CHOICES.join(', ')}`);
      if (opts.guardClient || opts.guardAll) return (await import('./calibrate-guard.js')).runGuardCalibrate(opts);
      const home = openHome(resolveHomeDir(opts.home));
      try {
        const passphrase = await resolvePassphrase(process.stdin.isTTY && process.stderr.isTTY ? { prompt: () => promptPassphrase('passphrase for the watermark secrets: ') } : {});
        if (opts.fingerprint !== undefined) return await calibrateFingerprint(home, passphrase, opts);
        const trust = homeTrust(home);
        const mark = await loadMark({ dir: home.paths.dir, ledger: home.ledger }, passphrase, parseCount('--commitment', opts.commitment) ?? latestLiveCommitment(home.ledger, trust), trust);
        const bar = startProgress('calibrating', opts);
        const r = await runCalibration(home.ledger, {
          mark, commitment: { index: mark.index, commitment: mark.committed.commitment }, signer: ownerRecordSigner(home),
          ...(opts.models === undefined ? {} : { models: parseCount('--models', opts.models)! }), seed: parseCount('--seed', opts.seed)!,
          ...(opts.epochs === undefined ? {} : { epochs: parseCount('--epochs', opts.epochs)! }),
          ...(opts.trainSamples === undefined ? {} : { trainSamples: parseCount('--train-samples', opts.trainSamples)! }),
          backend: opts.backend as BackendChoice,
          onTrain: (e) => bar.update((e.k - 1) * e.epochs * e.batches + (e.epoch - 1) * e.batches + e.batch, e.models * e.epochs * e.batches, `model ${e.k}/${e.models}`),
          onModel: (e) => {
            bar.log(`model ${e.k}/${e.models}: accuracy ${(e.accuracy * 100).toFixed(1)}%${e.agreement === undefined ? '' : `, trigger agreement ${e.agreement.toFixed(2)}`}${e.ber === undefined ? '' : `, BER ${e.ber.toFixed(3)}`}`);
          },
        }).finally(() => bar.done());
        const p = r.payload as { trigger?: { agreement: number[]; max: number; mean: number }; weight?: { ber: number[]; min: number }; models: number; backend: string };
        emit(opts, { index: r.index, ...r.payload }, () => [
          `calibration.recorded #${r.index}: ${p.models} unmarked models (${p.backend})`,
          ...(p.trigger ? [`  trigger agreement ${p.trigger.agreement.map((a) => a.toFixed(2)).join(' ')} (max ${p.trigger.max.toFixed(2)}, mean ${p.trigger.mean.toFixed(3)}); verification now uses chance = max(1/C, ${p.trigger.max.toFixed(2)})`] : []),
          ...(p.weight ? [`  weight-mark BER  ${p.weight.ber.map((b) => b.toFixed(3)).join(' ')} (lowest ${p.weight.min.toFixed(3)})`] : []),
        ].join('\n'));
      } finally {
        home.close();
      }
    }));
}
