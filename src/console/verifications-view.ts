// Verifications: every verification.recorded entry (its record signature checked), and for one
// the decision in plain words, the numbers, the report's two plots as SVG, and the evidence
// export: a button that runs the API's `evidence.export` job, its progress live, then the three
// files to download (evidence.json, report.pdf, VERIFY.md; `hallmark evidence verify` checks them).
import type { Hono } from 'hono';
import { html } from 'hono/html';
import { EVIDENCE_FILES, requirePassphrase } from '../api/routes/evidence.js';
import { submitRecordedJob } from '../api/routes/jobs.js';
import { artifactDownload } from '../api/blob-files.js';
import { appendAccess } from '../api/record-access.js';
import { actorOf } from '../api/context.js';
import { triggerPlot, weightPlot } from '../evidence/index.js';
import { describeOdds } from '../evidence/statistics.js';
import { findModel } from '../lineage/index.js';
import { readRecordAt, readRecords, verificationRecorded, type VerificationRecord, type Verified } from '../records/index.js';
import { allowed, forbidden, respond, trustOf, type ConsoleContext, type ConsoleDeps, type ConsoleEnv } from './context.js';
import { csrfField, short } from './layout.js';
import { jobPanel, readableJob } from './jobs.js';
import { barPlot } from './svg.js';
import { ACTIONS, view } from './views.js';

const suspectName = (v: VerificationRecord) => (v.suspect.kind === 'file' ? `the file “${v.suspect.descriptor.name}”` : `the endpoint ${v.suspect.url}`);

function decision(v: VerificationRecord) {
  const p = [v.weight?.correctedPValue ?? v.weight?.pValue, v.trigger?.pValue].filter((x): x is number => typeof x === 'number');
  const best = p.length ? Math.min(...p) : undefined;
  return v.owned
    ? html`<p class="verdict owned" id="decision"><strong>Our watermark was found in ${suspectName(v)}.</strong> A chance match is ${best === undefined ? 'not measured' : describeOdds(best)}, below the threshold fixed in advance (${v.alpha}, 1 in ${Math.round(1 / v.alpha).toLocaleString('en-US')}).</p>`
    : html`<p class="verdict" id="decision"><strong>Our watermark was NOT found in ${suspectName(v)} with the required certainty.</strong> ${best === undefined ? '' : html`The best evidence could still be chance (${describeOdds(best)}), and the threshold is ${v.alpha}.`}</p>`;
}

function numbers(v: VerificationRecord) {
  return html`<dl class="facts">
<dt>Method</dt><dd>${v.method}${v.backend ? ` (run with ${v.backend})` : ''}</dd>
<dt>Threshold (alpha)</dt><dd>${v.alpha}</dd>
${v.weight ? html`<dt>Weight bits</dt><dd>${v.weight.matches} of ${v.weight.bits} match (bit error rate ${(v.weight.ber * 100).toFixed(2)}%), p = ${v.weight.pValue.toExponential(2)}${v.weight.candidates ? html`, ${v.weight.candidates} tensors searched, corrected p = ${(v.weight.correctedPValue ?? v.weight.pValue).toExponential(2)}` : ''}${v.weight.tensor ? html`, in <code>${v.weight.tensor}</code>` : ''}</dd>` : ''}
${v.trigger ? html`<dt>Secret inputs</dt><dd>${v.trigger.matches} of ${v.trigger.n} answered with our secret label; chance rate ${(v.trigger.chanceRate * 100).toFixed(1)}% (${v.trigger.nullSource === 'calibrated' ? 'measured on independently trained models' : 'one in the number of classes'}), p = ${v.trigger.pValue.toExponential(2)}</dd>` : ''}
<dt>Commitment</dt><dd>ledger entry ${v.commitment.index}, <code>${short(v.commitment.commitment, 24)}</code></dd>
<dt>Owner key</dt><dd><code>${v.ownerKey}</code></dd>
</dl>`;
}

function exportsOf(c: ConsoleContext, index: number) {
  return c.var.deps.jobs.list({ kind: 'evidence.export', limit: 200 }).filter((j) => j.params.verification === index).slice(0, 5);
}

