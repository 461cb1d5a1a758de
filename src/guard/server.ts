// `hallmark guard`: the gateway over a home folder, on a socket. Opens the guard key (creating it
// on first start), reads the watermark sets from the journal and the commitments from the
// ledger, commits whatever is missing at once (a crash or kill -9 loses nothing), then every
// `commitEverySeconds`, and once more on a clean stop.
import { serve, type ServerType } from '@hono/node-server';
import type { AddressInfo } from 'node:net';
import { openApiDb } from '../api/api-db.js';
import { CLOSE_GRACE_MS, stopListening, trackHandlers } from '../api/stop-listening.js';
import { openKeyStore } from '../api/keys.js';
import { homeTrust, openHome } from '../home/index.js';
import type { KdfParams } from '../secrets/index.js';
import type { RemoteOptions, RemoteProtocol } from '../verify/index.js';
import { createGuardApp, type GuardLimits } from './app.js';
import { readCommitments } from './commitments.js';
import { openGuardKeys } from './guard-key.js';
import { enrolGuardSigner } from './guard-signer.js';
import { GuardService, type GuardLog } from './guard-service.js';
import { workerLedgerWriter, type LedgerWriter } from './ledger-writer.js';
import { MarkJournal, readJournal } from './mark-journal.js';
import { GuardMetrics } from './metrics.js';
import { openLocalRunner, type ModelPlacement, type ModelRunner } from './model-runner.js';
import { ExtractionMonitor, type MonitorOptions } from './monitor.js';
import { inlineMonitor, threadedMonitor } from './query-monitor.js';
import { RateLimiter, type RateLimitOptions } from './rate-limit.js';
import type { SuspectAction } from './record-extraction-suspected.js';
import { openUpstreamRunner } from './upstream-runner.js';

export interface GuardOptions {
  readonly homeDir: string;
  readonly passphrase: string;
  readonly model?: string;
  readonly upstream?: { url: string; protocol: RemoteProtocol; modelName?: string; dims?: number[]; remote?: RemoteOptions };
  /** Name clients use in URLs (default "model"). */
  readonly modelName?: string;
  readonly port?: number;
  readonly host?: string;
  readonly markRate?: number;
  /** Cap on each client's fraction of altered answers (default: the mark rate). */
  readonly maxAltered?: number;
  readonly commitEverySeconds?: number;
  readonly onSuspect?: SuspectAction;
  readonly monitor?: MonitorOptions;
  /** Run the extraction monitor on the request thread instead of a worker (see query-monitor.ts). */
  readonly monitorInline?: boolean;
  /** Where an ONNX model runs (default auto: a worker thread for a model call of 2 ms or more; model-runner.ts). */
  readonly modelPlacement?: ModelPlacement;
  readonly rateLimit?: RateLimitOptions;
  readonly limits?: Partial<GuardLimits>;
  readonly log?: GuardLog;
  readonly kdf?: KdfParams;
  /** On close, how long requests in flight get before their sockets are cut (default CLOSE_GRACE_MS, 10 s). */
  readonly closeGraceMs?: number;
  /** Tests: a writer of their own. */
  readonly writer?: LedgerWriter;
}

export interface RunningGuard {
  readonly url: string;
  readonly port: number;
  readonly service: GuardService;
  readonly runner: ModelRunner;
  /** The guard's routes without a socket (bench:guard's in-process figures). */
  fetch(req: Request): Promise<Response>;
  flush(): Promise<void>;
  close(): Promise<void>;
}

