import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openApiDb } from '../../src/api/api-db.js';
import { LEDGER_AUDIT } from '../../src/api/job-kinds/ledger-audit.js';
import { createJobRunner, type JobInfo } from '../../src/api/jobs.js';
import { errorOf, makeTestApi, type TestApi } from './helpers.js';

let t: TestApi;
beforeAll(() => {
  t = makeTestApi();
  for (let b = 0; b < 5; b++) t.home.ledger.appendBatch(Array.from({ length: 1000 }, (_, i) => ({ type: 'note.added', actor: 'test', payload: { b, i } })));
  t.home.ledger.checkpoint();
});
afterAll(() => t.dispose());

const job = async (id: string) => (await (await t.req(`/v1/jobs/${id}`, { role: 'auditor' })).json()) as JobInfo;

describe('job runner', () => {
  it('audits the ledger in a worker thread while the server keeps answering', async () => {
    const res = await t.req('/v1/ledger/audit', { method: 'POST', role: 'auditor' });
    expect(res.status).toBe(202);
    const queued = (await res.json()) as JobInfo;
    expect(queued.kind).toBe('ledger.audit');
    // The submission itself is recorded in the ledger under the caller's key.
    const last = t.home.ledger.get(t.home.ledger.size() - 1).entry;
    expect(last.type).toBe('api.job-submitted');
    expect(last.payload.jobId).toBe(queued.id);
    expect(last.actor).toMatch(/^key:[0-9a-f]{12}$/);

    let answeredWhileRunning = 0;
    let state = await job(queued.id);
    while (state.status === 'queued' || state.status === 'running') {
      const cp = await t.req('/v1/ledger/checkpoint');
      expect(cp.status).toBe(200);
      const after = await job(queued.id);
      if (state.status === 'running' && after.status === 'running') answeredWhileRunning++;
      state = after;
      await new Promise((r) => setTimeout(r, 5));
    }
    expect(state.status).toBe('succeeded');
    expect(answeredWhileRunning).toBeGreaterThan(0);
    expect(state.result).toMatchObject({ ok: true, problems: [] });
    expect((state.result as { size: number }).size).toBeGreaterThanOrEqual(5000);
    expect(state.progress).toMatchObject({ phase: 'auditing' });

    // Another request lists it.
    const list = (await (await t.req('/v1/jobs?kind=ledger.audit', { role: 'engineer' })).json()) as { jobs: JobInfo[] };
    expect(list.jobs.map((j) => j.id)).toContain(queued.id);
  });

  it('reports a typed failure with its reason, and hides unknown errors behind a generic message', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'hm-jobs-'));
    const db = openApiDb(empty);
    const logs: string[] = [];
    const runner = createJobRunner({ db, homeDir: empty, log: (l) => logs.push(l) });
    runner.register(LEDGER_AUDIT);
    runner.register({ kind: 'test.fail', module: new URL('./fixtures/failing-job.ts', import.meta.url) });
    const a = runner.submit('ledger.audit', {}, 'test');
    const b = runner.submit('test.fail', {}, 'test');
    const c = runner.submit('test.fail', { mode: 'crash' }, 'test');
    const [ra, rb, rc] = await Promise.all([runner.wait(a.id), runner.wait(b.id), runner.wait(c.id)]);
    expect(ra.status).toBe('failed');
    expect(ra.error?.code).toBe('LEDGER_NOT_FOUND');
    expect(ra.error?.message).toMatch(/no ledger at/);
    expect(rb.status).toBe('failed');
    expect(rb.error?.code).toBe('JOB_FAILED');
    expect(rb.progress).toEqual({ step: 1 });
    expect(JSON.stringify(rb)).not.toContain('hm_not_a_real_secret');
    expect(logs.join('\n')).toContain('internal detail');
    expect(rc.error?.code).toBe('JOB_CRASHED');
    await runner.close();

    // The records outlive the runner: a new one over the same database still lists them.
    const again = createJobRunner({ db, homeDir: empty });
    expect(again.list().map((j) => [j.id, j.status])).toEqual(expect.arrayContaining([[a.id, 'failed'], [b.id, 'failed'], [c.id, 'failed']]));
    expect(() => again.submit('test.fail', {}, 'x')).toThrow(/unknown job kind/);
    await again.close();
    db.close();
  });

  it('marks a job interrupted when the runner stops mid-run, and 404s unknown ids', async () => {
    const db = openApiDb(t.dir);
    const runner = createJobRunner({ db, homeDir: t.dir });
    runner.register(LEDGER_AUDIT);
    const j = runner.submit('ledger.audit', {}, 'test');
    const done = runner.wait(j.id);
    while (runner.get(j.id).status !== 'running') await new Promise((r) => setTimeout(r, 2));
    await runner.close();
    expect((await done).error?.code ?? runner.get(j.id).error?.code).toBe('JOB_INTERRUPTED');
    db.close();
    const res = await t.req('/v1/jobs/00000000-0000-4000-8000-000000000000', { role: 'auditor' });
    expect(res.status).toBe(404);
    expect((await errorOf(res)).code).toBe('API_NOT_FOUND');
  });
});
