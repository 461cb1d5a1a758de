// The API's rows in PostgreSQL, asynchronous half: runs in the store's worker thread
// (pg-worker.ts). Jobs are claimed with FOR UPDATE SKIP LOCKED, so replicas never wait on each
// other's claims and never take the same job; every later write of a job names its claim
// (replica and attempt number), so a replica whose lease was taken over cannot report progress
// or finish the job: a job completes at most once.
import pg from 'pg';
import { quoteIdent } from '../../../ledger/pg-schema.js';
import { storeError } from '../../../ledger/pg-store.js';
import { migrateApi } from './pg-schema.js';
import type { JobClaim, JobEnd, JobFilter, JobRow, KeyRow } from './rows.js';

export interface PgApiOptions {
  readonly url: string;
  readonly schema?: string;
  /** Run the migrations (create or upgrade the tables). */
  readonly create?: boolean;
}

const JOB_COLUMNS = 'id, kind, status, actor, params, progress, result, error_code, error_message, created_at, updated_at, attempts, claimed_by, taken_over_from';
const CLAIM = 'id = $1 AND claimed_by = $2 AND attempts = $3 AND status = \'running\'';
const claimArgs = (c: JobClaim) => [c.id, c.replica, c.attempt];

export class PgApiRows {
  private constructor(private readonly pool: pg.Pool) {}

  static async open(options: PgApiOptions): Promise<PgApiRows> {
    const schema = options.schema ?? 'hallmark';
    quoteIdent(schema);
    const pool = new pg.Pool({
      connectionString: options.url, max: 4, options: `-c search_path=${schema}`, connectionTimeoutMillis: 10_000,
      idle_in_transaction_session_timeout: 30_000,
    } as pg.PoolConfig);
    pool.on('error', () => undefined);
    try {
      const c = await pool.connect();
      try {
        await migrateApi(c, schema, options.create === true);
      } finally {
        c.release();
      }
    } catch (err) {
      await pool.end().catch(() => undefined);
      throw storeError(err);
    }
    return new PgApiRows(pool);
  }

  private async q<T extends pg.QueryResultRow>(sql: string, args: unknown[] = []): Promise<T[]> {
    try {
      return (await this.pool.query<T>(sql, args)).rows;
    } catch (err) {
      throw storeError(err);
    }
  }

