// The job runner: long work (audits, embedding, verification, calibration) runs in worker
// threads, one job per worker, while the server keeps answering. Jobs live in api.db, so any
// request can list them and a failed job keeps its reason. Kinds are registered by name; each
// names a module whose `run(params, ctx)` the worker calls (see job-worker.ts).
import type Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Clock, JsonObject } from '../../ledger/index.js';
import { ApiError, type Logger } from './errors.js';
import type { WorkerMessage } from './job-worker.js';
import { redactJson, redactPaths } from './redact.js';
import { spawnWorker } from './spawn-worker.js';

export type JobStatus = 'queued' | 'running' | 'succeeded' | 'failed';
export const JOB_STATUSES: readonly JobStatus[] = ['queued', 'running', 'succeeded', 'failed'];

export interface JobInfo {
  readonly id: string;
  readonly kind: string;
  readonly status: JobStatus;
  readonly actor: string;
  readonly params: JsonObject;
  readonly progress: JsonObject | null;
  readonly result: JsonObject | null;
  readonly error: { readonly code: string; readonly message: string } | null;
  readonly createdAt: string;
  readonly updatedAt: string;
}

/** A kind of job. `module` exports `run(params: JsonObject, ctx: JobContext): Promise<JsonObject>`. */
export interface JobKind {
  readonly kind: string;
  readonly module: URL;
}

/** What a job function gets inside its worker thread. */
export interface JobContext {
  readonly homeDir: string;
  readonly jobId: string;
  /** The submitter, `key:<id>`: the actor of every ledger entry the job appends. */
  readonly actor: string;
  /** The server's watermark-secret passphrase (HALLMARK_PASSPHRASE at startup), if it has one. */
  readonly passphrase?: string;
  progress(p: JsonObject): void;
}

export type JobFunction = (params: JsonObject, ctx: JobContext) => Promise<JsonObject> | JsonObject;

