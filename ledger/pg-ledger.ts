// The PostgreSQL ledger behind the same synchronous Ledger interface as the SQLite one.
// node-postgres runs in a worker thread (pg-worker.ts); each call blocks this thread on the
// worker's reply (sync-bridge.ts), so every caller of Ledger works unchanged. Checkpoint notes
// are verified here, against the log key read from the database at open.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { AuditOptions, AuditReport } from './audit.js';
import { CheckpointOpener, type SignedCheckpoint } from './checkpoint.js';
import type { EntryInput } from './entry.js';
import type { Clock, ConsistencyProof, InclusionProof, Ledger, ListOptions, StoredEntry } from './ledger.js';
import { newVerifier } from './note.js';
import type { PgStoreOptions } from './pg-store.js';
import { callAsync, SyncBridge } from './sync-bridge.js';

export interface OpenPostgresLedgerOptions {
  /** The log's signer key (note format). Needed to create the log and to sign checkpoints. */
  readonly signerKey?: string;
  /** Create the schema (run the migrations) if needed. Requires signerKey for a new log. */
  readonly create?: boolean;
  readonly clock?: Clock;
  /** PostgreSQL schema (namespace) for the tables; default "hallmark". */
  readonly schema?: string;
  /** How appends serialise between writers: a row lock on the head row (default) or an advisory lock. */
  readonly lock?: 'row' | 'advisory';
  /** How long one call may wait for the database, in ms (default 60 s). */
  readonly timeoutMs?: number;
}

/** The compiled worker beside this file; from the TypeScript sources (tests), the one in dist/. */
function workerUrl(): URL {
  const beside = new URL('./pg-worker.js', import.meta.url);
  if (existsSync(fileURLToPath(beside))) return beside;
  const built = new URL('../dist/ledger/pg-worker.js', import.meta.url);
  if (existsSync(fileURLToPath(built))) return built;
  throw new Error('ledger/pg-worker.js is not built; run "npm run build"');
}

/** Opens (or with `create`, creates) a ledger in a PostgreSQL database (postgres://...). */
export function openPostgresLedger(url: string, options: OpenPostgresLedgerOptions = {}): Ledger {
  if (typeof url !== 'string' || !/^postgres(ql)?:\/\//.test(url)) throw new TypeError('openPostgresLedger takes a postgres:// URL');
  const storeOptions: PgStoreOptions = {
    url,
    ...(options.schema ? { schema: options.schema } : {}),
    ...(options.signerKey ? { signerKey: options.signerKey } : {}),
    ...(options.create ? { create: true } : {}),
    ...(options.lock ? { lock: options.lock } : {}),
  };
  // execArgv: [] keeps the parent's flags (-e, --input-type, loaders) away from the worker, where
  // some are invalid: a worker that fails to start cannot tell a caller blocked in Atomics.wait.
  const worker = new Worker(workerUrl(), { workerData: storeOptions, execArgv: [] });
  const bridge = new SyncBridge(worker, options.timeoutMs ?? 60_000);
  try {
    const head = bridge.call<{ origin: string; verifierKey: string }>('open');
    return new PostgresLedger(bridge, head.origin, head.verifierKey, options.clock ?? (() => new Date()));
  } catch (err) {
    bridge.close();
    throw err;
  }
}

class PostgresLedger implements Ledger {
  private readonly opener: CheckpointOpener;

  constructor(private readonly bridge: SyncBridge, readonly origin: string, readonly verifierKey: string, private readonly clock: Clock) {
    this.opener = new CheckpointOpener(newVerifier(verifierKey), origin);
  }

  size(): number {
    return this.bridge.call('size');
  }

  append(input: EntryInput): StoredEntry {
    return this.appendBatch([input])[0]!;
  }

  appendBatch(inputs: readonly EntryInput[]): StoredEntry[] {
    if (!Array.isArray(inputs)) throw new TypeError('appendBatch takes an array of entries');
    return this.bridge.call('appendBatch', inputs, this.clock().toISOString());
  }

  get(index: number): StoredEntry {
    return this.bridge.call('get', index);
  }

  list(options: ListOptions = {}): StoredEntry[] {
    return this.bridge.call('list', options);
  }

  root(size?: number): Uint8Array {
    return this.bridge.call('root', size);
  }

  subtreeHashes(level: number, from: number, count: number): Uint8Array[] {
    return this.bridge.call<Uint8Array[]>('subtreeHashes', level, from, count);
  }

  inclusionProof(index: number, treeSize?: number): InclusionProof {
    return this.bridge.call('inclusionProof', index, treeSize);
  }

  consistencyProof(from: number, to?: number): ConsistencyProof {
    return this.bridge.call('consistencyProof', from, to);
  }

  private open(note: string): SignedCheckpoint {
    return this.opener.open(note);
  }

  checkpoint(): SignedCheckpoint {
    const cp = this.bridge.call<SignedCheckpoint>('checkpoint', this.clock().toISOString());
    return this.open(cp.note);
  }

  latestCheckpoint(): SignedCheckpoint | undefined {
    const [note] = this.bridge.call<string[]>('checkpointNotes', 'latest');
    return note === undefined ? undefined : this.open(note);
  }

  checkpointCovering(index: number): SignedCheckpoint | undefined {
    const [note] = this.bridge.call<string[]>('checkpointNotes', index);
    return note === undefined ? undefined : this.open(note);
  }

  checkpoints(): SignedCheckpoint[] {
    return this.bridge.call<string[]>('checkpointNotes', 'all').map((n) => this.open(n));
  }

  audit(_options: Omit<AuditOptions, 'path'> = {}): Promise<AuditReport> {
    return callAsync<AuditReport>(this.bridge.worker, 'audit');
  }

  close(): void {
    this.bridge.close();
  }
}
