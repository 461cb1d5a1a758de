// The job runner: long work (audits, embedding, verification, calibration) runs in worker
// threads, one job per worker, while the server keeps answering. Jobs live in api.db or in
// PostgreSQL (store/), so any request (on any replica) can list them and a failed job keeps its
// reason. In PostgreSQL the jobs are a queue that every replica's runner takes from, holding each
// job with a heartbeated lease; a job whose replica died is re-run from scratch elsewhere
// (docs/postgres.md, "Jobs"). Kinds are registered by name; each
// names a module whose `run(params, ctx)` the worker calls (see job-worker.ts).
import type Database from 'better-sqlite3';
import { randomBytes, randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { hostname } from 'node:os';
import type { Clock, JsonObject } from '../../ledger/index.js';
import { ApiError, type Logger } from './errors.js';
import type { WorkerMessage } from './job-worker.js';
import { redactJson, redactPaths } from './redact.js';
import { spawnWorker } from './spawn-worker.js';
import type { JobClaim, JobEnd, JobRow, JobRows } from './store/rows.js';
import { sqliteJobRows } from './store/sqlite.js';

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
  /** Times a runner took the job (more than 1: a replica running it died and another took it over). */
  readonly attempts: number;
  /** The replica running it now (null unless running). */
  readonly replica: string | null;
  /** Replicas that held the job when their lease expired, oldest first (PostgreSQL store). */
  readonly takenOverFrom: readonly string[];
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
  /** 1 on the first run; more when a replica running the job died and this one took it over. */
  readonly attempt?: number;
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

type Row = JobRow;

const parse = (s: string | null): JsonObject | null => (s === null ? null : (JSON.parse(s) as JsonObject));

function toInfo(r: Row): JobInfo {
  return {
    id: r.id, kind: r.kind, status: r.status, actor: r.actor, params: parse(r.params) ?? {},
    progress: parse(r.progress), result: parse(r.result),
    error: r.error_code === null ? null : { code: r.error_code, message: r.error_message ?? '' },
    createdAt: r.created_at, updatedAt: r.updated_at,
    attempts: r.attempts, replica: r.claimed_by, takenOverFrom: r.taken_over_from,
  };
}

export interface JobRunnerOptions {
  /** api.db (SQLite); or `store`. */
  readonly db?: Database.Database;
  /** The job rows of another store (PostgreSQL: store/). */
  readonly store?: JobRows;
  readonly homeDir: string;
  readonly clock?: Clock;
  /** Jobs running at once (default 1: the machines this runs on have few cores). */
  readonly concurrency?: number;
  readonly log?: Logger;
  /** Handed to job workers in memory (workerData), never stored with a job or logged. */
  readonly passphrase?: string;
  /** Called after a job succeeds or fails (the server signs a checkpoint over what it appended). */
  readonly onFinish?: (job: JobInfo) => void;
  /** This runner's name in a shared store (default: host-pid-random). */
  readonly replica?: string;
  /** Shared store: how long a claim holds without a heartbeat, in ms (default 30 s). */
  readonly leaseMs?: number;
  /** Shared store: how often to look for queued jobs and expired leases, in ms (default 1 s). */
  readonly pollMs?: number;
  /** Shared store: a job whose lease expired this many times is failed (JOB_ABANDONED); default 3. */
  readonly maxAttempts?: number;
}

export function defaultReplicaId(): string {
  return `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
}

const INTERRUPTED = 'the server stopped while this job ran; submit it again';

export function createJobRunner(options: JobRunnerOptions): JobRunner {
  const { homeDir } = options;
  const rows: JobRows = options.store ?? sqliteJobRows(options.db ?? (() => { throw new TypeError('createJobRunner needs db or store'); })());
  const clock = options.clock ?? (() => new Date());
  const log = options.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const concurrency = options.concurrency ?? 1;
  const replica = options.replica ?? defaultReplicaId();
  const leaseMs = options.leaseMs ?? 30_000;
  const pollMs = options.pollMs ?? 1000;
  const maxAttempts = options.maxAttempts ?? 3;
  const kinds = new Map<string, JobKind>();
  const running = new Map<string, { worker: import('node:worker_threads').Worker; claim: JobClaim }>();
  const events = new EventEmitter();
  events.setMaxListeners(0);
  let closed = false;
  const now = () => clock().toISOString();

  // Alone, a job left running by a server that stopped cannot be resumed: say so instead of hiding it.
  // Shared, it belongs to a replica that may still run it; its lease decides (claimNext).
  if (!rows.shared) for (const id of rows.running()) rows.failUnclaimed(id, 'JOB_INTERRUPTED', INTERRUPTED, now());

  const get = (id: string): JobInfo => {
    const row = rows.get(id);
    if (!row) throw new ApiError('API_NOT_FOUND', `no job with id "${id.slice(0, 60)}"`);
    return toInfo(row);
  };

  /** The job is no longer this runner's (taken over, or finished): stop its worker. */
  const drop = (id: string) => {
    const r = running.get(id);
    running.delete(id);
    // A job that leaves a handle open must not keep its thread alive.
    void r?.worker.terminate();
  };

  const finish = (claim: JobClaim, kind: string, end: JobEnd) => {
    let won: boolean;
    try {
      won = rows.finish(claim, end, now());
    } catch (err) {
      // The database is gone: the lease will lapse and another replica re-runs the job.
      log(`job ${claim.id} (${kind}): could not record its end: ${(err as Error).message.split('\n')[0]}`);
      drop(claim.id);
      pump();
      return;
    }
    drop(claim.id);
    if (!won) {
      log(`job ${claim.id} (${kind}): attempt ${claim.attempt} ended after its lease was taken over; its ${end.status === 'succeeded' ? 'result' : 'failure'} is discarded`);
      pump();
      return;
    }
    const info = get(claim.id);
    try {
      options.onFinish?.(info);
    } catch (err) {
      log(`job ${claim.id}: after finishing: ${(err as Error).message.split('\n')[0]}`);
    }
    events.emit(claim.id, info);
    pump();
  };

  function start(row: Row): void {
    const claim: JobClaim = { id: row.id, replica, attempt: row.attempts };
    const kind = kinds.get(row.kind);
    if (!kind) {
      rows.finish(claim, { status: 'failed', code: 'JOB_UNKNOWN_KIND', message: `no job kind "${row.kind}" is registered on this server` }, now());
      events.emit(row.id, get(row.id));
      return;
    }
    if (row.attempts > 1) log(`job ${row.id} (${row.kind}): attempt ${row.attempts}, taken over from ${row.taken_over_from.at(-1) ?? 'a replica that shut down'}`);
    const worker = spawnWorker(new URL('./job-worker.js', import.meta.url), { module: kind.module.href, params: JSON.parse(row.params), homeDir, jobId: row.id, actor: row.actor, attempt: row.attempts, passphrase: options.passphrase });
    running.set(row.id, { worker, claim });
    let settled = false;
    const mine = () => !settled && !closed && running.get(row.id)?.worker === worker;
    worker.on('message', (m: WorkerMessage) => {
      if (!mine()) return;
      if (m.t === 'progress') {
        let held = true;
        try {
          held = rows.progress(claim, JSON.stringify(redactJson(m.progress, homeDir)), now());
        } catch (err) {
          log(`job ${row.id}: progress not recorded: ${(err as Error).message.split('\n')[0]}`);
        }
        if (!held) {
          settled = true;
          log(`job ${row.id} (${row.kind}): another replica took it over; stopping attempt ${claim.attempt}`);
          drop(row.id);
          pump();
        }
      } else if (m.t === 'done') { settled = true; finish(claim, row.kind, { status: 'succeeded', result: JSON.stringify(redactJson(m.result, homeDir)) }); }
      else if (m.t === 'error') {
        settled = true;
        // The log keeps the full message; the job record, which every role reads, names no server path.
        log(`job ${row.id} (${row.kind}) failed: ${m.detail ?? `${m.code}: ${m.message}`}`);
        finish(claim, row.kind, { status: 'failed', code: m.code, message: redactPaths(m.message, homeDir) });
      }
    });
    const crash = (why: string) => {
      // After close() the job is already released or marked interrupted.
      if (!mine()) return;
      settled = true;
      log(`job ${row.id} (${row.kind}) worker ended: ${why}`);
      finish(claim, row.kind, { status: 'failed', code: 'JOB_CRASHED', message: 'the job\'s worker stopped before it finished; the server log has the details' });
    };
    worker.on('error', (e) => crash(e.stack ?? String(e)));
    worker.on('exit', (code) => crash(`exit code ${code}`));
  }

  function pump(): void {
    while (!closed && running.size < concurrency && kinds.size > 0) {
      const row = rows.claimNext(replica, [...kinds.keys()], now(), leaseMs, maxAttempts);
      if (!row) return;
      start(row);
    }
  }

  // Shared: heartbeat what runs here, and look for work queued by other replicas or left by dead ones.
  const timers: NodeJS.Timeout[] = [];
  const guarded = (what: string, fn: () => void) => () => {
    try {
      fn();
    } catch (err) {
      log(`jobs: ${what}: ${(err as Error).message.split('\n')[0]}`);
    }
  };
  if (rows.shared) {
    const beat = guarded('heartbeat', () => {
      if (running.size === 0) return;
      const held = new Set(rows.heartbeat(replica, [...running.keys()], leaseMs));
      for (const id of [...running.keys()]) {
        if (held.has(id)) continue;
        log(`job ${id}: this replica lost its lease (another replica took the job over); stopping it here`);
        drop(id);
      }
    });
    timers.push(setInterval(beat, Math.max(50, Math.floor(leaseMs / 3))), setInterval(guarded('polling the queue', pump), pollMs));
    for (const t of timers) t.unref();
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
      rows.insert({ id, kind, actor, params: JSON.stringify(params), at: now() });
      const info = get(id);
      queueMicrotask(guarded('taking a job', pump));
      return info;
    },
    get,
    list({ status, kind, limit = 100 } = {}) {
      return rows.list({ ...(status ? { status } : {}), ...(kind ? { kind } : {}), limit: Math.min(Math.max(limit, 1), 1000) }).map(toInfo);
    },
    wait(id) {
      const info = get(id);
      const over = (j: JobInfo) => j.status === 'succeeded' || j.status === 'failed';
      if (over(info)) return Promise.resolve(info);
      return new Promise((resolve) => {
        let poll: NodeJS.Timeout | undefined;
        const on = (j: JobInfo) => {
          if (!over(j)) return;
          events.off(id, on);
          if (poll) clearInterval(poll);
          resolve(j);
        };
        events.on(id, on);
        // Shared, another replica may run it: read the record too.
        if (rows.shared) poll = setInterval(guarded('waiting for a job', () => on(get(id))), Math.min(pollMs, 250));
      });
    },
    async close() {
      closed = true;
      for (const t of timers) clearInterval(t);
      const held = [...running.values()];
      running.clear();
      for (const { claim } of held) {
        try {
          // Shared: hand it back so another replica runs it now; alone: nobody will, say so.
          if (rows.shared) rows.release(claim, now());
          else rows.finish(claim, { status: 'failed', code: 'JOB_INTERRUPTED', message: INTERRUPTED }, now());
          events.emit(claim.id, get(claim.id));
        } catch (err) {
          log(`job ${claim.id}: not handed back on close: ${(err as Error).message.split('\n')[0]}`);
        }
      }
      await Promise.all(held.map(({ worker }) => worker.terminate()));
    },
  };
}
