// The batch writer's thread (sqlite-writer.ts): its own connection to the ledger file, which runs
// a batch's transaction while the appending thread encodes and hashes the entries. It answers the
// synchronous bridge: begin (BEGIN IMMEDIATE, then where the log ends), rows (posted without a
// reply; the first failure is kept for commit), commit, rollback, close.
import Database from 'better-sqlite3';
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { LedgerError } from './errors.js';
import { RowInserter, type PackedRows } from './sqlite-rows.js';
import { serveBridge } from './sync-bridge.js';

const { path, synchronous } = workerData as { path: string; synchronous: 'FULL' | 'NORMAL' };

/**
 * The connection, opened at the first call. A failure to open is the answer to every call: the
 * caller is blocked in Atomics.wait and would not see the worker's error event until it timed out.
 */
function open() {
  const db = new Database(path, { fileMustExist: true });
  try {
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${synchronous}`);
    db.pragma('busy_timeout = 30000');
    db.pragma('cache_size = -65536');
    return { db, inserter: new RowInserter(db), last: db.prepare('SELECT idx, leaf_hash FROM entries ORDER BY idx DESC LIMIT 1') };
  } catch (err) {
    db.close();
    throw err;
  }
}
let connection: ReturnType<typeof open> | undefined;
let broken: LedgerError | undefined;
function conn(): ReturnType<typeof open> {
  if (broken) throw broken;
  try {
    return (connection ??= open());
  } catch (err) {
    broken = new LedgerError('LEDGER_UNAVAILABLE', `the batch writer cannot open the ledger: ${(err as Error).message}`);
    throw broken;
  }
}
/** The first error of this transaction's rows: commit rolls back and throws it. */
let failure: unknown;

const busy = (err: unknown): unknown =>
  (err as { code?: string }).code === 'SQLITE_BUSY' ? new LedgerError('LEDGER_BUSY', 'the ledger is locked by another writer; try again') : err;

function rollback(): void {
  if (connection?.db.inTransaction) connection.db.exec('ROLLBACK');
}

function handle(op: string, args: unknown[]): unknown {
  if (op === 'close') {
    rollback();
    connection?.db.close();
    connection = undefined;
    broken = new LedgerError('LEDGER_UNAVAILABLE', 'the batch writer is closed');
    return undefined;
  }
  const { db, inserter, last } = conn();
  switch (op) {
    case 'begin': {
      rollback();
      failure = undefined;
      try {
        db.exec('BEGIN IMMEDIATE');
      } catch (err) {
        throw busy(err);
      }
      const row = last.get() as { idx: number; leaf_hash: Buffer } | undefined;
      return { size: row ? row.idx + 1 : 0, lastLeaf: row ? new Uint8Array(row.leaf_hash) : null };
    }
    case 'rows':
      if (failure === undefined && db.inTransaction) {
        try {
          inserter.insert(args[0] as PackedRows);
        } catch (err) {
          failure = err;
        }
      }
      return undefined;
    case 'commit':
      if (!db.inTransaction) throw new LedgerError('LEDGER_UNAVAILABLE', 'the batch writer has no open transaction');
      if (failure !== undefined) {
        rollback();
        throw busy(failure);
      }
      try {
        db.exec('COMMIT');
      } catch (err) {
        rollback();
        throw busy(err);
      }
      return undefined;
    case 'rollback':
      rollback();
      return undefined;
    default:
      throw new TypeError(`unknown batch writer operation ${op}`);
  }
}

parentPort!.on('message', (msg: { bridge?: { port: MessagePort; signal: Int32Array } }) => {
  if (msg.bridge) serveBridge(msg.bridge.port, msg.bridge.signal, async (op, args) => handle(op, args));
});
