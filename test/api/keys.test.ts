import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openApiDb } from '../../src/api/api-db.js';
import { openKeyStore } from '../../src/api/keys.js';
import { errorOf, makeTestApi, type TestApi } from './helpers.js';

let t: TestApi;
beforeAll(() => { t = makeTestApi(); });
afterAll(() => t.dispose());

const post = (path: string, body: unknown, role: 'admin' | 'auditor' = 'admin') =>
  t.req(path, { method: 'POST', role, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

describe('API keys', () => {
  it('creates a key shown once, stores only its hash, and records the creation in the ledger', async () => {
    const res = await post('/v1/keys', { role: 'verifier', name: 'suspect checks' });
    expect(res.status).toBe(201);
    const out = (await res.json()) as { key: { id: string; role: string }; secret: string; index: number };
    expect(out.secret).toMatch(/^hm_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/);
    expect(out.secret.startsWith(`hm_${out.key.id}_`)).toBe(true);

    // The secret works, and is nowhere at rest: not in api.db, not in the ledger, not in a listing.
    const jobs = await t.req('/v1/jobs', { secret: out.secret });
    expect(jobs.status).toBe(200);
    const db = openApiDb(t.dir);
    const raw = JSON.stringify(db.prepare('SELECT * FROM api_keys').all(), (_k, v) => (Buffer.isBuffer(v) || v?.type === 'Buffer' ? Buffer.from(v.data ?? v).toString('latin1') : v));
    db.close();
    const secretPart = out.secret.slice(16);
    expect(raw).not.toContain(secretPart);
    const list = await (await t.req('/v1/keys', { role: 'auditor' })).text();
    expect(list).toContain(out.key.id);
    expect(list).not.toContain(secretPart);
    expect(list).not.toMatch(/hash/);
    const entry = t.home.ledger.get(out.index);
    expect(entry.entry.type).toBe('api.key-created');
    expect(entry.entry.payload).toEqual({ schema: 'hallmark/api.key-created/v1', keyId: out.key.id, name: 'suspect checks', role: 'verifier' });
    const admin = t.keys.list().find((k) => k.role === 'admin')!;
    expect(entry.entry.actor).toBe(`key:${admin.id}`);
    expect(new TextDecoder().decode(entry.bytes)).not.toContain(secretPart);

    // Revoked: refused from then on, and recorded.
    const rv = await t.req(`/v1/keys/${out.key.id}/revoke`, { method: 'POST', role: 'admin' });
    expect(rv.status).toBe(200);
    const revokedAt = ((await rv.json()) as { key: { revokedAt: string } }).key.revokedAt;
    expect(revokedAt).toMatch(/^\d{4}-/);
    const after = await t.req('/v1/jobs', { secret: out.secret });
    expect(after.status).toBe(401);
    expect((await errorOf(after)).message).toMatch(/revoked/);
    expect(t.home.ledger.get(t.home.ledger.size() - 1).entry).toMatchObject({ type: 'api.key-revoked', payload: { keyId: out.key.id } });
  });

  it('refuses bad roles, names and unknown ids with codes', async () => {
    const badRole = await post('/v1/keys', { role: 'root', name: 'x' });
    expect(badRole.status).toBe(400);
    expect((await errorOf(badRole)).message).toMatch(/^invalid request: body\.role/);
    const extra = await post('/v1/keys', { role: 'admin', name: 'x', secret: 'mine' });
    expect(extra.status).toBe(400);
    const badName = await post('/v1/keys', { role: 'admin', name: 'a\nb' });
    expect(badName.status).toBe(400);
    const unknown = await t.req('/v1/keys/0123456789ab/revoke', { method: 'POST', role: 'admin' });
    expect(unknown.status).toBe(404);
    expect((await errorOf(unknown)).code).toBe('API_KEY_NOT_FOUND');
  });

  it('authenticates only the exact key', () => {
    const store = openKeyStore(openApiDb(t.dir));
    const { key, secret } = store.create({ role: 'legal', name: 'l' });
    expect(store.authenticate(secret)).toMatchObject({ ok: true, key: { id: key.id, role: 'legal' } });
    const flip = secret.slice(0, -1) + (secret.endsWith('A') ? 'B' : 'A');
    expect(store.authenticate(flip)).toEqual({ ok: false, reason: 'unknown' });
    expect(store.authenticate(secret + 'x')).toEqual({ ok: false, reason: 'malformed' });
    expect(store.authenticate('hm_000000000000_' + secret.slice(16))).toEqual({ ok: false, reason: 'unknown' });
    expect(() => store.create({ role: 'god' as never, name: 'x' })).toThrow(/role must be one of/);
  });
});
