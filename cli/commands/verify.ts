import type { Command } from 'commander';
import { openFingerprintTest } from '../../src/fingerprint/index.js';
import { homeTrust, openHome, ownerRecordSigner, resolveHomeDir } from '../../src/home/index.js';
import { resolvePassphrase } from '../../src/secrets/index.js';
import { BACKEND_CHOICES, type BackendChoice } from '../../src/train/backend.js';
import { REMOTE_PROTOCOLS, type RemoteProtocol } from '../../src/verify/remote-classifier.js';
import { formatReport } from '../../src/verify/report-text.js';
import { verifySuspect, type VerifyMethod } from '../../src/verify/verify-suspect.js';
import { action, emit, EXIT, paintVerdicts, parseCount } from '../output.js';
import { promptPassphrase } from './prompt-passphrase.js';

interface Opts {
  endpoint?: string;
  protocol?: string;
  modelName?: string;
  inputName?: string;
  commitment?: string;
  fingerprint?: string | boolean;
  method?: string;
  alpha?: string;
  timeoutMs?: string;
  retries?: string;
  concurrency?: string;
  maxRequests?: string;
  batchSize?: string;
  backend?: string;
  json?: boolean;
  home?: string;
  guardClient?: string;
  guardAll?: boolean;
  key?: string;
}

const METHODS: readonly VerifyMethod[] = ['auto', 'white-box', 'black-box', 'both'];

function parseAlpha(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const a = Number(v);
  if (!/^[0-9.eE+-]+$/.test(v) || !(a > 0 && a < 1)) throw new RangeError(`--alpha must be a number in (0, 1), got "${v}"`);
  return a;
}

export function registerVerify(program: Command): void {
  program
    .command('verify [suspect]')
    .description('look for our watermark in a suspect model (a file, or an endpoint with --endpoint) and record the result')
    .option('--endpoint <url>', 'query a remote model server instead of a file')
    .option('--protocol <p>', `endpoint protocol: ${REMOTE_PROTOCOLS.join(' | ')}`, 'oip-v2')
    .option('--model-name <name>', 'served model name (else read from the URL)')
    .option('--input-name <name>', 'OIP v2 input tensor name (else read from the model metadata)')
    .option('--commitment <index>', 'the watermark.committed entry to check (default: every live commitment of the owner, Bonferroni-corrected)')
    .option('--fingerprint [index]', 'also test a fingerprint.committed entry (default: the latest); alone when the ledger has no watermark')
    .option('--method <m>', `${METHODS.join(' | ')}`, 'auto')
    .option('--alpha <a>', 'significance level: owned only when the p-value is below it', '1e-6')
    .option('--timeout-ms <ms>', 'per request to an endpoint', '10000')
    .option('--retries <n>', 'retries per request on 5xx, 429, timeouts and network errors', '3')
    .option('--concurrency <n>', 'requests in flight at once', '4')
    .option('--max-requests <n>', 'request budget for the whole verification', '200')
    .option('--batch-size <n>', 'triggers per request', '25')
    .option('--backend <b>', `TF.js backend for TF.js suspects: ${BACKEND_CHOICES.join(' | ')}`, 'auto')
    .option('--guard-client <ids>', 'check the guard\'s committed watermark sets of these client key ids (comma-separated) instead of a model mark')
    .option('--guard-all', 'check the committed watermark set of every guard client (Bonferroni across them)')
    .option('--key <key>', 'API key to send to the endpoint (else $HALLMARK_SUSPECT_KEY)')
    .option('--json', 'print JSON')
    .option('--home <dir>', 'home folder')
    .action(action(async (suspectPath: string | undefined, opts: Opts) => {
      if (!suspectPath === !opts.endpoint) throw new RangeError('give a suspect model path or --endpoint URL (one of them)');
      if (opts.guardClient || opts.guardAll) return (await import('./verify-guard.js')).runGuardVerify(suspectPath, opts, parseAlpha(opts.alpha)!);
      if (!METHODS.includes(opts.method as VerifyMethod)) throw new RangeError(`--method must be one of ${METHODS.join(', ')}`);
      if (!REMOTE_PROTOCOLS.includes(opts.protocol as RemoteProtocol)) throw new RangeError(`--protocol must be one of ${REMOTE_PROTOCOLS.join(', ')}`);
      if (!BACKEND_CHOICES.includes(opts.backend as BackendChoice)) throw new RangeError(`--backend must be one of ${BACKEND_CHOICES.join(', ')}`);
      const home = openHome(resolveHomeDir(opts.home));
      try {
        const passphrase = await resolvePassphrase(process.stdin.isTTY && process.stderr.isTTY ? { prompt: () => promptPassphrase('passphrase for the watermark secrets: ') } : {});
        const commitment = parseCount('--commitment', opts.commitment);
        const batchSize = parseCount('--batch-size', opts.batchSize)!;
        const fingerprint = opts.fingerprint === undefined ? undefined
          : await openFingerprintTest({ dir: home.paths.dir, ledger: home.ledger, ownerVerifierKey: home.ownerVerifierKey }, passphrase, opts.fingerprint === true ? undefined : parseCount('--fingerprint', opts.fingerprint as string));
        const report = await verifySuspect({
          home: { dir: home.paths.dir, ledger: home.ledger, ownerVerifierKey: home.ownerVerifierKey },
          passphrase, signer: ownerRecordSigner(home), trust: homeTrust(home),
          suspect: suspectPath
            ? { path: suspectPath }
            : { url: opts.endpoint!, protocol: opts.protocol as RemoteProtocol, batchSize, ...(opts.modelName ? { modelName: opts.modelName } : {}), ...(opts.inputName ? { inputName: opts.inputName } : {}) },
          ...(commitment === undefined ? {} : { commitment }),
          method: opts.method as VerifyMethod,
          ...(fingerprint ? { fingerprint } : {}),
          alpha: parseAlpha(opts.alpha)!,
          backend: opts.backend as BackendChoice,
          remote: {
            timeoutMs: parseCount('--timeout-ms', opts.timeoutMs)!,
            retries: parseCount('--retries', opts.retries)!,
            concurrency: parseCount('--concurrency', opts.concurrency)!,
            maxRequests: parseCount('--max-requests', opts.maxRequests)!,
          },
        });
        emit(opts, { ...report, weight: report.weight ? { ...report.weight, all: report.weight.all.slice(0, 10) } : undefined }, () => paintVerdicts(formatReport(report)));
        return report.decision.owned ? EXIT.ok : EXIT.failed;
      } finally {
        home.close();
      }
    }));
}
