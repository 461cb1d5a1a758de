// The guard writes to the ledger off its request path: a worker thread with its own connection
// does the appends, so a busy ledger (another process holding SQLite's write lock for up to the
// 30 s busy timeout) delays a commitment, never an answer. A failed batch stays pending and is
// tried again at the next flush.
import type { Worker } from 'node:worker_threads';
import type { JsonObject, Ledger } from '../../ledger/index.js';
import { spawnWorker } from '../api/spawn-worker.js';
import { appendGuardCommitments } from './commitments.js';
import { appendExtractionSuspected } from './monitor-record.js';

export interface LedgerWriter {
  commit(payloads: readonly JsonObject[]): Promise<number[]>;
  suspect(payload: JsonObject): Promise<number>;
  close(): Promise<void>;
}

/** In-process writer (tests, one-shot commands). */
export function directLedgerWriter(ledger: Ledger): LedgerWriter {
  return {
    commit: async (p) => appendGuardCommitments(ledger, p),
    suspect: async (p) => appendExtractionSuspected(ledger, p),
    close: async () => undefined,
  };
}

/** A worker-thread writer over the ledger file at `dbPath`. */
export function workerLedgerWriter(dbPath: string): LedgerWriter {
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
  const send = (kind: 'commit' | 'suspect', payloads: readonly JsonObject[]) =>
    new Promise<number[]>((resolve, reject) => {
      const id = next++;
      waiting.set(id, { resolve, reject });
      worker.ref();
      worker.postMessage({ id, kind, payloads });
    }).finally(() => {
      if (waiting.size === 0) worker.unref();
    });
  return {
    commit: (p) => send('commit', p),
    suspect: async (p) => (await send('suspect', [p]))[0]!,
    close: async () => {
      await worker.terminate();
    },
  };
}