export interface JobRunner {
  register(kind: JobKind): void;
  kinds(): string[];
  submit(kind: string, params: JsonObject, actor: string): JobInfo;
  get(id: string): JobInfo;
  list(options?: { status?: JobStatus; kind?: string; limit?: number }): JobInfo[];
  /** Resolves once the job has succeeded or failed. */
  wait(id: string): Promise<JobInfo>;
  /** Stops taking work, terminates running workers and marks their jobs failed. */
  close(): Promise<void>;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS jobs (
  id TEXT PRIMARY KEY,
  kind TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed')),
  actor TEXT NOT NULL,
  params TEXT NOT NULL,
  progress TEXT,
  result TEXT,
  error_code TEXT,
  error_message TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS jobs_by_status ON jobs (status, created_at);
`;

interface Row {
  id: string;
  kind: string;
  status: JobStatus;
  actor: string;
  params: string;
  progress: string | null;
  result: string | null;
  error_code: string | null;
  error_message: string | null;
  created_at: string;
  updated_at: string;
}

const parse = (s: string | null): JsonObject | null => (s === null ? null : (JSON.parse(s) as JsonObject));

function toInfo(r: Row): JobInfo {
  return {
    id: r.id, kind: r.kind, status: r.status, actor: r.actor, params: parse(r.params) ?? {},
    progress: parse(r.progress), result: parse(r.result),
    error: r.error_code === null ? null : { code: r.error_code, message: r.error_message ?? '' },
    createdAt: r.created_at, updatedAt: r.updated_at,
  };
}

export interface JobRunnerOptions {
  readonly db: Database.Database;
  readonly homeDir: string;
  readonly clock?: Clock;
  /** Jobs running at once (default 1: the machines this runs on have few cores). */
  readonly concurrency?: number;
  readonly log?: Logger;
  /** Handed to job workers in memory (workerData), never stored with a job or logged. */
  readonly passphrase?: string;
  /** Called after a job succeeds or fails (the server signs a checkpoint over what it appended). */
  readonly onFinish?: (job: JobInfo) => void;
}

export function createJobRunner(options: JobRunnerOptions): JobRunner {
  const { db, homeDir } = options;
  const clock = options.clock ?? (() => new Date());
  const log = options.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const concurrency = options.concurrency ?? 1;
  const kinds = new Map<string, JobKind>();
  const running = new Map<string, import('node:worker_threads').Worker>();
  const events = new EventEmitter();
  events.setMaxListeners(0);
  let closed = false;

  db.exec(SCHEMA);
  const st = {
    insert: db.prepare('INSERT INTO jobs (id, kind, status, actor, params, created_at, updated_at) VALUES (?, ?, \'queued\', ?, ?, ?, ?)'),
    get: db.prepare<[string], Row>('SELECT * FROM jobs WHERE id = ?'),
    next: db.prepare<[], Row>("SELECT * FROM jobs WHERE status = 'queued' ORDER BY created_at, rowid LIMIT 1"),
    start: db.prepare("UPDATE jobs SET status = 'running', updated_at = ? WHERE id = ? AND status = 'queued'"),
    progress: db.prepare("UPDATE jobs SET progress = ?, updated_at = ? WHERE id = ? AND status = 'running'"),
    succeed: db.prepare("UPDATE jobs SET status = 'succeeded', result = ?, updated_at = ? WHERE id = ? AND status = 'running'"),
    fail: db.prepare("UPDATE jobs SET status = 'failed', error_code = ?, error_message = ?, updated_at = ? WHERE id = ? AND status IN ('queued', 'running')"),
  };
  const now = () => clock().toISOString();

  // A job left running by a server that stopped cannot be resumed: say so instead of hiding it.
  db.prepare("UPDATE jobs SET status = 'failed', error_code = 'JOB_INTERRUPTED', error_message = 'the server stopped while this job ran; submit it again', updated_at = ? WHERE status = 'running'").run(now());

  const get = (id: string): JobInfo => {
    const row = st.get.get(id);
    if (!row) throw new ApiError('API_NOT_FOUND', `no job with id "${id.slice(0, 60)}"`);
    return toInfo(row);
  };

  const finish = (id: string, fn: () => void) => {
    fn();
    // A job that leaves a handle open must not keep its thread alive.
    void running.get(id)?.terminate();
    running.delete(id);
    const info = get(id);
    try {
      options.onFinish?.(info);
    } catch (err) {
      log(`job ${id}: after finishing: ${(err as Error).message.split('\n')[0]}`);
    }
    events.emit(id, info);
    pump();
  };

  function start(row: Row): void {
    const kind = kinds.get(row.kind);
    st.start.run(now(), row.id);
    if (!kind) {
      st.fail.run('JOB_UNKNOWN_KIND', `no job kind "${row.kind}" is registered on this server`, now(), row.id);
      events.emit(row.id, get(row.id));
      return;
    }
    const worker = spawnWorker(new URL('./job-worker.js', import.meta.url), { module: kind.module.href, params: JSON.parse(row.params), homeDir, jobId: row.id, actor: row.actor, passphrase: options.passphrase });
    running.set(row.id, worker);
    let settled = false;
    worker.on('message', (m: WorkerMessage) => {
      if (m.t === 'progress') st.progress.run(JSON.stringify(redactJson(m.progress, homeDir)), now(), row.id);
      else if (m.t === 'done') { settled = true; finish(row.id, () => st.succeed.run(JSON.stringify(redactJson(m.result, homeDir)), now(), row.id)); }
      else if (m.t === 'error') {
        settled = true;
        // The log keeps the full message; the job record, which every role reads, names no server path.
        log(`job ${row.id} (${row.kind}) failed: ${m.detail ?? `${m.code}: ${m.message}`}`);
        finish(row.id, () => st.fail.run(m.code, redactPaths(m.message, homeDir), now(), row.id));
      }
    });
    const crash = (why: string) => {
      // After close() the job is already marked interrupted.
      if (settled || closed) return;
      settled = true;
      log(`job ${row.id} (${row.kind}) worker ended: ${why}`);
      finish(row.id, () => st.fail.run('JOB_CRASHED', 'the job\'s worker stopped before it finished; the server log has the details', now(), row.id));
    };
    worker.on('error', (e) => crash(e.stack ?? String(e)));
    worker.on('exit', (code) => crash(`exit code ${code}`));
  }

  function pump(): void {
    while (!closed && running.size < concurrency) {
      const row = st.next.get();
      if (!row) return;
      start(row);
    }
  }

  return {
    register(kind) {
      if (!/^[a-z][a-z0-9-]*(\.[a-z][a-z0-9-]*)*$/.test(kind.kind)) throw new TypeError(`job kind must be a dotted lower-case name, got ${JSON.stringify(kind.kind)}`);
      if (kinds.has(kind.kind)) throw new TypeError(`job kind "${kind.kind}" is already registered`);
      kinds.set(kind.kind, kind);
      pump();
    },
    kinds: () => [...kinds.keys()].sort(),
    submit(kind, params, actor) {
      if (closed) throw new ApiError('API_INVALID_REQUEST', 'the job runner is shutting down');
      if (!kinds.has(kind)) throw new ApiError('API_INVALID_REQUEST', `unknown job kind "${kind.slice(0, 60)}"; known: ${[...kinds.keys()].join(', ')}`);
      const id = randomUUID();
      const t = now();
      st.insert.run(id, kind, actor, JSON.stringify(params), t, t);
      const info = get(id);
      queueMicrotask(pump);
      return info;
    },
    get,
    list({ status, kind, limit = 100 } = {}) {
      const where: string[] = [];
      const args: (string | number)[] = [];
      if (status) { where.push('status = ?'); args.push(status); }
      if (kind) { where.push('kind = ?'); args.push(kind); }
      const sql = `SELECT * FROM jobs ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at DESC, rowid DESC LIMIT ?`;
      return (db.prepare(sql).all(...args, Math.min(Math.max(limit, 1), 1000)) as Row[]).map(toInfo);
    },
    wait(id) {
      const info = get(id);
      if (info.status === 'succeeded' || info.status === 'failed') return Promise.resolve(info);
      return new Promise((resolve) => {
        const on = (j: JobInfo) => {
          if (j.status === 'succeeded' || j.status === 'failed') { events.off(id, on); resolve(j); }
        };
        events.on(id, on);
      });
    },
    async close() {
      closed = true;
      const workers = [...running.entries()];
      running.clear();
      for (const [id] of workers) {
        st.fail.run('JOB_INTERRUPTED', 'the server stopped while this job ran; submit it again', now(), id);
        events.emit(id, get(id));
      }
      await Promise.all(workers.map(([, w]) => w.terminate()));
    },
  };
}
