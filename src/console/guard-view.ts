// The guard's clients and extraction alerts, as the home records them: client keys (API keys of
// the role `client`), the guard.committed entries that commit to each client's watermark set,
// and extraction.suspected alerts from the guard's monitor (src/guard). Records that do not
// decode are listed as problems, not hidden.
import type { Hono } from 'hono';
import { html } from 'hono/html';
import type { Ledger, StoredEntry } from '../../ledger/index.js';
import { extractionSuspected, guardCommitted } from '../guard/index.js';
import { allowed, forbidden, respond, type ConsoleDeps, type ConsoleEnv } from './context.js';
import { short } from './layout.js';
import { view } from './views.js';

function entriesOf(ledger: Ledger, type: string): StoredEntry[] {
  const out: StoredEntry[] = [];
  for (let from = 0; ; ) {
    const page = ledger.list({ type, from, limit: 1000 });
    out.push(...page);
    if (page.length < 1000) return out;
    from = page[page.length - 1]!.index + 1;
  }
}

export function guardView(ui: Hono<ConsoleEnv>, _deps: ConsoleDeps): void {
  const def = view('guard');
  ui.get('/guard', (c) => {
    if (!allowed(c, def.roles)) return forbidden(c, 'see the guard');
    const { ledger, keys } = c.var.deps;
    const problems: string[] = [];
    const decode = <T>(e: StoredEntry, fn: (p: unknown) => T): T | undefined => {
      try {
        return fn(e.entry.payload);
      } catch (err) {
        problems.push(`entry ${e.index}: ${(err as Error).message}`);
        return undefined;
      }
    };
    const commits = entriesOf(ledger, guardCommitted.TYPE).map((e) => ({ e, r: decode(e, guardCommitted.decodeGuardCommitted) })).filter((x) => x.r);
    const alerts = entriesOf(ledger, extractionSuspected.TYPE).map((e) => ({ e, r: decode(e, extractionSuspected.decodeExtractionSuspected) })).filter((x) => x.r).reverse();
    const clients = keys.list().filter((k) => k.role === 'client');
    const latest = new Map<string, { count: number; time: string }>();
    for (const { e, r } of commits) latest.set(r!.client, { count: r!.count, time: e.entry.time });
    const alertCount = new Map<string, number>();
    for (const { r } of alerts) alertCount.set(r!.client, (alertCount.get(r!.client) ?? 0) + 1);
    return respond(c, 'Guard', html`<p>The guard serves a model to client keys, marks its answers per client and watches each client's queries for model extraction. This page reads what it recorded in the ledger.</p>
<section aria-labelledby="cl-h"><h2 id="cl-h">Clients</h2>
${clients.length === 0 ? html`<p>No client key exists (an admin creates them with <code>hallmark keys create --role client</code>).</p>` : html`<table><thead><tr><th scope="col">Client</th><th scope="col">Key id</th><th scope="col">Created</th><th scope="col">Status</th><th scope="col">Marked answers committed</th><th scope="col">Alerts</th></tr></thead><tbody>
${clients.map((k) => html`<tr><td>${k.name}</td><td><code>${k.id}</code></td><td>${k.createdAt}</td><td>${k.revokedAt ? `revoked ${k.revokedAt}` : 'active'}</td><td>${latest.get(k.id) ? `${latest.get(k.id)!.count} (as of ${latest.get(k.id)!.time})` : 'none yet'}</td><td class="${alertCount.get(k.id) ? 'bad' : ''}">${alertCount.get(k.id) ?? 0}</td></tr>`)}
</tbody></table>`}
</section>
<section aria-labelledby="al-h"><h2 id="al-h">Extraction alerts</h2>
${alerts.length === 0 ? html`<p>No extraction alert has been recorded.</p>` : html`<table><thead><tr><th scope="col">Entry</th><th scope="col">Time (UTC)</th><th scope="col">Client</th><th scope="col">Queries</th><th scope="col">Test</th><th scope="col">Rate (per minute)</th><th scope="col">Action</th></tr></thead><tbody>
${alerts.map(({ e, r }) => html`<tr><td>${e.index}</td><td>${e.entry.time}</td><td><code>${r!.client}</code></td><td>${r!.queries}</td><td>Shapiro-Wilk W = ${r!.test.w.toFixed(3)} below ${r!.test.threshold} (n = ${r!.test.n})</td><td>${r!.rate.toFixed(1)}</td><td class="bad">${r!.action}</td></tr>`)}
</tbody></table>`}
</section>
<section aria-labelledby="gc-h"><h2 id="gc-h">Watermark set commitments</h2>
${commits.length === 0 ? html`<p>No guard commitment has been recorded.</p>` : html`<table><thead><tr><th scope="col">Entry</th><th scope="col">Time (UTC)</th><th scope="col">Client</th><th scope="col">Marks</th><th scope="col">Root</th></tr></thead><tbody>
${commits.slice(-50).reverse().map(({ e, r }) => html`<tr><td>${e.index}</td><td>${e.entry.time}</td><td><code>${r!.client}</code></td><td>${r!.count} (+${r!.added})</td><td><code>${short(r!.root, 16)}</code></td></tr>`)}
</tbody></table>`}
</section>
${problems.length ? html`<div role="alert" class="error"><p>Guard entries that do not decode:</p><ul>${problems.map((p) => html`<li>${p}</li>`)}</ul></div>` : ''}`, 'guard');
  });
}
