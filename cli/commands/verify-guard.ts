// `hallmark verify SUSPECT|--endpoint URL --guard-client ID[,ID] | --guard-all`: the guard-mark
// branch of verify (src/guard/verify-guard.ts does the work).
import { appendGuardVerification, guardVerificationPayload, loadCommittedSets, verifyGuardMarks, type GuardVerification } from '../../src/guard/index.js';
import { homeTrust, openHome, ownerRecordSigner, resolveHomeDir } from '../../src/home/index.js';
import { resolvePassphrase } from '../../src/secrets/index.js';
import { selectBackend, type BackendChoice } from '../../src/train/backend.js';
import { getBackend } from '@tensorflow/tfjs';
import { openLocalClassifier, openRemoteClassifier, type RemoteProtocol } from '../../src/verify/index.js';
import { emit, EXIT, parseCount } from '../output.js';
import { promptPassphrase } from './prompt-passphrase.js';

export interface GuardVerifyOpts {
  endpoint?: string;
  protocol?: string;
  modelName?: string;
  inputName?: string;
  guardClient?: string;
  guardAll?: boolean;
  alpha?: string;
  timeoutMs?: string;
  retries?: string;
  concurrency?: string;
  maxRequests?: string;
  batchSize?: string;
  backend?: string;
  key?: string;
  json?: boolean;
  home?: string;
}


export function formatGuardReport(r: GuardVerification & { index?: number }): string {
  return [
    `suspect: ${r.source}`,
    ...r.results.map((x) => `  client ${x.client}: ${x.matches}/${x.n} watermark labels reproduced (${(x.agreement * 100).toFixed(1)}%; true-label agreement ${(x.trueLabelAgreement * 100).toFixed(1)}%), chance ${x.chance.toPrecision(3)} (${x.nullSource === 'calibrated' ? `calibrated, entry ${x.calibrationIndex}` : 'bound 1/(C-1), no calibration'}), p = ${x.pValue.toPrecision(3)}; commitment entry ${x.commitment.index}`),
    `${r.owned ? 'OWNED' : 'not shown'}: ${r.tests} test(s) x min p (Bonferroni) = ${r.familyPValue.toPrecision(3)} ${r.owned ? '<' : '>='} alpha ${r.alpha}`,
    ...(r.index !== undefined ? [`recorded: verification.recorded entry ${r.index} (guard marks, signed by the owner's key)`] : []),
  ].join('\n');
}

export async function runGuardVerify(suspectPath: string | undefined, opts: GuardVerifyOpts, alpha: number): Promise<number> {
  if (!opts.guardAll === !opts.guardClient) throw new RangeError('give --guard-client ID[,ID...] or --guard-all (one of them)');
  const home = openHome(resolveHomeDir(opts.home));
  try {
    const passphrase = await resolvePassphrase(process.stdin.isTTY && process.stderr.isTTY ? { prompt: () => promptPassphrase('passphrase for the guard key: ') } : {});
    const sets = await loadCommittedSets({ dir: home.paths.dir, ledger: home.ledger, trust: homeTrust(home) }, passphrase, opts.guardAll ? 'all' : opts.guardClient!.split(',').map((s) => s.trim()));
    const total = sets.reduce((s, x) => s + x.marks.length, 0);
    if (suspectPath) await selectBackend((opts.backend ?? 'auto') as BackendChoice);
    const batchSize = parseCount('--batch-size', opts.batchSize) ?? 25;
    const classifier = suspectPath
      ? await openLocalClassifier(suspectPath)
      : await openRemoteClassifier(
        { url: opts.endpoint!, protocol: (opts.protocol ?? 'oip-v2') as RemoteProtocol, batchSize, ...(opts.modelName ? { modelName: opts.modelName } : {}), ...(opts.inputName ? { inputName: opts.inputName } : {}) },
        {
          timeoutMs: parseCount('--timeout-ms', opts.timeoutMs) ?? 10_000, retries: parseCount('--retries', opts.retries) ?? 3, concurrency: parseCount('--concurrency', opts.concurrency) ?? 4,
          // Enough attempts for every batch of every set, with the retries.
          maxRequests: Math.max(parseCount('--max-requests', opts.maxRequests) ?? 200, 2 + Math.ceil(total / batchSize) * 4),
          ...(opts.key ?? process.env.HALLMARK_SUSPECT_KEY ? { headers: { authorization: `Bearer ${opts.key ?? process.env.HALLMARK_SUSPECT_KEY}` } } : {}),
        },
      );
    try {
      const v = await verifyGuardMarks({ sets, classifier, calibration: { ledger: home.ledger, trust: homeTrust(home) }, alpha });
      // Recorded like every verification: a signed verification.recorded entry (its guard form).
      const payload = await guardVerificationPayload(v, suspectPath ? { path: suspectPath } : { url: opts.endpoint!, protocol: (opts.protocol ?? 'oip-v2') as RemoteProtocol }, home.ownerVerifierKey, suspectPath ? `tfjs-${getBackend()}` : undefined);
      const r = { ...v, index: appendGuardVerification(home.ledger, payload, ownerRecordSigner(home)).index };
      emit(opts, r, () => formatGuardReport(r));
      return r.owned ? EXIT.ok : EXIT.failed;
    } finally {
      await classifier.close();
    }
  } finally {
    home.close();
  }
}
