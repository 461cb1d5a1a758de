// Key management over HTTP (admin only; the auditor may list). Creating a key answers the
// secret once; listing never does. Both mutations are recorded in the ledger.
import { z } from '@hono/zod-openapi';
import { actorOf, type RouteGroup } from '../context.js';
import { defineRoute } from '../define-route.js';
import { createRecordedKey, revokeRecordedKey } from '../key-admin.js';
import { ROLES } from '../roles.js';

const KeySchema = z.object({
  id: z.string(), name: z.string(), role: z.enum(ROLES), createdAt: z.string(), revokedAt: z.string().nullable(),
}).openapi('ApiKey');

const json = <T extends z.ZodType>(schema: T, description: string) => ({ description, content: { 'application/json': { schema } } });
const KeyId = z.object({ id: z.string().regex(/^[0-9a-f]{12}$/, 'expected a 12-digit hex key id') });

export const keyRoutes: RouteGroup = (app, { keys, ledger }) => {
  app.openapi(defineRoute(['admin'], {
    method: 'post', path: '/v1/keys', tags: ['keys'], summary: 'Create an API key (the secret is shown once)',
    request: { body: { required: true, content: { 'application/json': { schema: z.object({ role: z.enum(ROLES), name: z.string().regex(/^[\x20-\x7e]{1,100}$/, 'expected 1-100 printable ASCII characters') }).strict() } } } },
    responses: { 201: json(z.object({ key: KeySchema, secret: z.string().openapi({ description: 'shown only in this response' }), index: z.number().int() }), 'the new key') },
  }), (c) => {
    const body = c.req.valid('json');
    const out = createRecordedKey(keys, ledger, body, actorOf(c.var.key));
    return c.json(out, 201);
  });

  app.openapi(defineRoute(['admin', 'auditor'], {
    method: 'get', path: '/v1/keys', tags: ['keys'], summary: 'List API keys (no secrets)',
    responses: { 200: json(z.object({ keys: z.array(KeySchema) }), 'all keys') },
  }), (c) => c.json({ keys: keys.list() }, 200));

  app.openapi(defineRoute(['admin'], {
    method: 'post', path: '/v1/keys/{id}/revoke', tags: ['keys'], summary: 'Revoke an API key',
    request: { params: KeyId },
    responses: { 200: json(z.object({ key: KeySchema, index: z.number().int().nullable() }), 'the revoked key'), 404: json(z.unknown(), 'no such key') },
  }), (c) => c.json(revokeRecordedKey(keys, ledger, c.req.valid('param').id, actorOf(c.var.key)), 200));
};
