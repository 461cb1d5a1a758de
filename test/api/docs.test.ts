import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorOf, makeTestApi, type TestApi } from './helpers.js';

let t: TestApi;
beforeAll(() => { t = makeTestApi(); });
afterAll(() => t.dispose());

type Doc = { openapi: string; paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: { properties?: Record<string, { pattern?: string }> } }> } }>>; components: { securitySchemes: Record<string, unknown> } };

describe('OpenAPI document and docs page', () => {
  it('describes requests with the schemas that validate them', async () => {
    const doc = (await (await t.req('/openapi.json')).json()) as Doc;
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.components.securitySchemes.apiKey).toMatchObject({ type: 'http', scheme: 'bearer' });
    const body = doc.paths['/v1/ledger/entries']!.post!.requestBody!.content['application/json']!.schema;
    const pattern = body.properties!.type!.pattern!;
    // The document's pattern and the validator agree on what they accept and refuse.
    for (const type of ['note.added', 'NoDots', 'a.b.c', 'a..b']) {
      const res = await t.req('/v1/ledger/entries', { method: 'POST', role: 'admin', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ type, payload: {} }) });
      expect(res.status === 201, type).toBe(new RegExp(pattern).test(type));
    }
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining([
      '/v1/ledger/checkpoint', '/v1/ledger/pubkey', '/v1/ledger/entries/{index}', '/v1/ledger/proof/inclusion', '/v1/ledger/proof/consistency',
      '/v1/models', '/v1/models/{id}', '/v1/models/{id}/lineage', '/v1/uploads/models/{fileName}', '/v1/datasets', '/v1/datasets/{id}',
      '/v1/jobs', '/v1/jobs/{id}', '/v1/keys', '/v1/keys/{id}/revoke',
    ]));
  });

  it('renders /docs on the server: every route, escaped, no script', async () => {
    const res = await t.req('/docs');
    expect(res.status).toBe(200);
    const html = await res.text();
    const doc = (await (await t.req('/openapi.json')).json()) as Doc;
    for (const path of Object.keys(doc.paths)) expect(html).toContain(`<code>${path}</code>`);
    expect(html).not.toMatch(/<script|https?:\/\/(?!127)/i);
    expect(html).toContain('roles: admin, engineer');
    expect(res.headers.get('content-security-policy')).toBe("default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'");
  });

  it('says what is wrong in one readable line', async () => {
    const cases: [string, RequestInit, RegExp][] = [
      ['/v1/ledger/proof/consistency?from=x', {}, /^invalid request: query\.from: expected a non-negative integer$/],
      ['/v1/ledger/entries', { method: 'POST', body: '{"payload":{}}' }, /^invalid request: body\.type: /],
      ['/v1/models', { method: 'POST', body: '{"model":{"name":"","digest":{"sha256":"x"}},"format":"onnx"}' }, /^invalid request: body\.model\.name: .*; body\.model\.digest\.sha256: expected 64 lower-case hex digits$/],
      ['/v1/jobs/nope', {}, /^invalid request: path\.id: expected a job id \(UUID\)$/],
    ];
    for (const [path, init, want] of cases) {
      const res = await t.req(path, { ...init, role: 'admin', headers: { 'content-type': 'application/json' } });
      const e = await errorOf(res);
      expect(res.status, path).toBe(400);
      expect(e.message, path).toMatch(want);
    }
  });
});
