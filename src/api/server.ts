// Opening the API over a home folder, and serving it on a socket. Used by `hallmark serve`,
// the loopback tests and bench/api.ts.
import { serve, type ServerType } from '@hono/node-server';
import type { AddressInfo } from 'node:net';
import type { Clock } from '../../ledger/index.js';
import { openHome, type Home } from '../home/index.js';
import { checkPassphraseSync, PASSPHRASE_ENV } from '../secrets/index.js';
import { createApp } from './app.js';
import { startCheckpointPolicy, type CheckpointPolicy, type CheckpointPolicyOptions } from './checkpoint-policy.js';
import type { ApiApp, ApiLimits, RouteGroup } from './context.js';
import type { Logger } from './errors.js';
import { JOB_KINDS } from './job-kinds/index.js';
import { createJobRunner, type JobRunner } from './jobs.js';
import { openKeyStore, type KeyStore } from './keys.js';
import { CLOSE_GRACE_MS, stopListening, trackHandlers } from './stop-listening.js';
import { removeStaleParts } from './upload.js';
import { openApiStore } from './store/index.js';
// issue 14: uploads and job outputs in the blob store (a folder or PostgreSQL, encrypted).
import { openApiBlobs } from './blob-files.js';

export interface ApiServices {
  readonly app: ApiApp;
  readonly checkpoints: CheckpointPolicy;
  readonly home: Home;
  readonly keys: KeyStore;
  readonly jobs: JobRunner;
  close(): Promise<void>;
}

export interface OpenApiOptions {
  readonly clock?: Clock;
  readonly limits?: Partial<ApiLimits>;
  readonly log?: Logger;
  readonly concurrency?: number;
  readonly groups?: readonly RouteGroup[];
  /** Passphrase of the watermark secrets; default: $HALLMARK_PASSPHRASE, read once here. */
  readonly passphrase?: string;
  /** Allow-list of host[:port] for verification endpoint URLs (default: any http/https host). */
  readonly endpointHosts?: readonly string[];
  /** Checkpoint signing: every `intervalMs` when the log grew, and after writes (checkpoint-policy.ts). */
  readonly checkpoints?: CheckpointPolicyOptions;
  /** The PostgreSQL database of the ledger, keys and jobs (default $HALLMARK_DATABASE_URL; else the home's SQLite files). */
  readonly database?: string;
  /** PostgreSQL: this replica's name in the job queue, the lease on a running job (ms), and how often to poll the queue (ms). */
  readonly jobs?: { readonly replica?: string; readonly leaseMs?: number; readonly pollMs?: number; readonly maxAttempts?: number };
}

/** Opens the home's ledger, its keys and jobs (api.db, or PostgreSQL) and the app over them. */
export function openApi(homeDir: string, options: OpenApiOptions = {}): ApiServices {
  // Read once at startup, never from a request; it goes to job workers in memory only.
  const passphrase = options.passphrase ?? (process.env[PASSPHRASE_ENV] || undefined);
  // A passphrase that does not open the home's keys or its watermark secrets stops the server
  // here, with a typed error, instead of failing every job later.
  const home = openHome(homeDir, { ...(options.clock ? { clock: options.clock } : {}), ...(passphrase ? { passphrase } : {}), ...(options.database ? { database: options.database } : {}) });
  try {
    if (passphrase) checkPassphraseSync(homeDir, passphrase);
  } catch (err) {
    home.close();
    throw err;
  }
  // Before any request: no upload can be in flight, so every .part file is a leftover.
  removeStaleParts(homeDir);
  const blobs = openApiBlobs(homeDir, passphrase);
  let store;
  try {
    store = openApiStore(homeDir, { ...(options.database ? { database: options.database } : {}) });
  } catch (err) {
    home.close();
    throw err;
  }
  const keys = openKeyStore(store.keys, { clock: options.clock });
  const checkpoints = startCheckpointPolicy(home.ledger, { ...options.checkpoints, ...(options.log ? { log: options.log } : {}) });
  const jobs = createJobRunner({ store: store.jobs, ...options.jobs, homeDir, clock: options.clock, concurrency: options.concurrency, log: options.log, passphrase, onFinish: () => checkpoints.signIfGrown() });
  for (const k of JOB_KINDS) jobs.register(k);
  const app = createApp({ ledger: home.ledger, keys, jobs, homeDir, clock: options.clock, limits: options.limits, log: options.log, groups: options.groups, hasPassphrase: passphrase !== undefined, endpointHosts: options.endpointHosts, checkpoints, ownerSignerKey: () => home.readOwnerSignerKey() });
  return {
    app, home, keys, jobs, checkpoints,
    async close() {
      checkpoints.close();
      await jobs.close();
      store.close();
      await blobs.close();
      home.close();
    },
  };
}

export interface RunningServer {
  readonly url: string;
  readonly server: ServerType;
  close(): Promise<void>;
}

/**
 * Listens on host:port (port 0: any free port) and resolves once the socket is bound. `close()`
 * stops accepting connections, lets the requests in flight finish (an upload mid-stream, a record
 * being appended) for up to `closeGraceMs`, then cuts what is left, and resolves only once every
 * request handler has returned, so that the caller can close the home and its ledger under none.
 */
export function listen(app: ApiApp, options: { port: number; host: string; closeGraceMs?: number }): Promise<RunningServer> {
  const handlers = trackHandlers((request: Request, env?: unknown) => app.fetch(request, env as never));
  return new Promise((resolve, reject) => {
    const server = serve({ fetch: handlers.fetch, port: options.port, hostname: options.host }, (info: AddressInfo) => {
      const host = info.family === 'IPv6' ? `[${info.address}]` : info.address;
      let closing: Promise<void> | undefined;
      resolve({
        url: `http://${host}:${info.port}`,
        server,
        close: () => (closing ??= (async () => {
          await stopListening(server, options.closeGraceMs ?? CLOSE_GRACE_MS);
          await handlers.settled();
        })()),
      });
    });
    server.once('error', reject);
  });
}
