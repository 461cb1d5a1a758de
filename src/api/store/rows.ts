// The API's own state as rows: what the key store (keys.ts) and the job runner (jobs.ts) read and
// write, behind one interface with two stores: api.db in the home (SQLite, the embedded default)
// and PostgreSQL (many replicas). Calls are synchronous on both, as the ledger's are.
import type { JobStatus } from '../jobs.js';

export interface KeyRow {
  id: string;
  name: string;
  role: string;
  hash: Buffer;
  created_at: string;
  revoked_at: string | null;
}

export interface KeyRows {
  byId(id: string): KeyRow | undefined;
  all(): KeyRow[];
  insert(row: Omit<KeyRow, 'revoked_at'>): void;
  /** Sets revoked_at unless it is already set. */
  revoke(id: string, at: string): void;
  remove(id: string): void;
}

export interface JobRow {
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
  /** Times the job was claimed by a runner (0 while first queued). */
  attempts: number;
  /** The replica holding the job while it runs (null when none). */
  claimed_by: string | null;
  /** Replicas whose lease on this job expired (they died or lost the database), oldest first. */
  taken_over_from: string[];
}

/** A runner's hold on a job: only the holder of the current claim may report progress or finish it. */
export interface JobClaim {
  readonly id: string;
  readonly replica: string;
  readonly attempt: number;
}

export type JobEnd = { status: 'succeeded'; result: string } | { status: 'failed'; code: string; message: string };

export interface JobFilter {
  status?: JobStatus;
  kind?: string;
  limit: number;
}

export interface JobRows {
  /**
   * Whether several servers share these rows (PostgreSQL): jobs are then claimed with a lease,
   * heartbeated, taken over when the lease expires, and handed back on a clean shutdown. Alone
   * (api.db), a job left running by a stopped server is marked interrupted instead.
   */
  readonly shared: boolean;
  insert(row: { id: string; kind: string; actor: string; params: string; at: string }): void;
  get(id: string): JobRow | undefined;
  list(filter: JobFilter): JobRow[];
  /**
   * Claims the oldest queued job of one of `kinds` (or, shared, one whose holder's lease expired:
   * re-run from scratch, attempts + 1, the old holder recorded in taken_over_from). A job whose
   * lease expired `maxAttempts` times is failed (JOB_ABANDONED) instead of run again.
   */
  claimNext(replica: string, kinds: readonly string[], at: string, leaseMs: number, maxAttempts: number): JobRow | undefined;
  /** Records progress; false when the claim is no longer current (the job was taken over). */
  progress(claim: JobClaim, progress: string, at: string): boolean;
  /** Finishes the job; false when the claim is no longer current: the job is someone else's now. */
  finish(claim: JobClaim, end: JobEnd, at: string): boolean;
  /** Fails a job that no runner holds (an unknown kind, or jobs a stopped server left running). */
  failUnclaimed(id: string, code: string, message: string, at: string): void;
  /** Extends the leases of the jobs `replica` runs; returns the ids it still holds. */
  heartbeat(replica: string, ids: readonly string[], leaseMs: number): string[];
  /** Hands a running job back to the queue (a clean shutdown of a shared runner). */
  release(claim: JobClaim, at: string): boolean;
  /** Alone: the ids of jobs left running (by a server that stopped). */
  running(): string[];
}
