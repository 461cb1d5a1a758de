// /docs: a self-contained HTML page rendered on the server from the OpenAPI document (no script,
// no CDN), so it works offline and under a strict Content-Security-Policy. Request and response
// schemas are tables (field, type, required, description); every route has an anchor.

type Schema = {
  $ref?: string; type?: string | string[]; format?: string; description?: string; enum?: unknown[]; const?: unknown;
  pattern?: string; minimum?: number; maximum?: number; minLength?: number; maxLength?: number; minItems?: number; maxItems?: number;
  properties?: Record<string, Schema>; required?: string[]; items?: Schema; additionalProperties?: boolean | Schema;
  anyOf?: Schema[]; oneOf?: Schema[]; allOf?: Schema[]; default?: unknown; nullable?: boolean;
};

interface Operation {
  summary?: string;
  description?: string;
  operationId?: string;
  tags?: string[];
  parameters?: ({ name: string; in: string; required?: boolean; description?: string; schema?: Schema } | { $ref: string })[];
  requestBody?: { content?: Record<string, { schema?: Schema }> };
  responses?: Record<string, { description?: string; content?: Record<string, { schema?: Schema }> }>;
  'x-roles'?: string[];
  'x-public'?: boolean;
}

export interface OpenApiDocLike {
  info: { title: string; version: string; description?: string };
  paths?: Record<string, Record<string, Operation> | undefined>;
  components?: { schemas?: Record<string, Schema>; parameters?: Record<string, unknown> };
}

const esc = (s: string) => s.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
/** Escapes text and turns `code` spans into <code>, so no stray backticks reach the page. */
const prose = (s: string) => esc(s).replace(/`([^`]+)`/g, '<code>$1</code>').replace(/`/g, '');
const METHODS = ['get', 'post', 'put', 'patch', 'delete'];
const MAX_DEPTH = 4;

function resolve(doc: OpenApiDocLike, s: Schema | undefined): { schema: Schema; name?: string } {
  if (!s?.$ref) return { schema: s ?? {} };
  const name = s.$ref.replace('#/components/schemas/', '');
  return { schema: doc.components?.schemas?.[name] ?? {}, name };
}

function typeOf(doc: OpenApiDocLike, s: Schema): string {
  const { schema, name } = resolve(doc, s);
  if (name && schema.type === 'object') return name;
  const alts = schema.anyOf ?? schema.oneOf;
  if (alts) return alts.map((a) => typeOf(doc, a)).join(' or ');
  if (schema.enum) return schema.enum.map((e) => JSON.stringify(e)).join(' | ');
  if (schema.const !== undefined) return JSON.stringify(schema.const);
  const t = Array.isArray(schema.type) ? schema.type.join(' or ') : schema.type ?? 'any';
  if (t === 'array' && schema.items) return `array of ${typeOf(doc, schema.items)}`;
  return schema.format ? `${t} (${schema.format})` : t;
}

function constraints(s: Schema): string {
  const c: string[] = [];
  if (s.pattern) c.push(`matches <code>${esc(s.pattern)}</code>`);
  if (s.minimum !== undefined) c.push(`&ge; ${s.minimum}`);
  if (s.maximum !== undefined) c.push(`&le; ${s.maximum}`);
  if (s.minLength !== undefined) c.push(`length &ge; ${s.minLength}`);
  if (s.maxLength !== undefined) c.push(`length &le; ${s.maxLength}`);
  if (s.maxItems !== undefined) c.push(`at most ${s.maxItems} items`);
  if (s.default !== undefined) c.push(`default <code>${esc(JSON.stringify(s.default))}</code>`);
  return c.join('; ');
}

/** Rows for an object's fields, nested objects flattened as parent.child. */
function rows(doc: OpenApiDocLike, s: Schema, prefix: string, depth: number): string[] {
  const { schema } = resolve(doc, s);
  const target = schema.type === 'array' && schema.items ? resolve(doc, schema.items).schema : schema;
  const out: string[] = [];
  for (const [name, raw] of Object.entries(target.properties ?? {})) {
    const field = resolve(doc, raw).schema;
    const required = (target.required ?? []).includes(name);
    const notes = [field.description ?? raw.description ?? '', constraints(field)].filter(Boolean);
    out.push(`<tr><td><code>${esc(prefix + name)}</code></td><td>${esc(typeOf(doc, raw))}</td><td>${required ? 'yes' : 'no'}</td><td>${notes.map((n, i) => (i === 0 ? prose(n) : n)).join('; ')}</td></tr>`);
    const inner = field.type === 'array' && field.items ? resolve(doc, field.items).schema : field;
    if (inner.properties && depth < MAX_DEPTH) out.push(...rows(doc, inner, `${prefix}${name}${field.type === 'array' ? '[]' : ''}.`, depth + 1));
  }
  return out;
}

