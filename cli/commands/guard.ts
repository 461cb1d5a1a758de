import type { Command } from 'commander';
import type { ModelPlacement } from '../../src/guard/model-runner.js';
import { ACTIONS, type SuspectAction } from '../../src/guard/record-extraction-suspected.js';
import { startGuard } from '../../src/guard/server.js';
import { resolveHomeDir } from '../../src/home/index.js';
import { resolvePassphrase } from '../../src/secrets/index.js';
import { REMOTE_PROTOCOLS, type RemoteProtocol } from '../../src/verify/remote-classifier.js';
import { action, parseCount } from '../output.js';
import { promptPassphrase } from './prompt-passphrase.js';

interface Opts {
  model?: string;
  upstream?: string;
  protocol: string;
  upstreamModel?: string;
  inputShape?: string;
  modelName: string;
  port: string;
  host: string;
  home?: string;
  markRate: string;
  maxAltered?: string;
  commitEvery: string;
  onSuspect: string;
  monitorThreshold: string;
  monitorMin: string;
  volumeAlert?: string;
  monitorInline?: boolean;
  modelThread: string;
  rate: string;
  burst: string;
  maxBatch: string;
  maxBodyMb: string;
  timeoutMs: string;
  retries: string;
}

function parseFraction(name: string, v: string, lo: number, hi: number): number {
  const x = Number(v);
  if (!/^[0-9.eE+-]+$/.test(v) || !(x >= lo && x <= hi)) throw new RangeError(`${name} must be a number in [${lo}, ${hi}], got "${v}"`);
  return x;
}

const PLACEMENTS = ['auto', 'worker', 'inline'] as const;

function parsePlacement(v: string): ModelPlacement {
  if (!(PLACEMENTS as readonly string[]).includes(v)) throw new RangeError(`--model-thread must be one of ${PLACEMENTS.join(', ')}, got "${v}"`);
  return v as ModelPlacement;
}

export function registerGuard(program: Command): void {
  program.command('guard').description('serve a model to API clients (OIP v2, TF Serving REST) with per-client response watermarks and extraction monitoring')
    .option('--model <file>', 'ONNX file or TF.js Layers model to run in-process')
    .option('--upstream <url>', 'model server to forward to instead (KServe/Triton or TF Serving)')
    .option('--protocol <p>', `upstream protocol: ${REMOTE_PROTOCOLS.join(' | ')}`, 'oip-v2')
    .option('--upstream-model <name>', 'model name on the upstream (else read from the URL)')
    .option('--input-shape <dims>', 'upstream input dims without the batch axis, e.g. 28,28,1 (TF Serving)')
    .option('--model-name <name>', 'name clients use in URLs', 'model')
    .option('--port <port>', 'TCP port (0: any free port)', '8788')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--home <dir>', 'home folder (default: $HALLMARK_HOME, else ./.hallmark)')
    .option('--mark-rate <f>', 'fraction of each client\'s queries answered with a watermark label', '0.005')
    .option('--max-altered <f>', 'cap on the fraction of any client\'s answers that are altered (default: the mark rate)')
    .option('--commit-every <s>', 'seconds between guard.committed batches', '60')
    .option('--on-suspect <a>', `what a suspected extraction triggers: ${ACTIONS.join(' | ')}`, 'alert')
    .option('--monitor-threshold <w>', 'Shapiro-Wilk W below which a client is flagged', '0.95')
    .option('--monitor-min <n>', 'queries per client before the first normality test', '100')
    .option('--volume-alert <n>', 'also flag a client after this many queries')
    .option('--monitor-inline', 'run the extraction monitor on the request thread (an alert acts before the answer leaves; slower) instead of a worker thread')
    .option('--model-thread <where>', 'where an ONNX model runs: worker, inline (the request thread) or auto (a worker when one call takes 2 ms or more)', 'auto')
    .option('--rate <n>', 'inputs per second per client', '200')
    .option('--burst <n>', 'burst size per client, in inputs', '2000')
    .option('--max-batch <n>', 'inputs per request', '256')
    .option('--max-body-mb <n>', 'largest request body, in MiB', '8')
    .option('--timeout-ms <ms>', 'per upstream attempt', '10000')
    .option('--retries <n>', 'upstream retries on 5xx, 429, timeouts', '2')
    .action(action(async (opts: Opts) => {
      if (!opts.model === !opts.upstream) throw new RangeError('give --model FILE or --upstream URL (one of them)');
      if (!REMOTE_PROTOCOLS.includes(opts.protocol as RemoteProtocol)) throw new RangeError(`--protocol must be one of ${REMOTE_PROTOCOLS.join(', ')}`);
      if (!(ACTIONS as readonly string[]).includes(opts.onSuspect)) throw new RangeError(`--on-suspect must be one of ${ACTIONS.join(', ')}`);
      const modelPlacement = parsePlacement(opts.modelThread);
      const port = parseCount('--port', opts.port)!;
      if (port > 65535) throw new RangeError(`--port must be at most 65535, got ${port}`);
      const dims = opts.inputShape?.split(',').map((d) => parseCount('--input-shape', d.trim())!);
      const volumeAlert = parseCount('--volume-alert', opts.volumeAlert);
      const passphrase = await resolvePassphrase(process.stdin.isTTY && process.stderr.isTTY ? { prompt: () => promptPassphrase('passphrase for the guard key: ') } : {});
      const guard = await startGuard({
        homeDir: resolveHomeDir(opts.home), passphrase,
        ...(opts.model ? { model: opts.model } : {
          upstream: {
            url: opts.upstream!, protocol: opts.protocol as RemoteProtocol, ...(opts.upstreamModel ? { modelName: opts.upstreamModel } : {}), ...(dims ? { dims } : {}),
            remote: { timeoutMs: parseCount('--timeout-ms', opts.timeoutMs)!, retries: parseCount('--retries', opts.retries)! },
          },
        }),
        modelName: opts.modelName, port, host: opts.host,
        markRate: parseFraction('--mark-rate', opts.markRate, 0, 1),
        ...(opts.maxAltered !== undefined ? { maxAltered: parseFraction('--max-altered', opts.maxAltered, 0, 1) } : {}),
        commitEverySeconds: Math.max(1, parseCount('--commit-every', opts.commitEvery)!),
        onSuspect: opts.onSuspect as SuspectAction,
        ...(opts.monitorInline ? { monitorInline: true } : {}),
        modelPlacement,
        monitor: { threshold: parseFraction('--monitor-threshold', opts.monitorThreshold, 0.01, 0.9999), minQueries: parseCount('--monitor-min', opts.monitorMin)!, ...(volumeAlert ? { volumeAlert } : {}) },
        rateLimit: { perSecond: parseCount('--rate', opts.rate)!, burst: parseCount('--burst', opts.burst)! },
        limits: { maxBatch: parseCount('--max-batch', opts.maxBatch)!, maxBodyBytes: parseCount('--max-body-mb', opts.maxBodyMb)! * 1024 * 1024 },
      });
      process.stdout.write(`hallmark guard listening on ${guard.url} (model "${opts.modelName}": ${guard.runner.description})\n`);
      const stop = () => {
        void guard.close().then(() => process.exit(0));
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    }));
}
