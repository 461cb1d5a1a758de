// The batch writer: a worker thread with its own connection to the ledger file, so that a large
// batch's SQLite work (INSERTs, WAL writes, the commit's fsync) runs while this thread encodes
// and hashes the entries, which it must do in order (each entry names the leaf hash before it).
// The batch is still one transaction: the worker begins it (BEGIN IMMEDIATE, so other writers in
// any process wait), says where the log ends, takes the rows in chunks as they are planned, and
// commits only when this thread asks; a failure on either side rolls the whole batch back.
import { resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import { LedgerError } from './errors.js';
import { builtWorkerUrl, SyncBridge } from './sync-bridge.js';

/** Batches of at least this many entries go through the worker once it runs (under `batchWriter: 'auto'`). */
export const WRITER_MIN_BATCH = 256;
/** A batch this large starts the worker and goes through it at once (a smaller one starts it for the next). */
export const WRITER_START_BATCH = 16_384;
/** Entries planned and handed over at a time. */
export const WRITER_CHUNK = 128;
/** A call may wait this long (the worker's own lock wait is 30 s). */
const CALL_TIMEOUT_MS = 120_000;

/** Starts the batch writer on the ledger at `path`; a string says why it cannot run. */
export function startBatchWriter(path: string, synchronous: 'FULL' | 'NORMAL'): SyncBridge | string {
  const url = builtWorkerUrl('sqlite-writer-worker.js');
  if (!url) return 'ledger/sqlite-writer-worker.js is not built (run "npm run build")';
  // execArgv: [] keeps the parent's flags (-e, --input-type, loaders) away from the worker.
  const worker = new Worker(url, { workerData: { path: resolve(path), synchronous }, execArgv: [] });
  return new SyncBridge(worker, CALL_TIMEOUT_MS);
}

export function writerUnavailable(reason: string): LedgerError {
  return new LedgerError('LEDGER_UNAVAILABLE', `the batch writer cannot run: ${reason}`);
}
