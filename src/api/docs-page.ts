// /docs: a self-contained HTML page rendered on the server from the OpenAPI document (no script,
// no CDN), so it works offline and under a strict Content-Security-Policy.

interface Operation {
  summary?: string;
  tags?: string[];
  parameters?: { name: string; in: string; required?: boolean; schema?: unknown }[];
  requestBody?: { content?: Record<string, { schema?: unknown }> };
  responses?: Record<string, { description?: string }>;
  'x-roles'?: string[];
  'x-public'?: boolean;
}

export interface OpenApiDocLike {
  info: { title: string; version: string; description?: string };
  paths?: Record<string, Record<string, Operation> | undefined>;
}

const esc = (s: string) => s.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
const METHODS = ['get', 'post', 'put', 'patch', 'delete'];

function renderOperation(path: string, method: string, op: Operation): string {
  const who = op['x-public'] ? 'public' : `roles: ${(op['x-roles'] ?? []).join(', ')}`;
  const params = (op.parameters ?? []).map((p) => `<li><code>${esc(p.name)}</code> (${esc(p.in)}${p.required ? ', required' : ''})</li>`).join('');
  const bodies = Object.entries(op.requestBody?.content ?? {})
    .map(([type, m]) => `<p>Body <code>${esc(type)}</code></p><pre>${esc(JSON.stringify(m.schema ?? {}, null, 2))}</pre>`).join('');
  const responses = Object.entries(op.responses ?? {}).map(([s, r]) => `<li><code>${esc(s)}</code> ${esc(r.description ?? '')}</li>`).join('');
  return `<section><h3><span class="m">${esc(method.toUpperCase())}</span> <code>${esc(path)}</code></h3>
<p>${esc(op.summary ?? '')} <em>(${esc(who)})</em></p>
${params ? `<p>Parameters</p><ul>${params}</ul>` : ''}${bodies}<p>Responses</p><ul>${responses}</ul></section>`;
}

export function renderDocsPage(doc: OpenApiDocLike): string {
  const sections = Object.entries(doc.paths ?? {}).flatMap(([path, ops]) =>
    METHODS.filter((m) => ops?.[m]).map((m) => renderOperation(path, m, ops![m]!)));
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(doc.info.title)} API</title>
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}
section{border-top:1px solid #ccc;padding:.5rem 0}.m{display:inline-block;min-width:4rem;font-weight:bold}
pre{background:#f5f5f5;padding:.5rem;overflow:auto;font-size:13px}</style></head>
<body><h1>${esc(doc.info.title)} <small>${esc(doc.info.version)}</small></h1>
<p>${esc(doc.info.description ?? '')}</p>
<p>Send <code>Authorization: Bearer hm_...</code> on routes that name roles. Errors are
<code>{"error":{"code","message"}}</code>. Machine-readable: <a href="/openapi.json">/openapi.json</a>.</p>
${sections.join('\n')}
</body></html>`;
}
