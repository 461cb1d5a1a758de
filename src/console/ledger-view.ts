// The ledger view: size, the newest signed checkpoint (its signature checked here on the server
// and again in the browser), and entries filtered by type, actor and time, each with the data
// the browser needs to verify its inclusion proof itself (client-proof.ts): the entry's exact
// bytes and the proof's hashes. Nothing here trusts the browser, and the browser trusts only
// the bytes and the log key shown on the page.
import { html, raw } from 'hono/html';
import { newVerifier, openCheckpoint, toBase64, toHex, type StoredEntry } from '../../ledger/index.js';
import { allowed, forbidden, respond, type ConsoleDeps, type ConsoleEnv } from './context.js';
import type { Hono } from 'hono';
import { short } from './layout.js';
import { view } from './views.js';

/** How many of the newest entries the filters look through, and how many rows a page shows. */
export const SCAN_LIMIT = 5000;
export const SHOW_LIMIT = 100;

interface Filters { type: string; actor: string; from: string; to: string }

const TYPE_RE = /^[a-z][a-z0-9.-]{0,99}$/;
const TIME_RE = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2})?)?$/;

function readFilters(q: (k: string) => string | undefined): { f: Filters; errors: string[] } {
  const f = { type: (q('type') ?? '').trim(), actor: (q('actor') ?? '').trim(), from: (q('from') ?? '').trim(), to: (q('to') ?? '').trim() };
  const errors: string[] = [];
  if (f.type && !TYPE_RE.test(f.type)) errors.push('Type must be a dotted lower-case name such as model.registered.');
  if (f.actor.length > 200) errors.push('Actor is at most 200 characters.');
  for (const k of ['from', 'to'] as const) if (f[k] && !TIME_RE.test(f[k])) errors.push(`“${k}” must be a date (2026-11-30) or date and time (2026-11-30T14:00), in UTC.`);
  if (errors.length) return { f: { type: '', actor: '', from: '', to: '' }, errors };
  return { f, errors };
}

/** An ISO bound from a date or date-time the user typed (UTC); `to` dates include the whole day. */
const bound = (s: string, end: boolean) => (!s ? undefined : s.length === 10 ? `${s}T${end ? '23:59:59.999999999' : '00:00:00'}Z` : `${s.length === 16 ? `${s}:00` : s}${end ? '.999999999' : ''}Z`);

function select(entries: StoredEntry[], f: Filters): StoredEntry[] {
  const from = bound(f.from, false);
  const to = bound(f.to, true);
  return entries.filter((e) => (!f.type || e.entry.type === f.type) && (!f.actor || e.entry.actor.includes(f.actor)) && (!from || e.entry.time >= from) && (!to || e.entry.time <= to));
}

/** JSON for a <script type="application/json"> block: no "<" can end the element early. */
export const jsonBlock = (v: unknown) => raw(JSON.stringify(v).replace(/</g, '\\u003c'));

function summary(e: StoredEntry): string {
  const p = e.entry.payload as Record<string, unknown>;
  for (const k of ['id', 'model', 'name', 'jobId', 'client', 'kind']) if (typeof p[k] === 'string') return `${k}: ${short(p[k] as string, 40)}`;
  return '';
}

