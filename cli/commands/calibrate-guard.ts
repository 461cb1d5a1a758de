// `hallmark calibrate --guard-client ID[,ID] | --guard-all`: the guard-mark null (guard.calibrated).
import { appendGuardCalibration, loadCommittedSets, measureGuardNull } from '../../src/guard/index.js';
import { homeTrust, openHome, ownerRecordSigner, resolveHomeDir } from '../../src/home/index.js';
import { resolvePassphrase } from '../../src/secrets/index.js';
import type { BackendChoice } from '../../src/train/backend.js';
import { emit, parseCount } from '../output.js';
import { promptPassphrase } from './prompt-passphrase.js';

export async function runGuardCalibrate(opts: { guardClient?: string; guardAll?: boolean; models?: string; epochs?: string; trainSamples?: string; seed?: string; backend?: string; json?: boolean; home?: string }): Promise<void> {
  if (!opts.guardAll === !opts.guardClient) throw new RangeError('give --guard-client ID[,ID...] or --guard-all (one of them)');
  const home = openHome(resolveHomeDir(opts.home));
  try {
    const passphrase = await resolvePassphrase(process.stdin.isTTY && process.stderr.isTTY ? { prompt: () => promptPassphrase('passphrase for the guard key: ') } : {});
    const sets = await loadCommittedSets({ dir: home.paths.dir, ledger: home.ledger, trust: homeTrust(home) }, passphrase, opts.guardAll ? 'all' : opts.guardClient!.split(',').map((s) => s.trim()));
    const progress = !opts.json && process.stderr.isTTY;
    const payload = await measureGuardNull({
      sets, models: parseCount('--models', opts.models)!, epochs: parseCount('--epochs', opts.epochs)!, trainSamples: parseCount('--train-samples', opts.trainSamples)!,
      seed: parseCount('--seed', opts.seed) ?? 2000, backend: opts.backend as BackendChoice,
      onModel: (e) => {
        if (progress) process.stderr.write(`model ${e.k}/${e.models}: accuracy ${(e.accuracy * 100).toFixed(1)}%, guard-label agreement ${e.agreement.map((a) => a.toFixed(3)).join(' ')}\n`);
      },
    });
    const index = appendGuardCalibration(home.ledger, payload, ownerRecordSigner(home));
    const clients = payload.clients as { client: string; count: number; agreement: number[] }[];
    emit(opts, { index, ...payload }, () => [
      `guard.calibrated #${index}: ${payload.models as number} independently trained models (${payload.backend as string})`,
      ...clients.map((c) => `  client ${c.client} (${c.count} marks): agreement ${c.agreement.map((a) => a.toFixed(3)).join(' ')}`),
    ].join('\n'));
  } finally {
    home.close();
  }
}
