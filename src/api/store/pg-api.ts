// The PostgreSQL API store behind the same synchronous rows interface as api.db: node-postgres
// runs in a worker thread (pg-worker.ts) and each call blocks on its reply (ledger/sync-bridge.ts).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { SyncBridge } from '../../../ledger/sync-bridge.js';
import type { PgApiOptions } from './pg-rows.js';
import type { JobRows, KeyRow, KeyRows } from './rows.js';

/** The compiled worker beside this file; from the TypeScript sources (tests), the one in dist/. */
function workerUrl(): URL {
  const beside = new URL('./pg-worker.js', import.meta.url);
  if (existsSync(fileURLToPath(beside))) return beside;
  const built = new URL('../../../dist/src/api/store/pg-worker.js', import.meta.url);
  if (existsSync(fileURLToPath(built))) return built;
  throw new Error('src/api/store/pg-worker.js is not built; run "npm run build"');
}

export interface PgApiStore {
  readonly keys: KeyRows;
  readonly jobs: JobRows;
  close(): void;
}

/** Opens the API tables in PostgreSQL (creating or migrating them with `create`). */
export function openPgApiStore(options: PgApiOptions & { timeoutMs?: number }): PgApiStore {
  const { timeoutMs, ...data } = options;
  const bridge = new SyncBridge(new Worker(workerUrl(), { workerData: data, execArgv: [] }), timeoutMs ?? 60_000);
  try {
    bridge.call('open');
  } catch (err) {
    bridge.close();
    throw err;
  }
  const call = <T>(op: string, ...args: unknown[]) => bridge.call<T>(op, ...args);
  // Buffers cross the thread as Uint8Array.
  const key = (r: KeyRow | undefined) => (r ? { ...r, hash: Buffer.from(r.hash) } : undefined);
  const keys: KeyRows = {
    byId: (id) => key(call('keyById', id)),
    all: () => call<KeyRow[]>('keysAll').map((r) => key(r)!),
    insert: (r) => call('keyInsert', r),
    revoke: (id, at) => call('keyRevoke', id, at),
    remove: (id) => call('keyRemove', id),
  };
  const jobs: JobRows = {
    shared: true,
    insert: (r) => call('jobInsert', r),
    get: (id) => call('jobGet', id),
    list: (f) => call('jobList', f),
    claimNext: (replica, kinds, at, leaseMs, maxAttempts) => call('jobClaimNext', replica, kinds, at, leaseMs, maxAttempts),
    progress: (c, p, at) => call('jobProgress', c, p, at),
    finish: (c, end, at) => call('jobFinish', c, end, at),
    failUnclaimed: (id, code, message, at) => call('jobFailUnclaimed', id, code, message, at),
    heartbeat: (replica, ids, leaseMs) => call('jobHeartbeat', replica, ids, leaseMs),
    release: (c, at) => call('jobRelease', c, at),
    running: () => [],
  };
  return { keys, jobs, close: () => bridge.close() };
}