function schemaTable(doc: OpenApiDocLike, s: Schema | undefined): string {
  if (!s) return '';
  const r = rows(doc, s, '', 0);
  if (r.length === 0) return `<p class="t">${esc(typeOf(doc, s))}</p>`;
  return `<table><thead><tr><th scope="col">Field</th><th scope="col">Type</th><th scope="col">Required</th><th scope="col">Description</th></tr></thead><tbody>${r.join('')}</tbody></table>`;
}

function parameterTable(doc: OpenApiDocLike, params: NonNullable<Operation['parameters']>): string {
  const list = params.map((p) => ('$ref' in p ? (doc.components?.parameters?.[p.$ref.split('/').pop()!] as Exclude<typeof p, { $ref: string }>) : p)).filter(Boolean);
  if (list.length === 0) return '';
  const body = list.map((p) => `<tr><td><code>${esc(p.name)}</code></td><td>${esc(p.in)}</td><td>${esc(p.schema ? typeOf(doc, p.schema) : 'string')}</td><td>${p.required ? 'yes' : 'no'}</td><td>${prose(p.description ?? p.schema?.description ?? '')}${p.schema && constraints(p.schema) ? `; ${constraints(p.schema)}` : ''}</td></tr>`).join('');
  return `<h4>Parameters</h4><table><thead><tr><th scope="col">Name</th><th scope="col">In</th><th scope="col">Type</th><th scope="col">Required</th><th scope="col">Description</th></tr></thead><tbody>${body}</tbody></table>`;
}

export function anchorFor(method: string, path: string): string {
  return `${method}-${path.replace(/[{}]/g, '').replace(/[^A-Za-z0-9]+/g, '-').replace(/^-|-$/g, '')}`;
}

function renderOperation(doc: OpenApiDocLike, path: string, method: string, op: Operation): string {
  const id = anchorFor(method, path);
  const who = op['x-public'] ? 'public, no API key' : `roles: ${(op['x-roles'] ?? []).join(', ')}`;
  const bodies = Object.entries(op.requestBody?.content ?? {})
    .map(([type, m]) => `<h4>Request body <code>${esc(type)}</code></h4>${schemaTable(doc, m.schema)}`).join('');
  const responses = Object.entries(op.responses ?? {}).map(([status, r]) => {
    const content = Object.entries(r.content ?? {})[0];
    const table = content && /^2/.test(status) ? schemaTable(doc, content[1].schema) : '';
    return `<li><code>${esc(status)}</code> ${prose(r.description ?? '')}${table}</li>`;
  }).join('');
  return `<section id="${id}" aria-labelledby="${id}-h"><h3 id="${id}-h"><a href="#${id}"><span class="m">${esc(method.toUpperCase())}</span> <code>${esc(path)}</code></a></h3>
<p>${prose(op.summary ?? '')} <em>(${esc(who)})</em>${op.operationId ? ` <small>operationId <code>${esc(op.operationId)}</code></small>` : ''}</p>
${op.description ? `<p>${prose(op.description)}</p>` : ''}${parameterTable(doc, op.parameters ?? [])}${bodies}<h4>Responses</h4><ul>${responses}</ul></section>`;
}

export function renderDocsPage(doc: OpenApiDocLike): string {
  const ops = Object.entries(doc.paths ?? {}).flatMap(([path, o]) => METHODS.filter((m) => o?.[m]).map((m) => ({ path, method: m, op: o![m]! })));
  const toc = ops.map(({ path, method, op }) => `<li><a href="#${anchorFor(method, path)}"><span class="m">${esc(method.toUpperCase())}</span> <code>${esc(path)}</code></a> ${prose(op.summary ?? '')}</li>`).join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${esc(doc.info.title)} API</title>
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:64rem;margin:2rem auto;padding:0 1rem;color:#1d2733}
section{border-top:1px solid #ccc;padding:.5rem 0}.m{display:inline-block;min-width:4rem;font-weight:bold}
h3 a{color:inherit;text-decoration:none}table{border-collapse:collapse;margin:.3rem 0 .8rem;width:100%;font-size:14px}
th,td{border:1px solid #d5dbe1;padding:.2rem .45rem;text-align:left;vertical-align:top}th{background:#f2f4f7}
code{font-size:13px;background:#f5f5f5;padding:0 .2rem}h4{margin:.6rem 0 .2rem}</style></head>
<body><main><h1>${esc(doc.info.title)} <small>${esc(doc.info.version)}</small></h1>
<p>${prose(doc.info.description ?? '')}</p>
<p>Send <code>Authorization: Bearer hm_...</code> on routes that name roles. Errors are
<code>{"error":{"code","message"}}</code>. Machine-readable: <a href="/openapi.json">/openapi.json</a>.</p>
<nav aria-label="Routes"><h2>Routes</h2><ul>${toc}</ul></nav>
<h2>Reference</h2>
${ops.map(({ path, method, op }) => renderOperation(doc, path, method, op)).join('\n')}
</main></body></html>`;
}