function detail(c: ConsoleContext, r: Verified<VerificationRecord>) {
  const v = r.record;
  const model = findModel(c.var.deps.ledger, v.model);
  const plots = [weightPlot(v), triggerPlot(v)].filter((p) => p !== undefined);
  const canExport = allowed(c, ACTIONS.exportEvidence);
  const canDownload = allowed(c, ACTIONS.downloadEvidence);
  const jobs = canDownload ? exportsOf(c, r.index) : [];
  return html`
<p>Ledger entry ${r.index}, recorded ${r.time} by <code>${r.actor}</code>, ${r.signer ? html`signed by the ${r.signer.as}'s key (<span class="ok">signature valid</span>)` : 'unsigned'}. Model: ${model ? html`<a href="/console/models/${v.model}">${model.record.model.name}</a>` : html`<code>${v.model}</code>`}.</p>
<section aria-labelledby="dec-h"><h2 id="dec-h">Decision</h2>${decision(v)}</section>
<section aria-labelledby="num-h"><h2 id="num-h">The numbers</h2>${numbers(v)}</section>
<section aria-labelledby="plot-h"><h2 id="plot-h">The statistics, in plain words</h2>
<p>Each plot shows what an innocent model would score by luck (blue bars: taller means more likely) and what the suspect scored (red line). The further the red line sits from the bars, the less plausible it is that the match is a coincidence.</p>
${plots.map((p, i) => barPlot(`plot-${i}`, p))}
</section>
<section aria-labelledby="ev-h"><h2 id="ev-h">Ownership evidence</h2>
<p>The export writes a signed evidence file (it discloses the watermark secret, signed inside the statement), a PDF report and instructions; <code>hallmark evidence verify &lt;folder&gt;</code> checks them offline.</p>
${canExport ? html`<form method="post" action="/console/verifications/${r.index}/export">${csrfField(c.var.session)}<button type="submit" id="export-evidence">Export evidence</button></form>` : html`<p class="note">Only the legal and admin roles export evidence.</p>`}
${jobs.map((j) => html`${jobPanel(j, 'Evidence export')}${j.status === 'succeeded' ? html`<ul class="downloads" aria-label="Files of export ${j.id}">${EVIDENCE_FILES.map((f) => html`<li><a href="/console/evidence/${j.id}/${f}" download="${f}" data-evidence-file="${f}">Download ${f}</a></li>`)}</ul>` : ''}`)}
</section>`;
}

export function verificationsView(ui: Hono<ConsoleEnv>, _deps: ConsoleDeps): void {
  const def = view('verifications');
  ui.get('/verifications', (c) => {
    if (!allowed(c, def.roles)) return forbidden(c, 'see verifications');
    const { records, problems } = readRecords(c.var.deps.ledger, verificationRecorded, { trust: trustOf(c.var.deps) });
    const rows = [...records].reverse();
    return respond(c, 'Verifications', html`${rows.length === 0 ? html`<p>No verification is recorded yet.</p>` : html`<table><thead><tr><th scope="col">Entry</th><th scope="col">Time (UTC)</th><th scope="col">Suspect</th><th scope="col">Decision</th></tr></thead><tbody>
${rows.map((r) => html`<tr><td><a href="/console/verifications/${r.index}">Verification ${r.index}</a></td><td>${r.time}</td><td>${r.record.suspect.kind === 'file' ? r.record.suspect.descriptor.name : r.record.suspect.url}</td><td class="${r.record.owned ? 'bad' : ''}">${r.record.owned ? 'our watermark found' : 'not shown to be ours'}</td></tr>`)}
</tbody></table>`}
${problems.length ? html`<div role="alert" class="error"><p>Entries that failed their checks:</p><ul>${problems.map((p) => html`<li>entry ${p.index}: ${p.message}</li>`)}</ul></div>` : ''}`, 'verifications');
  });

  const load = (c: ConsoleContext) => {
    const index = Number(c.req.param('index'));
    if (!/^[0-9]{1,15}$/.test(c.req.param('index') ?? '') || index >= c.var.deps.ledger.size()) return undefined;
    try {
      return readRecordAt(c.var.deps.ledger, index, verificationRecorded, trustOf(c.var.deps));
    } catch {
      return undefined;
    }
  };

  ui.get('/verifications/:index', (c) => {
    if (!allowed(c, def.roles)) return forbidden(c, 'see verifications');
    const r = load(c);
    if (!r) return respond(c, 'Verification not found', html`<p>Entry ${short(c.req.param('index'), 20)} is not a verification record that checks out. <a href="/console/verifications">All verifications</a>.</p>`, 'verifications', 404);
    return respond(c, `Verification ${r.index}`, detail(c, r), 'verifications');
  });

  ui.post('/verifications/:index/export', (c) => {
    if (!allowed(c, ACTIONS.exportEvidence)) return forbidden(c, 'export evidence');
    const r = load(c);
    if (!r) return respond(c, 'Verification not found', html`<p>No such verification.</p>`, 'verifications', 404);
    try {
      requirePassphrase(c.var.deps.hasPassphrase);
    } catch (err) {
      return respond(c, `Verification ${r.index}`, html`<p role="alert" class="error">${(err as Error).message}</p>`, 'verifications', 400);
    }
    submitRecordedJob(c.var.deps, 'evidence.export', { verification: r.index }, actorOf(c.var.key));
    return c.redirect(`/console/verifications/${r.index}#ev-h`, 303);
  });

  ui.get('/evidence/:jobId/:name', async (c) => {
    if (!allowed(c, ACTIONS.downloadEvidence)) return forbidden(c, 'download evidence');
    const job = readableJob(c, c.req.param('jobId'), 'evidence.export');
    const name = c.req.param('name');
    if (!job || job.status !== 'succeeded' || !(EVIDENCE_FILES as readonly string[]).includes(name)) return respond(c, 'Not found', html`<p>No such evidence file.</p>`, 'verifications', 404);
    const file = await artifactDownload(c.var.deps.homeDir, 'evidence', job.id, name);
    appendAccess(c.var.deps.ledger, actorOf(c.var.key), { resource: { kind: 'evidence', id: job.id, file: name, size: file.size }, route: 'GET /console/evidence/{jobId}/{name}' });
    return file.response(name);
  });
}
