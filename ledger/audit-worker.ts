// Worker thread for the parallel audit: opens the database read-only and audits one range.
import Database from 'better-sqlite3';
import { parentPort, workerData } from 'node:worker_threads';
import { auditEntryRange } from './audit-entries.js';

const { path, from, to } = workerData as { path: string; from: number; to: number };
const db = new Database(path, { readonly: true, fileMustExist: true });
try {
  // Read the pages through a memory map instead of one read() copy each: the pass reads the whole
  // file once. Safe here because a ledger's file never shrinks (no deletes, no VACUUM).
  db.pragma('mmap_size = 2147418112');
  const r = auditEntryRange(db, from, to);
  parentPort!.postMessage(r, [r.leaves.buffer as ArrayBuffer]);
} finally {
  db.close();
}
