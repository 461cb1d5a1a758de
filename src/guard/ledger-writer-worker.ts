// Worker thread of ledger-writer.ts: appends guard records on its own ledger connection.
import { parentPort, workerData } from 'node:worker_threads';
import type { JsonObject } from '../../ledger/index.js';
import { openLedger } from '../../ledger/index.js';
import { appendGuardCommitments } from './commitments.js';
import { appendExtractionSuspected } from './monitor-record.js';

const { dbPath } = workerData as { dbPath: string };
const ledger = openLedger(dbPath);
parentPort!.on('message', (m: { id: number; kind: 'commit' | 'suspect'; payloads: JsonObject[] }) => {
  try {
    const indices = m.kind === 'commit' ? appendGuardCommitments(ledger, m.payloads) : [appendExtractionSuspected(ledger, m.payloads[0]!)];
    parentPort!.postMessage({ id: m.id, indices });
  } catch (err) {
    parentPort!.postMessage({ id: m.id, error: `${(err as { code?: string }).code ?? 'ERROR'}: ${(err as Error).message}` });
  }
});
