// Checkpoints on a second thread. In WAL mode every commit appends pages to the -wal file, and a
// checkpoint copies them back into the database file (with an fsync of each under
// synchronous=FULL). SQLite runs that copy inside the commit that crosses wal_autocheckpoint
// (1,000 pages), so a writer that appends steadily pays for it on its own thread: about a fifth of
// a batched append's time here. SQLite's documentation allows the other arrangement: a second
// connection runs PASSIVE checkpoints, which never wait for or block the writer and never touch
// what a commit made durable. So once a handle has appended enough to matter (startAfterBytes),
// a worker thread with its own connection checkpoints every everyBytes appended (or a second
// after the last append), and the writer's own threshold is raised to WRITER_AUTOCHECKPOINT
// pages: a PASSIVE checkpoint cannot rewind a WAL that a writer keeps growing, so the writer's
// rarer checkpoint, which then finds nearly every page already copied, lets it restart from the
// beginning, and it bounds the WAL if the worker falls behind or stops.
// Short-lived handles (a CLI command) never start the thread. close() stops the worker and waits
// for its connection to close, so the writer's connection is the last and removes the WAL as before.
import { createRequire } from 'node:module';
import { resolve } from 'node:path';
import { Worker } from 'node:worker_threads';

export interface BackgroundCheckpointOptions {
  /** Bytes of entries this handle appends before the thread starts (default 4 MiB). */
  readonly startAfterBytes?: number;
  /** Bytes of entries appended between two checkpoints (default 1 MiB). */
  readonly everyBytes?: number;
}

/** The writer's wal_autocheckpoint (pages) while the thread runs. */
export const WRITER_AUTOCHECKPOINT = 2000;
const DEFAULT_START = 4 << 20;
const DEFAULT_EVERY = 1 << 20;
/** Slots of the shared Int32Array. */
const APPENDED = 0; // bytes appended, modulo 2^32 (differences are taken with wrap-around)
const STOP = 1; // set by close()
const STOPPED = 2; // set by the worker once its connection is closed
const CHECKPOINTS = 3; // checkpoints run (for tests and figures)

// The worker, as a CommonJS script: it needs no compiled file next to this one (tests run the sources).
const WORKER = `
const { workerData } = require('node:worker_threads');
const sig = new Int32Array(workerData.shared);
let db;
try {
  const Database = require(workerData.driver);
  db = new Database(workerData.path, { fileMustExist: true });
  db.pragma('synchronous = FULL');
  let done = 0; // bytes appended since the thread was started, the first batch included
  let last = Date.now();
  while (!Atomics.load(sig, ${STOP})) {
    Atomics.wait(sig, ${APPENDED}, Atomics.load(sig, ${APPENDED}), 1000);
    if (Atomics.load(sig, ${STOP})) break;
    const now = Atomics.load(sig, ${APPENDED});
    const pending = (now - done) >>> 0;
    if (pending === 0 || (pending < workerData.every && Date.now() - last < 1000)) continue;
    db.pragma('wal_checkpoint(PASSIVE)');
    Atomics.add(sig, ${CHECKPOINTS}, 1);
    done = now;
    last = Date.now();
  }
} finally {
  try { db?.close(); } finally {
    Atomics.store(sig, ${STOPPED}, 1);
    Atomics.notify(sig, ${STOPPED});
  }
}`;

const driver = createRequire(import.meta.url).resolve('better-sqlite3');

/** Counts a handle's appended bytes and runs the checkpoint thread once they pass the threshold. */
export class BackgroundCheckpointer {
  private readonly sig = new Int32Array(new SharedArrayBuffer(16));
  private worker: Worker | undefined;
  private appended = 0;
  private readonly start: number;
  private readonly every: number;

  /** `onStart` raises the writer's own checkpoint threshold (it runs before the thread starts). */
  constructor(private readonly path: string, private readonly onStart: () => void, options: BackgroundCheckpointOptions = {}) {
    this.start = options.startAfterBytes ?? DEFAULT_START;
    this.every = options.everyBytes ?? DEFAULT_EVERY;
  }

  /** After each committed append: the bytes it added. */
  appendedBytes(bytes: number): void {
    this.appended += bytes;
    if (!this.worker) {
      if (this.appended < this.start) return;
      this.onStart();
      // execArgv: [] keeps the script CommonJS when the process runs with --input-type=module.
      this.worker = new Worker(WORKER, { eval: true, execArgv: [], workerData: { driver, path: resolve(this.path), shared: this.sig.buffer, every: this.every } });
      this.worker.unref();
      // A failed worker leaves the writer's own (raised) threshold in charge; nothing is lost.
      this.worker.on('error', () => undefined);
    }
    Atomics.add(this.sig, APPENDED, bytes | 0);
    Atomics.notify(this.sig, APPENDED);
  }

  get running(): boolean {
    return this.worker !== undefined && !Atomics.load(this.sig, STOPPED);
  }

  get checkpoints(): number {
    return Atomics.load(this.sig, CHECKPOINTS);
  }

  /** Stops the thread and waits (up to 10 s) for its connection to close. */
  stop(): void {
    if (!this.worker) return;
    Atomics.store(this.sig, STOP, 1);
    Atomics.notify(this.sig, APPENDED);
    Atomics.wait(this.sig, STOPPED, 0, 10_000);
    this.worker = undefined;
  }
}
