// The guard writes to the ledger off its request path: a worker thread with its own connection
// does the appends, so a busy ledger (another process holding SQLite's write lock for up to the
// 30 s busy timeout) delays a commitment, never an answer. A failed batch stays pending and is
// tried again at the next flush.
import type { Worker } from 'node:worker_threads';
import type { EntryInput, JsonObject, Ledger } from '../../ledger/index.js';
import { spawnWorker } from '../api/spawn-worker.js';
import type { RecordSigner } from '../records/index.js';
import { guardCommitmentEntries } from './commitments.js';
import { extractionSuspectedEntry } from './monitor-record.js';

export interface LedgerWriter {
  commit(payloads: readonly JsonObject[]): Promise<number[]>;
  suspect(payload: JsonObject): Promise<number>;
  close(): Promise<void>;
}

/** In-process writer (tests, one-shot commands); records signed by `signer` (the guard's key). */
export function directLedgerWriter(ledger: Ledger, signer: RecordSigner): LedgerWriter {
  return {
    commit: async (p) => ledger.appendBatch(guardCommitmentEntries(p, signer)).map((e) => e.index),
    suspect: async (p) => ledger.append(extractionSuspectedEntry(p, signer)).index,
    close: async () => undefined,
  };
}

/** A worker-thread writer over the ledger file at `dbPath`; entries are signed here, appended there. */
export function workerLedgerWriter(dbPath: string, signer: RecordSigner): LedgerWriter {
  const worker: Worker = spawnWorker(new URL('./ledger-writer-worker.js', import.meta.url), { dbPath });
  worker.unref();
  let next = 0;
  const waiting = new Map<number, { resolve: (v: number[]) => void; reject: (e: Error) => void }>();
  worker.on('message', (m: { id: number; indices?: number[]; error?: string }) => {
    const w = waiting.get(m.id);
    if (!w) return;
    waiting.delete(m.id);
    if (m.error !== undefined) w.reject(new Error(m.error));
    else w.resolve(m.indices!);
  });
  const failAll = (err: Error) => {
    for (const w of waiting.values()) w.reject(err);
    waiting.clear();
  };
  worker.on('error', failAll);
  worker.on('exit', () => failAll(new Error('the ledger writer stopped')));
  const send = (entries: () => EntryInput[]) =>
    new Promise<number[]>((resolve, reject) => {
      const built = entries(); // decoded and signed before anything is sent; throws on a bad payload
      const id = next++;
      waiting.set(id, { resolve, reject });
      worker.ref();
      worker.postMessage({ id, entries: built });
    }).finally(() => {
      if (waiting.size === 0) worker.unref();
    });
  return {
    commit: (p) => send(() => guardCommitmentEntries(p, signer)),
    suspect: async (p) => (await send(() => [extractionSuspectedEntry(p, signer)]))[0]!,
    close: async () => {
      await worker.terminate();
    },
  };
}