  private async tx<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    let c: pg.PoolClient;
    try {
      c = await this.pool.connect();
    } catch (err) {
      throw storeError(err);
    }
    try {
      await c.query('BEGIN');
      const out = await fn(c);
      await c.query('COMMIT');
      return out;
    } catch (err) {
      await c.query('ROLLBACK').catch(() => undefined);
      throw storeError(err);
    } finally {
      c.release();
    }
  }

  // Keys
  async keyById(id: string): Promise<KeyRow | undefined> {
    return (await this.q<KeyRow>('SELECT * FROM api_keys WHERE id = $1', [id]))[0];
  }
  keysAll(): Promise<KeyRow[]> {
    return this.q<KeyRow>('SELECT * FROM api_keys ORDER BY created_at, id');
  }
  async keyInsert(r: Omit<KeyRow, 'revoked_at'>): Promise<void> {
    await this.q('INSERT INTO api_keys (id, name, role, hash, created_at) VALUES ($1, $2, $3, $4, $5)', [r.id, r.name, r.role, Buffer.from(r.hash), r.created_at]);
  }
  async keyRevoke(id: string, at: string): Promise<void> {
    await this.q('UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL', [at, id]);
  }
  async keyRemove(id: string): Promise<void> {
    await this.q('DELETE FROM api_keys WHERE id = $1', [id]);
  }

  // Jobs
  async jobInsert(r: { id: string; kind: string; actor: string; params: string; at: string }): Promise<void> {
    await this.q("INSERT INTO api_jobs (id, kind, status, actor, params, created_at, updated_at) VALUES ($1, $2, 'queued', $3, $4, $5, $5)", [r.id, r.kind, r.actor, r.params, r.at]);
  }
  async jobGet(id: string): Promise<JobRow | undefined> {
    return (await this.q<JobRow>(`SELECT ${JOB_COLUMNS} FROM api_jobs WHERE id = $1`, [id]))[0];
  }
  jobList({ status, kind, limit }: JobFilter): Promise<JobRow[]> {
    return this.q<JobRow>(`SELECT ${JOB_COLUMNS} FROM api_jobs WHERE ($1::text IS NULL OR status = $1) AND ($2::text IS NULL OR kind = $2) ORDER BY seq DESC LIMIT $3`, [status ?? null, kind ?? null, limit]);
  }

  async jobClaimNext(replica: string, kinds: readonly string[], at: string, leaseMs: number, maxAttempts: number): Promise<JobRow | undefined> {
    for (;;) {
      const r = await this.tx(async (c) => {
        const next = (await c.query<{ id: string; status: string; claimed_by: string | null; attempts: number }>(
          `SELECT id, status, claimed_by, attempts FROM api_jobs
           WHERE kind = ANY($1) AND (status = 'queued' OR (status = 'running' AND lease_until < now()))
           ORDER BY seq LIMIT 1 FOR UPDATE SKIP LOCKED`, [kinds])).rows[0];
        if (!next) return { done: true as const, row: undefined };
        const takeover = next.status === 'running';
        if (takeover) {
          await c.query("UPDATE api_job_attempts SET outcome = 'lost', ended_at = now() WHERE job_id = $1 AND attempt = $2 AND outcome IS NULL", [next.id, next.attempts]);
          if (next.attempts >= maxAttempts) {
            await c.query(`UPDATE api_jobs SET status = 'failed', claimed_by = NULL, lease_until = NULL, taken_over_from = taken_over_from || $2::text,
              error_code = 'JOB_ABANDONED', error_message = $3, updated_at = $4 WHERE id = $1`,
            [next.id, next.claimed_by, `the replicas running this job stopped ${next.attempts} times before it finished; submit it again`, at]);
            return { done: false as const, row: undefined };
          }
        }
        const row = (await c.query<JobRow>(
          `UPDATE api_jobs SET status = 'running', claimed_by = $2, lease_until = now() + $3 * interval '1 millisecond', attempts = attempts + 1,
             taken_over_from = CASE WHEN $4::text IS NULL THEN taken_over_from ELSE taken_over_from || $4::text END, updated_at = $5
           WHERE id = $1 RETURNING ${JOB_COLUMNS}`, [next.id, replica, leaseMs, takeover ? next.claimed_by : null, at])).rows[0]!;
        await c.query('INSERT INTO api_job_attempts (job_id, attempt, replica) VALUES ($1, $2, $3)', [row.id, row.attempts, replica]);
        return { done: true as const, row };
      });
      if (r.done) return r.row;
    }
  }

  async jobProgress(claim: JobClaim, progress: string, at: string): Promise<boolean> {
    return (await this.q(`UPDATE api_jobs SET progress = $4, updated_at = $5 WHERE ${CLAIM} RETURNING id`, [...claimArgs(claim), progress, at])).length === 1;
  }

  async jobFinish(claim: JobClaim, end: JobEnd, at: string): Promise<boolean> {
    const set = end.status === 'succeeded' ? "status = 'succeeded', result = $4, updated_at = $5" : "status = 'failed', error_code = $4, error_message = $6, updated_at = $5";
    const args = end.status === 'succeeded' ? [...claimArgs(claim), end.result, at] : [...claimArgs(claim), end.code, at, end.message];
    const rows = await this.q<{ n: number }>(
      `WITH u AS (UPDATE api_jobs SET ${set}, claimed_by = NULL, lease_until = NULL WHERE ${CLAIM} RETURNING id),
            a AS (UPDATE api_job_attempts SET outcome = '${end.status}', ended_at = now() WHERE job_id = $1 AND attempt = $3 AND EXISTS (SELECT 1 FROM u))
       SELECT count(*)::int AS n FROM u`, args);
    return rows[0]!.n === 1;
  }

  async jobFailUnclaimed(id: string, code: string, message: string, at: string): Promise<void> {
    await this.q("UPDATE api_jobs SET status = 'failed', error_code = $2, error_message = $3, claimed_by = NULL, lease_until = NULL, updated_at = $4 WHERE id = $1 AND status = 'queued'", [id, code, message, at]);
  }

  async jobHeartbeat(replica: string, ids: readonly string[], leaseMs: number): Promise<string[]> {
    if (ids.length === 0) return [];
    const rows = await this.q<{ id: string }>(
      "UPDATE api_jobs SET lease_until = now() + $3 * interval '1 millisecond' WHERE claimed_by = $1 AND status = 'running' AND id = ANY($2) RETURNING id", [replica, ids, leaseMs]);
    return rows.map((r) => r.id);
  }

  async jobRelease(claim: JobClaim, at: string): Promise<boolean> {
    const rows = await this.q<{ n: number }>(
      `WITH u AS (UPDATE api_jobs SET status = 'queued', claimed_by = NULL, lease_until = NULL, updated_at = $4 WHERE ${CLAIM} RETURNING id),
            a AS (UPDATE api_job_attempts SET outcome = 'released', ended_at = now() WHERE job_id = $1 AND attempt = $3 AND EXISTS (SELECT 1 FROM u))
       SELECT count(*)::int AS n FROM u`, [...claimArgs(claim), at]);
    return rows[0]!.n === 1;
  }

  close(): Promise<void> {
    return this.pool.end();
  }
}
