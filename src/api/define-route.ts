// Routes declare who may call them next to their schemas. `defineRoute` puts the rule into the
// OpenAPI document (x-public / x-roles, security, error responses) and in front of the handler
// as the authorize middleware, so the document the matrix test reads is the rule that runs.
import { createRoute, type RouteConfig } from '@hono/zod-openapi';
import type { MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { parseStrictJson, StrictJsonError } from '../../ledger/index.js';
import type { AppEnv } from './context.js';
import { ApiError } from './errors.js';
import type { Access } from './roles.js';
import { ErrorSchema } from './schemas.js';

const BEARER_RE = /^Bearer ([\x21-\x7e]{1,200})$/;

const REASONS = {
  malformed: 'the API key is malformed; keys look like hm_<id>_<secret>',
  unknown: 'the API key is not valid',
  revoked: 'the API key has been revoked; ask an admin for a new one',
} as const;

/** Authenticates the bearer key and checks its role against the route's rule. */
export function authorize(access: Access, label: string): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    if (access === 'public') return next();
    const header = c.req.header('authorization');
    if (!header) throw new ApiError('API_UNAUTHENTICATED', 'this route needs an API key: send "Authorization: Bearer hm_..." (an admin creates keys with "hallmark keys create")');
    const m = BEARER_RE.exec(header);
    if (!m) throw new ApiError('API_UNAUTHENTICATED', 'the Authorization header must be "Bearer <API key>"');
    const result = c.var.deps.keys.authenticate(m[1]!);
    if (!result.ok) throw new ApiError('API_UNAUTHENTICATED', REASONS[result.reason]);
    if (!access.includes(result.key.role)) {
      throw new ApiError('API_FORBIDDEN', `role "${result.key.role}" may not call ${label}; allowed: ${access.join(', ')}`);
    }
    c.set('key', result.key);
    await next();
  };
}

const tooLarge = (): never => {
  throw new ApiError('API_TOO_LARGE', 'the request body is over the JSON size limit');
};

/** Bounds JSON bodies before the validator reads them (limits.jsonBodyBytes). */
const limitJsonBody: MiddlewareHandler<AppEnv> = (c, next) => bodyLimit({ maxSize: c.var.deps.limits.jsonBodyBytes, onError: tooLarge })(c, next);

/**
 * JSON bodies are parsed strictly before the validator sees them: what is hashed or signed must be
 * what the client sent (no duplicate keys, no "__proto__", no integer past 2^53). The text is
 * cached by Hono, so the validator's own parse reads the same bytes.
 */
const strictJsonBody: MiddlewareHandler<AppEnv> = async (c, next) => {
  if ((c.req.header('content-type') ?? '').toLowerCase().includes('json')) {
    try {
      parseStrictJson(await c.req.text(), { what: 'the request body' });
    } catch (err) {
      // Plain syntax errors keep the API's usual code; the three silent changes get their own.
      if (err instanceof StrictJsonError && err.code === 'JSON_INVALID') throw new ApiError('API_INVALID_REQUEST', `invalid request: ${err.message}`);
      throw err;
    }
  }
  await next();
};

const err = (description: string) => ({ description, content: { 'application/json': { schema: ErrorSchema } } });

/** A stable operationId from method and path: PUT /v1/uploads/models/{fileName} -> putUploadsModelsByFileName. */
export function operationIdFor(method: string, path: string): string {
  const cap = (w: string) => w.charAt(0).toUpperCase() + w.slice(1);
  const words = path.split('/').filter((seg) => seg && !/^v[0-9]+$/.test(seg)).map((seg) => {
    const param = /^\{(.+)\}$/.exec(seg);
    return param ? `By${cap(param[1]!)}` : seg.split(/[^A-Za-z0-9]+/).filter(Boolean).map(cap).join('');
  });
  return `${method.toLowerCase()}${words.join('')}`;
}

/** createRoute plus the access rule, its middleware and the error responses every route can give. */
export function defineRoute<const R extends RouteConfig>(access: Access, route: R, extra: MiddlewareHandler<AppEnv>[] = []): R & { getRoutingPath(): string } {
  const label = `${route.method.toUpperCase()} ${route.path}`;
  // Public routes say so with an empty security list (OpenAPI: no authentication), not by omission.
  const rule = access === 'public' ? { 'x-public': true, security: [] } : { 'x-roles': [...access], security: [{ apiKey: [] }] };
  const errors = {
    400: err('invalid request'),
    ...(access === 'public' ? {} : { 401: err('missing, malformed, unknown or revoked API key'), 403: err('the key\'s role may not call this route') }),
    500: err('internal error'),
  };
  const hasJsonBody = Object.keys(route.request?.body?.content ?? {}).some((t) => t.includes('json'));
  const middleware = [authorize(access, label), ...(hasJsonBody ? [limitJsonBody, strictJsonBody] : []), ...extra];
  const operationId = route.operationId ?? operationIdFor(route.method, route.path);
  return createRoute({ ...route, operationId, ...rule, middleware, responses: { ...errors, ...route.responses } }) as unknown as R & { getRoutingPath(): string };
}
