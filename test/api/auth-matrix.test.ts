// The role x route matrix, generated from the OpenAPI document the server publishes: every
// route that names roles refuses a missing key, a malformed key, a wrong secret, a revoked key
// and every role it does not name; every role it names gets past the check.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROLES, type Role } from '../../src/api/roles.js';
import { errorOf, makeTestApi, type TestApi } from './helpers.js';

interface Op {
  'x-roles'?: string[];
  'x-public'?: boolean;
  security?: unknown[];
  requestBody?: { content?: Record<string, unknown> };
}
type Doc = { openapi: string; paths: Record<string, Record<string, Op>> };

let t: TestApi;
let doc: Doc;
let revoked: Record<Role, string>;
beforeAll(async () => {
  t = makeTestApi();
  doc = (await (await t.req('/openapi.json')).json()) as Doc;
  revoked = Object.fromEntries(ROLES.map((r) => {
    const k = t.keys.create({ role: r, name: `revoked ${r}` });
    t.keys.revoke(k.key.id);
    return [r, k.secret];
  })) as Record<Role, string>;
});
afterAll(() => t.dispose());

const operations = () => Object.entries(doc.paths).flatMap(([path, ops]) => Object.entries(ops).map(([method, op]) => ({ path, method, op })));
// Path parameters get syntactically plausible values: the check must come before validation anyway.
const concrete = (path: string) => path.replace(/\{[^}]+\}/g, '0');

async function call(method: string, path: string, op: Op, secret?: string): Promise<Response> {
  const headers: Record<string, string> = {};
  if (secret) headers.authorization = `Bearer ${secret}`;
  const types = Object.keys(op.requestBody?.content ?? {});
  if (types.some((x) => x.includes('json'))) headers['content-type'] = 'application/json';
  const body = ['get', 'head'].includes(method) ? undefined : types.some((x) => x.includes('json')) ? '{}' : undefined;
  return t.app.request(concrete(path), { method: method.toUpperCase(), headers, body });
}

describe('role x route matrix (from /openapi.json)', () => {
  it('is an OpenAPI 3.1 document where every operation states its access rule', () => {
    expect(doc.openapi).toBe('3.1.0');
    const ops = operations();
    expect(ops.length).toBeGreaterThanOrEqual(10);
    for (const { path, method, op } of ops) {
      const label = `${method} ${path}`;
      if (op['x-public']) {
        expect(op['x-roles'], label).toBeUndefined();
        continue;
      }
      expect(op['x-roles']?.length, label).toBeGreaterThan(0);
      for (const r of op['x-roles']!) expect(ROLES, label).toContain(r);
      expect(op.security, label).toEqual([{ apiKey: [] }]);
      // The auditor reads everything.
      if (method === 'get') expect(op['x-roles'], label).toContain('auditor');
    }
  });

  it('refuses a missing, malformed, wrong or revoked key with 401 on every protected route', async () => {
    let checked = 0;
    for (const { path, method, op } of operations()) {
      if (op['x-public']) continue;
      const fakes: [string, string | undefined][] = [
        ['missing', undefined],
        ['malformed', 'not-a-key'],
        ['wrong secret', t.secrets.admin.slice(0, -4) + 'AAAA'],
        ...ROLES.map((r): [string, string] => [`revoked ${r}`, revoked[r]]),
      ];
      for (const [what, secret] of fakes) {
        const res = await call(method, path, op, secret);
        expect(res.status, `${method} ${path} with ${what} key`).toBe(401);
        const e = await errorOf(res);
        expect(e.code).toBe('API_UNAUTHENTICATED');
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(0);
  });

  it('refuses every role a route does not name with 403, and lets every named role past', async () => {
    const before = { forbidden: 0, allowed: 0 };
    for (const { path, method, op } of operations()) {
      if (op['x-public']) continue;
      for (const role of ROLES) {
        const res = await call(method, path, op, t.secrets[role]);
        const label = `${role} ${method} ${path}`;
        if (op['x-roles']!.includes(role)) {
          expect([401, 403], label).not.toContain(res.status);
          before.allowed++;
        } else {
          expect(res.status, label).toBe(403);
          const e = await errorOf(res);
          expect(e.code).toBe('API_FORBIDDEN');
          expect(e.message).toContain(`role "${role}" may not call`);
          before.forbidden++;
        }
      }
    }
    expect(before.forbidden).toBeGreaterThan(0);
    expect(before.allowed).toBeGreaterThan(0);
  });

  it('keeps public routes public', async () => {
    for (const { path, method, op } of operations()) {
      if (!op['x-public']) continue;
      const res = await call(method, path, op);
      expect([401, 403], `${method} ${path}`).not.toContain(res.status);
    }
  });
});
