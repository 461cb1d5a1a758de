// Job status for the console's live progress (client-jobs.ts polls it). A session sees a job
// only if its role may start or read that kind of job; the answer is the API's job object
// (params, progress, result or failure reason), which never holds a secret.
import type { Hono } from 'hono';
import { html } from 'hono/html';
import type { JobInfo } from '../api/jobs.js';
import type { Role } from '../api/roles.js';
import type { ConsoleContext, ConsoleDeps, ConsoleEnv } from './context.js';
import { ACTIONS } from './views.js';

export const JOB_READERS: Record<string, readonly Role[]> = {
  'evidence.export': ACTIONS.downloadEvidence,
  'ledger.audit': ACTIONS.runAudit,
};

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The job if it exists, is of `kind` and the role may read it. */
export function readableJob(c: ConsoleContext, id: string | undefined, kind?: string): JobInfo | undefined {
  if (!id || !UUID.test(id)) return undefined;
  let job: JobInfo;
  try {
    job = c.var.deps.jobs.get(id);
  } catch {
    return undefined;
  }
  if (kind && job.kind !== kind) return undefined;
  return JOB_READERS[job.kind]?.includes(c.var.session.role) ? job : undefined;
}

/** The live status panel; the script follows it while the job is queued or running. */
export function jobPanel(job: JobInfo, label: string) {
  const text = job.status === 'queued' ? 'Waiting to start…' : job.status === 'running' ? `Running${job.progress && typeof job.progress.phase === 'string' ? ` (${job.progress.phase})` : ''}…` : job.status === 'succeeded' ? 'Finished.' : `Failed: ${job.error?.message ?? 'no reason given'}`;
  return html`<div class="job" data-job="${job.id}" data-status="${job.status}"><p><strong>${label}</strong> (job <code>${job.id}</code>, started ${job.createdAt}): <span data-job-progress role="status" aria-live="polite" class="${job.status === 'failed' ? 'bad' : job.status === 'succeeded' ? 'ok' : 'pending'}">${text}</span></p></div>`;
}

export function jobRoutes(ui: Hono<ConsoleEnv>, _deps: ConsoleDeps): void {
  ui.get('/jobs/:id', (c) => {
    const job = readableJob(c, c.req.param('id'));
    if (!job) return c.json({ error: { code: 'CONSOLE_NOT_FOUND', message: 'no such job for this session' } }, 404);
    return c.json(job, 200);
  });
}
