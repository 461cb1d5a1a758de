// Worker thread of ledger-writer.ts: appends the guard's records, built and signed by the main
// thread (so the signing key never crosses into the worker), on its own ledger connection.
import { parentPort, workerData } from 'node:worker_threads';
import type { EntryInput } from '../../ledger/index.js';
import { openLedger } from '../../ledger/index.js';

const { dbPath } = workerData as { dbPath: string };
const ledger = openLedger(dbPath);
parentPort!.on('message', (m: { id: number; entries: EntryInput[] }) => {
  try {
    const indices = ledger.appendBatch(m.entries).map((e) => e.index);
    parentPort!.postMessage({ id: m.id, indices });
  } catch (err) {
    parentPort!.postMessage({ id: m.id, error: `${(err as { code?: string }).code ?? 'ERROR'}: ${(err as Error).message}` });
  }
});
