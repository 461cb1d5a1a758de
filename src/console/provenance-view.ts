// Provenance: pick a registered model, build its bundle (the API's own createProvenance: lineage
// entries, inclusion proofs, a signed checkpoint, the owner's DSSE-signed SLSA statement), and
// download exactly the stored bytes, which `hallmark provenance verify` checks offline.
import type { Hono } from 'hono';
import { html, raw } from 'hono/html';
import { artifactDownload } from '../api/blob-files.js';
import { actorOf } from '../api/context.js';
import { appendAccess } from '../api/record-access.js';
import { createProvenance } from '../api/routes/provenance.js';
import { allowed, forbidden, respond, type ConsoleContext, type ConsoleDeps, type ConsoleEnv } from './context.js';
import { csrfField, short } from './layout.js';
import { ACTIONS, view } from './views.js';

const MODEL_ID = /^model:sha256:[0-9a-f]{64}$/;
const HEX64 = /^[0-9a-f]{64}$/;

function models(ledger: import('../../ledger/index.js').Ledger) {
  const out: { id: string; name: string }[] = [];
  for (let from = 0; ; ) {
    const page = ledger.list({ type: 'model.registered', from, limit: 1000 });
    for (const e of page) {
      const p = e.entry.payload as { id?: string; model?: { name?: string } };
      if (typeof p.id === 'string' && MODEL_ID.test(p.id)) out.push({ id: p.id, name: String(p.model?.name ?? p.id) });
    }
    if (page.length < 1000) return out;
    from = page[page.length - 1]!.index + 1;
  }
}

export function provenanceView(ui: Hono<ConsoleEnv>, _deps: ConsoleDeps): void {
  const def = view('provenance');
  const show = (c: ConsoleContext, extra: ReturnType<typeof html> | string = '', status: 200 | 400 | 404 = 200, selected?: string) => {
    const list = models(c.var.deps.ledger);
    const canBuild = allowed(c, ACTIONS.buildProvenance);
    return respond(c, 'Provenance', html`<p>A provenance bundle proves, offline, which datasets and models a model came from: its lineage entries with their inclusion proofs, a signed checkpoint of the log and the owner's signed statement. Check one with <code>hallmark provenance verify bundle.json</code>.</p>
${canBuild ? (list.length === 0 ? html`<p>No model is registered yet.</p>` : html`<form method="post" action="/console/provenance" class="filters">${csrfField(c.var.session)}
<div><label for="p-model">Model</label><select id="p-model" name="modelId">${list.map((m) => html`<option value="${m.id}"${raw(m.id === selected ? ' selected' : '')}>${m.name} (${short(m.id.replace('model:sha256:', ''), 12)})</option>`)}</select></div>
<div><button type="submit" id="build-provenance">Build bundle</button></div></form>`) : html`<p class="note">Only the compliance and admin roles build bundles; you can download bundles you are given a link to.</p>`}
${extra}`, 'provenance', status);
  };

  ui.get('/provenance', (c) => {
    if (!allowed(c, def.roles)) return forbidden(c, 'see provenance');
    return show(c);
  });

  ui.post('/provenance', async (c) => {
    if (!allowed(c, ACTIONS.buildProvenance)) return forbidden(c, 'build provenance bundles');
    const body = await c.req.parseBody();
    const modelId = typeof body.modelId === 'string' ? body.modelId : '';
    if (!MODEL_ID.test(modelId)) return show(c, html`<p role="alert" class="error">Choose a registered model.</p>`, 400);
    let made;
    try {
      made = await createProvenance(c.var.deps, modelId, actorOf(c.var.key));
    } catch (err) {
      return show(c, html`<p role="alert" class="error">The bundle could not be built: ${(err as Error).message}</p>`, 400, modelId);
    }
    return show(c, html`<section aria-labelledby="built-h"><h2 id="built-h">Bundle built</h2>
<dl class="facts" id="bundle-facts"><dt>Model</dt><dd><code>${made.model}</code></dd><dt>Lineage entries</dt><dd>${made.entries}</dd><dt>Checkpoint size</dt><dd>${made.checkpointSize}</dd><dt>Bundle SHA-256</dt><dd><code>${made.id}</code></dd><dt>Size</dt><dd>${made.size} bytes</dd></dl>
<p><a id="download-bundle" href="/console/provenance/${made.id}/bundle.json" download="provenance-${made.id.slice(0, 12)}.json">Download the bundle</a></p></section>`, 200, modelId);
  });

  ui.get('/provenance/:id/bundle.json', async (c) => {
    if (!allowed(c, ACTIONS.downloadProvenance)) return forbidden(c, 'download provenance bundles');
    const id = c.req.param('id');
    let file;
    try {
      if (!HEX64.test(id)) throw new Error('bad id');
      file = await artifactDownload(c.var.deps.homeDir, 'provenance', id, 'bundle.json');
    } catch {
      return respond(c, 'Not found', html`<p>No such bundle.</p>`, 'provenance', 404);
    }
    appendAccess(c.var.deps.ledger, actorOf(c.var.key), { resource: { kind: 'provenance', id, file: 'bundle.json', size: file.size }, route: 'GET /console/provenance/{id}/bundle.json' });
    return file.response(`provenance-${id.slice(0, 12)}.json`);
  });
}
