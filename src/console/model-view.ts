// The model view: the registered models, and for one model its registration, its lineage as a
// graph (datasets and base models -> operation -> model), the watermark commitments made for it
// or its ancestors, the verifications of suspects against it, and its signatures (model.signed
// entries, and the record signature of each commitment and verification, checked here).
import type { Hono } from 'hono';
import { html } from 'hono/html';
import type { Ledger } from '../../ledger/index.js';
import { findModel, lineageOf, type LineageNode } from '../lineage/index.js';
import { readRecords, verificationRecorded, watermarkCommitted, type TrustedKeys } from '../records/index.js';
import { allowed, forbidden, respond, trustOf, type ConsoleDeps, type ConsoleEnv } from './context.js';
import { short } from './layout.js';
import { lineageGraph } from './svg.js';
import { view } from './views.js';

const MODEL_ID = /^model:sha256:[0-9a-f]{64}$/;

/** The model and every model it was derived from. */
function ancestry(n: LineageNode, out = new Set<string>()): Set<string> {
  out.add(n.id);
  for (const d of n.derivations) for (const b of d.baseModels) ancestry(b, out);
  return out;
}

const signerText = (s: { key: string; as: string } | null) => (s ? html`signed by the ${s.as}'s key <code>${s.key.split('+').slice(0, 2).join('+')}</code>, <span class="ok">signature valid</span>` : html`unsigned`);

function modelSignatures(ledger: Ledger, id: string, sha: string) {
  const out: { index: number; time: string; bundle: string; key: string }[] = [];
  for (let from = 0; ; ) {
    const page = ledger.list({ type: 'model.signed', from, limit: 1000 });
    for (const e of page) {
      const p = e.entry.payload as { model?: string; subject?: { digest?: { sha256?: string } }; bundle?: { sha256?: string }; key?: { kind?: string; hint?: string } };
      if (p.model === id || p.subject?.digest?.sha256 === sha) out.push({ index: e.index, time: e.entry.time, bundle: String(p.bundle?.sha256 ?? ''), key: `${p.key?.kind ?? '?'} ${p.key?.hint ?? ''}` });
    }
    if (page.length < 1000) return out;
    from = page[page.length - 1]!.index + 1;
  }
}

