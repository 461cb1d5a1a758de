// The audit: start the API's `ledger.audit` job (every entry, tree node, chain link and
// checkpoint recomputed in a worker), follow it live, and read its report.
import type { Hono } from 'hono';
import { html } from 'hono/html';
import { actorOf } from '../api/context.js';
import { submitRecordedJob } from '../api/routes/jobs.js';
import type { JobInfo } from '../api/jobs.js';
import { allowed, forbidden, respond, type ConsoleDeps, type ConsoleEnv } from './context.js';
import { csrfField } from './layout.js';
import { jobPanel } from './jobs.js';
import { view } from './views.js';

function report(job: JobInfo) {
  const r = job.result as { ok?: boolean; size?: number; problems?: { index?: number; message?: string; code?: string }[]; [k: string]: unknown } | null;
  if (!r) return '';
  const problems = Array.isArray(r.problems) ? r.problems : [];
  return html`<p class="${r.ok ? 'ok' : 'bad'}" id="audit-result">${r.ok ? `The ledger checks out: every entry, node, link and checkpoint recomputed${typeof r.size === 'number' ? ` over ${r.size} entries` : ''}.` : `The audit found ${problems.length} problem${problems.length === 1 ? '' : 's'}.`}</p>
${problems.length ? html`<ul>${problems.slice(0, 100).map((p) => html`<li>${p.code ?? ''} ${p.index !== undefined ? `entry ${p.index}: ` : ''}${p.message ?? ''}</li>`)}</ul>` : ''}
<details><summary>The full report</summary><pre class="mono">${JSON.stringify(r, null, 2)}</pre></details>`;
}

export function auditView(ui: Hono<ConsoleEnv>, _deps: ConsoleDeps): void {
  const def = view('audit');
  ui.get('/audit', (c) => {
    if (!allowed(c, def.roles)) return forbidden(c, 'run the audit');
    const jobs = c.var.deps.jobs.list({ kind: 'ledger.audit', limit: 5 });
    return respond(c, 'Audit', html`<p>The audit recomputes the whole ledger from its stored bytes: every entry's hash, the Merkle tree, the chain of entries and each signed checkpoint. It runs as a job; the result appears here.</p>
<form method="post" action="/console/audit">${csrfField(c.var.session)}<button type="submit" id="run-audit">Run the audit</button></form>
${jobs.length === 0 ? html`<p>No audit has run yet.</p>` : html`<section aria-labelledby="runs-h"><h2 id="runs-h">Recent audits</h2>${jobs.map((j, i) => html`${jobPanel(j, i === 0 ? 'Latest audit' : 'Earlier audit')}${i === 0 && j.status === 'succeeded' ? report(j) : ''}`)}</section>`}`, 'audit');
  });
  ui.post('/audit', (c) => {
    if (!allowed(c, def.roles)) return forbidden(c, 'run the audit');
    submitRecordedJob(c.var.deps, 'ledger.audit', {}, actorOf(c.var.key));
    return c.redirect('/console/audit', 303);
  });
}
