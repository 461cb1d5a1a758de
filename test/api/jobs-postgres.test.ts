// API keys and the job queue on PostgreSQL, two runners ("replicas") over one real database:
// keys revoked through one store are refused by the other at once; jobs are taken by whichever
// runner is free, each completes exactly once; a job whose holder stops heartbeating is taken
// over (attempts, taken_over_from, the attempt log), and the stale holder can neither report
// progress nor finish it; a job taken over too often is abandoned; a clean shutdown hands its
// job back; a newer API schema refuses to start.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { createJobRunner, type JobInfo, type JobRunner } from '../../src/api/jobs.js';
import { openKeyStore } from '../../src/api/keys.js';
import { openPgApiStore, type PgApiStore } from '../../src/api/store/index.js';

const url = inject('postgresUrl');
let n = 0;
const schema = () => `apit_${process.pid}_${n++}`;
const home = mkdtempSync(join(tmpdir(), 'hm-pgjobs-'));
const STEPS = { kind: 'test.steps', module: new URL('./fixtures/steps-job.ts', import.meta.url) };
const opened: PgApiStore[] = [];
const runners: JobRunner[] = [];
const open = (s: string) => {
  const st = openPgApiStore({ url, schema: s, create: true });
  opened.push(st);
  return st;
};
const runner = (st: PgApiStore, replica: string, extra: { leaseMs?: number; maxAttempts?: number; concurrency?: number } = {}) => {
  const r = createJobRunner({ store: st.jobs, homeDir: home, replica, pollMs: 50, leaseMs: extra.leaseMs ?? 2000, log: () => undefined, ...extra });
  r.register(STEPS);
  runners.push(r);
  return r;
};
async function sql<T extends pg.QueryResultRow>(s: string, text: string, args: unknown[] = []): Promise<T[]> {
  const c = new pg.Client({ connectionString: url, options: `-c search_path=${s}` });
  await c.connect();
  try {
    return (await c.query<T>(text, args)).rows;
  } finally {
    await c.end();
  }
}
const until = async (what: string, ok: () => boolean, ms = 30_000) => {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

afterAll(async () => {
  for (const r of runners) await r.close();
  for (const s of opened) s.close();
});

describe('API keys on PostgreSQL', () => {
  it('a key created through one replica works on another, and a revocation on one is refused by the other at once', () => {
    const s = schema();
    const a = openKeyStore(open(s).keys);
    const b = openKeyStore(open(s).keys);
    const { key, secret } = a.create({ role: 'engineer', name: 'shared' });
    expect(b.authenticate(secret)).toMatchObject({ ok: true, key: { id: key.id, role: 'engineer' } });
    expect(b.list().map((k) => k.id)).toEqual([key.id]);
    b.revoke(key.id);
    expect(a.authenticate(secret)).toEqual({ ok: false, reason: 'revoked' });
    // Only the hash is stored: the secret is nowhere in the rows.
    expect(a.authenticate(`${secret.slice(0, -1)}${secret.endsWith('A') ? 'B' : 'A'}`)).toEqual({ ok: false, reason: 'unknown' });
  });

  it('records its schema in the ledger\'s versioned scheme; a newer one refuses to start', async () => {
    const s = schema();
    open(s);
    expect(await sql(s, 'SELECT component, version FROM hallmark_migrations')).toEqual([{ component: 'api', version: 1 }]);
    await sql(s, "INSERT INTO hallmark_migrations (component, version) VALUES ('api', 2)");
    expect(() => openPgApiStore({ url, schema: s, create: true })).toThrow(/API schema \(keys, jobs\) is version 2, newer than this hallmark understands \(1\); upgrade hallmark/);
  });
});

describe('the job queue on PostgreSQL', () => {
  it('two replicas share the queue: every job completes exactly once, progress is read from either', async () => {
    const s = schema();
    const sa = open(s);
    const sb = open(s);
    const a = runner(sa, 'replica-a', { concurrency: 2 });
    const b = runner(sb, 'replica-b', { concurrency: 2 });
    const ids = Array.from({ length: 6 }, (_, i) => (i % 2 ? a : b).submit('test.steps', { steps: 3, ms: 30 }, 'test').id);
    const done = await Promise.all(ids.map((id) => a.wait(id)));
    for (const j of done) {
      expect(j.status).toBe('succeeded');
      expect(j.attempts).toBe(1);
      expect(j.progress).toEqual({ step: 3, of: 3 });
      expect(b.get(j.id)).toEqual(j);
    }
    const attempts = await sql<{ job_id: string; replica: string; outcome: string }>(s, 'SELECT job_id, replica, outcome FROM api_job_attempts');
    expect(attempts).toHaveLength(6);
    expect(new Set(attempts.map((r) => r.job_id)).size).toBe(6);
    expect(attempts.every((r) => r.outcome === 'succeeded')).toBe(true);
    expect(new Set(attempts.map((r) => r.replica))).toEqual(new Set(['replica-a', 'replica-b']));
  });

  it('a job whose replica stops heartbeating is re-run elsewhere; the stale holder cannot report or finish it', async () => {
    const s = schema();
    const dead = open(s).jobs;
    const st = open(s);
    // The "dead" replica claims the job with a 300 ms lease and never renews it.
    st.jobs.insert({ id: '11111111-1111-4111-8111-111111111111', kind: 'test.steps', actor: 'test', params: JSON.stringify({ steps: 2, ms: 20 }), at: new Date().toISOString() });
    const claimed = dead.claimNext('dead-replica', ['test.steps'], new Date().toISOString(), 300, 3)!;
    expect(claimed).toMatchObject({ status: 'running', attempts: 1, claimed_by: 'dead-replica' });
    const claim = { id: claimed.id, replica: 'dead-replica', attempt: 1 };
    expect(dead.progress(claim, JSON.stringify({ step: 'dead' }), new Date().toISOString())).toBe(true);
    const b = runner(st, 'replica-b', { leaseMs: 5000 });
    const done = await b.wait(claimed.id);
    expect(done).toMatchObject({ status: 'succeeded', attempts: 2, takenOverFrom: ['dead-replica'], replica: null, result: { steps: 2, attempt: 2 } });
    // The dead replica wakes up: its claim is gone.
    expect(dead.progress(claim, JSON.stringify({ step: 'late' }), new Date().toISOString())).toBe(false);
    expect(dead.finish(claim, { status: 'succeeded', result: JSON.stringify({ late: true }) }, new Date().toISOString())).toBe(false);
    expect(dead.finish(claim, { status: 'failed', code: 'X', message: 'late' }, new Date().toISOString())).toBe(false);
    expect(b.get(claimed.id)).toEqual(done);
    expect(await sql(s, 'SELECT attempt, replica, outcome FROM api_job_attempts ORDER BY attempt')).toEqual([
      { attempt: 1, replica: 'dead-replica', outcome: 'lost' },
      { attempt: 2, replica: 'replica-b', outcome: 'succeeded' },
    ]);
  });

  it('a running replica that lost its lease stops the job and its result is discarded', async () => {
    const s = schema();
    const a = runner(open(s), 'replica-slow', { leaseMs: 60_000 });
    const other = open(s).jobs;
    const job = a.submit('test.steps', { steps: 200, ms: 20 }, 'test');
    await until('the job to run on replica-slow', () => a.get(job.id).status === 'running');
    // Its lease is made to lapse (as if its heartbeats stopped reaching the database) and another replica takes over.
    await sql(s, "UPDATE api_jobs SET lease_until = now() - interval '1 second' WHERE id = $1", [job.id]);
    const taken = other.claimNext('replica-other', ['test.steps'], new Date().toISOString(), 60_000, 3)!;
    expect(taken).toMatchObject({ id: job.id, attempts: 2, claimed_by: 'replica-other', taken_over_from: ['replica-slow'] });
    // The slow replica's next progress report is refused: it stops; the job stays the other's.
    await new Promise((r) => setTimeout(r, 300));
    const now = a.get(job.id);
    expect(now).toMatchObject({ status: 'running', replica: 'replica-other', attempts: 2 });
    expect(other.finish({ id: job.id, replica: 'replica-other', attempt: 2 }, { status: 'succeeded', result: '{"by":"other"}' }, new Date().toISOString())).toBe(true);
    expect(a.get(job.id)).toMatchObject({ status: 'succeeded', result: { by: 'other' } });
  });

  it('a job taken over maxAttempts times is abandoned, not run forever', async () => {
    const s = schema();
    const st = open(s).jobs;
    st.insert({ id: '22222222-2222-4222-8222-222222222222', kind: 'test.steps', actor: 'test', params: '{}', at: new Date().toISOString() });
    for (const r of ['r1', 'r2']) {
      expect(st.claimNext(r, ['test.steps'], new Date().toISOString(), 1, 2)?.claimed_by).toBe(r);
      await new Promise((res) => setTimeout(res, 20));
    }
    expect(st.claimNext('r3', ['test.steps'], new Date().toISOString(), 1, 2)).toBeUndefined();
    const row = st.get('22222222-2222-4222-8222-222222222222')!;
    expect(row).toMatchObject({ status: 'failed', error_code: 'JOB_ABANDONED', attempts: 2, taken_over_from: ['r1', 'r2'], claimed_by: null });
  });

  it('a replica shutting down cleanly hands its running job back to the queue', async () => {
    const s = schema();
    const a = runner(open(s), 'replica-leaving');
    const job = a.submit('test.steps', { steps: 50, ms: 20 }, 'test');
    await until('the job to run', () => a.get(job.id).status === 'running');
    await a.close();
    expect(a.get(job.id)).toMatchObject({ status: 'queued', replica: null, attempts: 1 });
    const b = runner(open(s), 'replica-staying');
    const done: JobInfo = await b.wait(job.id);
    expect(done).toMatchObject({ status: 'succeeded', attempts: 2, takenOverFrom: [] });
    expect(await sql(s, 'SELECT attempt, replica, outcome FROM api_job_attempts ORDER BY attempt')).toEqual([
      { attempt: 1, replica: 'replica-leaving', outcome: 'released' },
      { attempt: 2, replica: 'replica-staying', outcome: 'succeeded' },
    ]);
  });
});