/** One JSON line per event on stderr; fields never carry inputs, answers or keys. */
export const stderrLog: GuardLog = (level, event, fields = {}) => {
  process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), level, event, ...fields })}\n`);
};

export async function startGuard(o: GuardOptions): Promise<RunningGuard> {
  if (!o.model === !o.upstream) throw new RangeError('give a model file or an upstream server (one of them)');
  const log = o.log ?? stderrLog;
  const home = openHome(o.homeDir);
  const cleanup: (() => Promise<void> | void)[] = [() => home.close()];
  try {
    const keys = await openGuardKeys(home.paths.dir, o.passphrase, o.kdf ? { kdf: o.kdf } : {});
    const { marks, declined, torn } = readJournal(home.paths.dir, keys.journal);
    if (torn > 0) log('warn', 'journal: skipped a torn line from an earlier crash (its answer was never sent)', { lines: torn });
    if (enrolGuardSigner(home.paths.dir, keys.signer)) log('info', 'guard: its record-signing key was added to config.json serviceKeys', { key: keys.signer.verifierKey.split('+').slice(0, 2).join('+') });
    const { latest, problems } = readCommitments(home.ledger, homeTrust(home));
    for (const p of problems) log('warn', 'ledger: guard.committed entry not trusted, skipped', { index: p.index, code: p.code });
    const committed = new Map([...latest].map(([c, v]) => [c, v.count]));
    const runner = o.model ? await openLocalRunner(o.model, o.modelPlacement ? { placement: o.modelPlacement } : {}) : await openUpstreamRunner(o.upstream!);
    cleanup.push(() => runner.close());
    const db = openApiDb(home.paths.dir);
    cleanup.push(() => {
      db.close();
    });
    const journal = new MarkJournal(home.paths.dir, keys.journal);
    cleanup.push(() => journal.close());
    const writer = o.writer ?? workerLedgerWriter(home.paths.db, keys.signer);
    cleanup.push(() => writer.close());
    const metrics = new GuardMetrics();
    const monitor = o.monitorInline
      ? inlineMonitor(new ExtractionMonitor(o.monitor))
      : threadedMonitor(o.monitor, { onWorkerError: (message) => log('error', 'extraction monitor worker failed; monitoring continues on the request thread with fresh state', { message: message.slice(0, 200) }) });
    cleanup.push(() => monitor.close());
    const service = new GuardService({
      runner, watermarkKey: keys.watermark, journal, marks, declined, committed, writer, metrics, log,
      monitor, limiter: new RateLimiter(o.rateLimit),
      ...(o.markRate === undefined ? {} : { markRate: o.markRate }), ...(o.maxAltered === undefined ? {} : { maxAltered: o.maxAltered }), ...(o.onSuspect ? { onSuspect: o.onSuspect } : {}),
    });
    await service.flush(); // whatever an earlier run left uncommitted
    const app = createGuardApp({ service, keys: openKeyStore(db), metrics, log, modelName: o.modelName ?? 'model', ...(o.limits ? { limits: o.limits } : {}) });
    const handlers = trackHandlers((request: Request, env?: unknown) => app.fetch(request, env as never));
    const server: ServerType = await new Promise((resolve) => {
      const s = serve({ fetch: handlers.fetch, port: o.port ?? 8788, hostname: o.host ?? '127.0.0.1' }, () => resolve(s));
    });
    const port = (server.address() as AddressInfo).port;
    // Keep idle client connections longer than typical client pools do, so a reused socket is
    // not closed under a request in flight.
    (server as { keepAliveTimeout?: number }).keepAliveTimeout = 65_000;
    const timer = setInterval(() => void service.flush(), (o.commitEverySeconds ?? 60) * 1000);
    timer.unref();
    log('info', 'guard listening', { url: `http://${o.host ?? '127.0.0.1'}:${port}`, model: runner.description, classes: runner.classes });
    let closed = false;
    return {
      url: `http://${o.host ?? '127.0.0.1'}:${port}`, port, service, runner,
      fetch: async (req) => app.fetch(req),
      flush: () => service.flush(),
      async close() {
        if (closed) return;
        closed = true;
        clearInterval(timer);
        await stopListening(server, o.closeGraceMs ?? CLOSE_GRACE_MS);
        await handlers.settled(); // a cut request's handler still records its answer first
        await service.settle(); // the last queries' alerts are recorded before the writer stops
        await service.flush();
        for (const c of cleanup.reverse()) await c();
      },
    };
  } catch (err) {
    for (const c of cleanup.reverse()) await c();
    throw err;
  }
}
