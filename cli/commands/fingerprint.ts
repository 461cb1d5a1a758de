import type { Command } from 'commander';
import { createFingerprint, type FingerprintSummary } from '../../src/fingerprint/index.js';
import { openHome, ownerRecordSigner, resolveHomeDir } from '../../src/home/index.js';
import { resolvePassphrase } from '../../src/secrets/index.js';
import { BACKEND_CHOICES, type BackendChoice } from '../../src/train/backend.js';
import { action, parseCount } from '../output.js';
import { promptPassphrase } from './prompt-passphrase.js';

interface Opts {
  dataset?: string;
  surrogates?: string;
  references?: string;
  n?: string;
  epsilon?: string;
  steps?: string;
  candidates?: string;
  trainSamples?: string;
  epochs?: string;
  seed?: string;
  backend?: string;
  json?: boolean;
  home?: string;
}

const pct = (xs: readonly number[]) => xs.map((x) => `${(x * 100).toFixed(0)}%`).join(' ');

function describe(s: FingerprintSummary): string {
  return [
    `fingerprint.committed #${s.index} for ${s.model}, sealed in checkpoint of size ${s.checkpointSize}`,
    `  set          ${s.parameters.n} examples (L-inf <= ${s.parameters.epsilon}, ${s.parameters.steps} steps) chosen from ${s.tried} candidates; ${s.qualified} met the strict rule`,
    `  surrogates   answer the targets on ${pct(s.surrogateAgreement)} (clean accuracy ${pct(s.cleanAccuracy.surrogates)})`,
    `  references   answer the targets on ${pct(s.referenceAgreement)} (clean accuracy ${pct(s.cleanAccuracy.references)})`,
    `  commitment   ${s.commitment}`,
    `  secret       ${s.secretPath} (encrypted)`,
    `  time         ${s.seconds.total.toFixed(0)} s (training ${s.seconds.training.toFixed(0)} s, generation ${s.seconds.generation.toFixed(0)} s) on ${s.backend}`,
    `  next         hallmark calibrate --fingerprint ${s.index}   (the null, on fresh reference models), then release the model`,
    ...(s.seededInitialisers.length > 0
      ? [`  caution      the model records seeded initialisers (seeds ${s.seededInitialisers.join(', ')}): a model anyone builds from those seeds starts from its weights and answers this fingerprint like a copy, even trained on other data; release models initialised from a secret or random seed (docs/fingerprints.md)`]
      : []),
  ].join('\n');
}

export function registerFingerprint(program: Command): void {
  program
    .command('fingerprint <model>')
    .description('before release: generate a secret set of conferrable adversarial examples for a model and commit to it in the ledger (fingerprint.committed)')
    .option('--dataset <mnist|dir>', 'the task\'s data: the built-in "mnist" or a folder of class subfolders of PNGs', 'mnist')
    .option('--surrogates <k>', 'models distilled from MODEL (stand-ins for stolen copies)', '3')
    .option('--references <k>', 'models trained independently (stand-ins for innocent models)', '3')
    .option('--n <n>', 'fingerprint examples (300: with the null measured on well-trained independent models, 100 cannot reach alpha 1e-6 for a distilled student)', '300')
    .option('--epsilon <e>', 'L-infinity bound on the perturbation, pixels in [0, 1]', '0.25')
    .option('--steps <n>', 'optimisation steps per example', '30')
    .option('--candidates <n>', 'held-out images tried (default 3n)')
    .option('--train-samples <n>', 'training images per surrogate / reference (default: half of them 3000, half every image)')
    .option('--epochs <n>', 'epochs per surrogate / reference (default: half of them 2, half 10)')
    .option('--seed <n>', 'first seed of the surrogate and reference recipes', '7000')
    .option('--backend <b>', `TF.js backend: ${BACKEND_CHOICES.join(' | ')}`, 'auto')
    .option('--json', 'JSON lines: progress events, then the summary')
    .option('--home <dir>', 'home folder')
    .action(action(async (modelPath: string, opts: Opts) => {
      if (!BACKEND_CHOICES.includes(opts.backend as BackendChoice)) throw new RangeError(`--backend must be one of ${BACKEND_CHOICES.join(', ')}`);
      const epsilon = Number(opts.epsilon);
      if (!/^[0-9.eE+-]+$/.test(opts.epsilon ?? '') || !(epsilon > 0 && epsilon <= 1)) throw new RangeError(`--epsilon must be a number in (0, 1], got "${opts.epsilon}"`);
      const candidates = parseCount('--candidates', opts.candidates);
      const passphrase = await resolvePassphrase(process.stdin.isTTY && process.stderr.isTTY ? { prompt: () => promptPassphrase('passphrase for the home\'s secrets: ') } : {});
      const home = openHome(resolveHomeDir(opts.home));
      const tty = !opts.json && process.stderr.isTTY;
      try {
        const summary = await createFingerprint({
          home: { dir: home.paths.dir, ledger: home.ledger, ownerVerifierKey: home.ownerVerifierKey },
          passphrase, signer: ownerRecordSigner(home), model: modelPath, dataset: opts.dataset!,
          surrogates: parseCount('--surrogates', opts.surrogates)!, references: parseCount('--references', opts.references)!,
          n: parseCount('--n', opts.n)!, epsilon, steps: parseCount('--steps', opts.steps)!,
          ...(candidates === undefined ? {} : { candidates }),
          ...(opts.trainSamples === undefined ? {} : { trainSamples: parseCount('--train-samples', opts.trainSamples)! }),
          ...(opts.epochs === undefined ? {} : { epochs: parseCount('--epochs', opts.epochs)! }),
          seed: parseCount('--seed', opts.seed)!,
          backend: opts.backend as BackendChoice, actor: 'cli',
          onProgress: (e) => {
            if (opts.json) process.stdout.write(`${JSON.stringify({ event: 'progress', ...e })}\n`);
            else if (tty) process.stderr.write(`\r${e.stage} ${e.done}/${e.total}${e.detail ? ` ${e.detail}` : ''}\x1b[K${e.stage !== 'generate' ? '\n' : ''}`);
          },
        });
        if (tty) process.stderr.write('\n');
        if (opts.json) process.stdout.write(`${JSON.stringify({ event: 'summary', ...summary })}\n`);
        else process.stdout.write(`${describe(summary)}\n`);
      } finally {
        home.close();
      }
    }));
}