export function ledgerView(ui: Hono<ConsoleEnv>, _deps: ConsoleDeps): void {
  const def = view('ledger');
  ui.get('/ledger', (c) => {
    if (!allowed(c, def.roles)) return forbidden(c, 'see the ledger');
    const { ledger } = c.var.deps;
    const { f, errors } = readFilters((k) => c.req.query(k));
    const size = ledger.size();
    const cp = ledger.latestCheckpoint();
    let serverSig = 'no checkpoint has been signed yet';
    let sigOk = false;
    if (cp) {
      try {
        openCheckpoint(cp.note, newVerifier(ledger.verifierKey), ledger.origin);
        serverSig = 'valid (checked on the server with the log key)';
        sigOk = true;
      } catch (err) {
        serverSig = `INVALID: ${(err as Error).message}`;
      }
    }
    const start = Math.max(0, size - SCAN_LIMIT);
    const window: StoredEntry[] = [];
    for (let from = start; from < size; from += 1000) window.push(...ledger.list({ from, limit: Math.min(1000, size - from) }));
    const matched = select(window, f).reverse();
    const shown = matched.slice(0, SHOW_LIMIT);
    const types = [...new Set(window.map((e) => e.entry.type))].sort();
    const proofs = {
      size: cp?.size ?? 0, note: cp?.note ?? null, verifierKey: ledger.verifierKey,
      entries: shown.map((e) => ({ index: e.index, data: toBase64(e.bytes), hashes: cp && e.index < cp.size ? ledger.inclusionProof(e.index, cp.size).hashes.map(toBase64) : null })),
    };
    const body = html`
<section aria-labelledby="log-h"><h2 id="log-h">The log</h2>
<dl class="facts">
<dt>Entries</dt><dd id="ledger-size">${size}</dd>
<dt>Origin</dt><dd><code>${ledger.origin}</code></dd>
<dt>Log key</dt><dd><code>${ledger.verifierKey}</code></dd>
<dt>Latest checkpoint</dt><dd>${cp ? html`size ${cp.size}, root <code>${toHex(cp.root)}</code>` : 'none yet'}</dd>
<dt>Signature (server)</dt><dd class="${sigOk ? 'ok' : 'bad'}" id="checkpoint-server">${serverSig}</dd>
<dt>Signature (this browser)</dt><dd id="checkpoint-browser" class="pending">${cp ? 'checking…' : 'nothing to check'}</dd>
</dl>
${cp ? html`<details><summary>The signed checkpoint note</summary><pre class="mono">${cp.note}</pre></details>` : ''}
</section>
<section aria-labelledby="entries-h"><h2 id="entries-h">Entries</h2>
${errors.length ? html`<div role="alert" class="error">${errors.map((e) => html`<p>${e}</p>`)}</div>` : ''}
<form method="get" action="/console/ledger" class="filters" role="search" aria-label="Filter entries">
<div><label for="f-type">Type</label><select id="f-type" name="type"><option value="">any type</option>${types.map((t) => html`<option${raw(t === f.type ? ' selected' : '')}>${t}</option>`)}</select></div>
<div><label for="f-actor">Actor contains</label><input id="f-actor" name="actor" value="${f.actor}" maxlength="200"></div>
<div><label for="f-from">From (UTC)</label><input id="f-from" name="from" value="${f.from}" placeholder="2026-11-30" aria-describedby="time-help"></div>
<div><label for="f-to">To (UTC)</label><input id="f-to" name="to" value="${f.to}" placeholder="2026-11-30T18:00" aria-describedby="time-help"></div>
<div><button type="submit">Filter</button></div>
</form>
<p id="time-help" class="help">Times are UTC: a date, or a date and time. The filters look through the newest ${SCAN_LIMIT} entries and show the newest ${SHOW_LIMIT} that match (${matched.length} match).</p>
<p id="proof-summary" role="status" aria-live="polite" class="pending">Checking inclusion proofs in this browser…</p>
<table>
<caption class="help">Each entry's inclusion proof in the latest checkpoint, recomputed in this browser from the entry's bytes with SHA-256 (RFC 6962).</caption>
<thead><tr><th scope="col">#</th><th scope="col">Time (UTC)</th><th scope="col">Type</th><th scope="col">Actor</th><th scope="col">Summary</th><th scope="col">Inclusion proof</th></tr></thead>
<tbody>
${shown.map((e) => html`<tr><td>${e.index}</td><td>${e.entry.time}</td><td>${e.entry.type}</td><td><code>${short(e.entry.actor, 24)}</code></td><td>${summary(e)}</td><td data-proof="${e.index}" class="pending">checking…</td></tr>`)}
</tbody>
</table>
<script type="application/json" id="ledger-proofs">${jsonBlock(proofs)}</script>
</section>`;
    return respond(c, 'Ledger', body, 'ledger');
  });
}