function modelPage(ledger: Ledger, trust: TrustedKeys, id: string, canSeeVerifications: boolean) {
  const found = findModel(ledger, id);
  if (!found) return undefined;
  const m = found.record;
  const tree = lineageOf(ledger, id);
  const family = ancestry(tree);
  const commitments = readRecords(ledger, watermarkCommitted, { trust });
  const mine = commitments.records.filter((r) => family.has(r.record.model));
  const verifs = readRecords(ledger, verificationRecorded, { trust });
  const checked = verifs.records.filter((r) => r.record.model === id || mine.some((c) => c.index === r.record.commitment.index));
  const problems = [...commitments.problems, ...verifs.problems];
  const sigs = modelSignatures(ledger, id, m.model.digest.sha256);
  return html`
<section aria-labelledby="reg-h"><h2 id="reg-h">Registration</h2>
<dl class="facts">
<dt>Name</dt><dd>${m.model.name}</dd>
<dt>Id</dt><dd><code>${m.id}</code></dd>
<dt>Format</dt><dd>${m.format}</dd>
<dt>Registered</dt><dd>ledger entry ${found.index}, ${found.time}</dd>
${m.model.uri ? html`<dt>Location</dt><dd><code>${m.model.uri}</code></dd>` : ''}
${m.tensors ? html`<dt>Tensors</dt><dd>${m.tensors.count} (manifest root <code>${short(m.tensors.root, 16)}</code>)</dd>` : ''}
</dl></section>
<section aria-labelledby="lin-h"><h2 id="lin-h">Lineage</h2>
<p class="help">Inputs on the left, this model on the right: datasets (green) and base models (blue) go through an operation (orange) to produce a model.</p>
${lineageGraph(tree)}
</section>
<section aria-labelledby="wm-h"><h2 id="wm-h">Watermark commitments</h2>
${mine.length === 0 ? html`<p>No watermark was committed for this model or its ancestors.</p>` : html`<table><thead><tr><th scope="col">Entry</th><th scope="col">Time (UTC)</th><th scope="col">For model</th><th scope="col">Scheme</th><th scope="col">Commitment</th><th scope="col">Signature</th></tr></thead><tbody>
${mine.map((r) => html`<tr><td>${r.index}</td><td>${r.time}</td><td><code>${short(r.record.model.replace('model:sha256:', ''), 12)}</code>${r.record.model === id ? ' (this model)' : ' (an ancestor)'}</td><td>${r.record.scheme}</td><td><code>${short(r.record.commitment, 24)}</code></td><td>${signerText(r.signer)}</td></tr>`)}
</tbody></table>`}
</section>
<section aria-labelledby="ver-h"><h2 id="ver-h">Verifications</h2>
${checked.length === 0 ? html`<p>No suspect has been verified against this model.</p>` : html`<table><thead><tr><th scope="col">Entry</th><th scope="col">Time (UTC)</th><th scope="col">Suspect</th><th scope="col">Decision</th><th scope="col">Signature</th></tr></thead><tbody>
${checked.map((r) => html`<tr><td>${canSeeVerifications ? html`<a href="/console/verifications/${r.index}">${r.index}</a>` : r.index}</td><td>${r.time}</td><td>${r.record.suspect.kind === 'file' ? r.record.suspect.descriptor.name : r.record.suspect.url}</td><td class="${r.record.owned ? 'bad' : ''}">${r.record.owned ? 'our watermark found' : 'not shown to be ours'}</td><td>${signerText(r.signer)}</td></tr>`)}
</tbody></table>`}
</section>
<section aria-labelledby="sig-h"><h2 id="sig-h">Signatures</h2>
${sigs.length === 0 ? html`<p>No model signature (OpenSSF model signing) is recorded for this model. The records above carry the owner's signature, shown in their tables.</p>` : html`<ul>${sigs.map((s) => html`<li>Entry ${s.index} (${s.time}): signature bundle <code>${short(s.bundle, 16)}</code>, key ${s.key}</li>`)}</ul>`}
${problems.length ? html`<div role="alert" class="error"><p>Records that failed their checks (not counted above):</p><ul>${problems.map((p) => html`<li>entry ${p.index} (${p.type}): ${p.message}</li>`)}</ul></div>` : ''}
</section>`;
}

export function modelView(ui: Hono<ConsoleEnv>, _deps: ConsoleDeps): void {
  const def = view('models');
  ui.get('/models', (c) => {
    if (!allowed(c, def.roles)) return forbidden(c, 'see models');
    const { ledger } = c.var.deps;
    const models: { index: number; time: string; id: string; name: string; format: string }[] = [];
    for (let from = 0; ; ) {
      const page = ledger.list({ type: 'model.registered', from, limit: 1000 });
      for (const e of page) {
        const p = e.entry.payload as { id?: string; model?: { name?: string }; format?: string };
        if (typeof p.id === 'string' && MODEL_ID.test(p.id)) models.push({ index: e.index, time: e.entry.time, id: p.id, name: String(p.model?.name ?? ''), format: String(p.format ?? '') });
      }
      if (page.length < 1000) break;
      from = page[page.length - 1]!.index + 1;
    }
    return respond(c, 'Models', html`${models.length === 0 ? html`<p>No model is registered yet.</p>` : html`<table><thead><tr><th scope="col">Name</th><th scope="col">Format</th><th scope="col">Registered (UTC)</th><th scope="col">Id</th></tr></thead><tbody>
${models.map((m) => html`<tr><td><a href="/console/models/${m.id}">${m.name || m.id}</a></td><td>${m.format}</td><td>${m.time} (entry ${m.index})</td><td><code>${short(m.id.replace('model:sha256:', ''), 16)}</code></td></tr>`)}
</tbody></table>`}`, 'models');
  });
  ui.get('/models/:id', (c) => {
    if (!allowed(c, def.roles)) return forbidden(c, 'see models');
    const id = c.req.param('id');
    const body = MODEL_ID.test(id) ? modelPage(c.var.deps.ledger, trustOf(c.var.deps), id, allowed(c, view('verifications').roles)) : undefined;
    if (!body) return respond(c, 'Model not found', html`<p>No model with the id <code>${short(id, 80)}</code> is registered. <a href="/console/models">All models</a>.</p>`, 'models', 404);
    return respond(c, `Model ${findModel(c.var.deps.ledger, id)!.record.model.name}`, body, 'models');
  });
}
