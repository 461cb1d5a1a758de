// The guard's HTTP face (Hono): Open Inference Protocol v2 and TensorFlow Serving REST routes in
// front of GuardService, client API keys (role "client") on every model route, /metrics for
// admin and auditor keys, bounded bodies, and errors in each protocol's own shape
// ({ "error": "<message>" }) with the right status: 400 malformed, 401 no/bad key, 403 blocked or
// wrong role, 404 unknown model, 413 too large, 429 + Retry-After over budget, 502 upstream.
import { Hono, type Context, type MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { isHallmarkError } from '../../ledger/index.js';
import type { KeyStore } from '../api/keys.js';
import { AUTH_CACHE_MS, AuthCache } from './auth-cache.js';
import { GuardError, type GuardErrorCode } from './errors.js';
import type { GuardLog, GuardService } from './guard-service.js';
import type { GuardMetrics } from './metrics.js';
import { formatOipResponse, formatTfServingResponse, parseOipRequest, parseTfServingRequest, type ParsedBatch } from './protocols.js';

export interface GuardLimits {
  /** Request body bound in bytes (default 8 MiB). */
  readonly maxBodyBytes: number;
  /** Inputs per request (default 256). */
  readonly maxBatch: number;
}

export const DEFAULT_GUARD_LIMITS: GuardLimits = { maxBodyBytes: 8 * 1024 * 1024, maxBatch: 256 };

export interface GuardAppOptions {
  readonly service: GuardService;
  readonly keys: KeyStore;
  readonly metrics: GuardMetrics;
  readonly log: GuardLog;
  readonly modelName: string;
  readonly limits?: Partial<GuardLimits>;
  /** How long a successful key check is remembered (auth-cache.ts; default 1 s, 0: never). */
  readonly authCacheMs?: number;
  readonly clock?: () => number;
}

const STATUS: Record<GuardErrorCode, ContentfulStatusCode> = {
  GUARD_BAD_REQUEST: 400, GUARD_UNAUTHENTICATED: 401, GUARD_FORBIDDEN: 403, GUARD_NOT_FOUND: 404, GUARD_TOO_LARGE: 413,
  GUARD_RATE_LIMITED: 429, GUARD_UPSTREAM: 502, GUARD_BAD_INPUT: 500, GUARD_NOT_FOUND_SET: 404, GUARD_TAMPERED: 500, GUARD_RECORD_INVALID: 500,
};

type Env = { Variables: { client?: string; protocol: string } };

export function createGuardApp(o: GuardAppOptions): Hono<Env> {
  const limits = { ...DEFAULT_GUARD_LIMITS, ...o.limits };
  const { service, metrics } = o;
  const runner = service.runner;
  const spec = { inputName: runner.inputName, dims: runner.dims, maxBatch: limits.maxBatch };
  const app = new Hono<Env>();
  const auth = new AuthCache(o.keys, o.authCacheMs ?? AUTH_CACHE_MS, o.clock);

  const fail = (c: Context<Env>, err: unknown) => {
    if (err instanceof GuardError) {
      const status = STATUS[err.code] ?? 500;
      if (err.code === 'GUARD_RATE_LIMITED') c.header('Retry-After', String((err as GuardError & { retryAfter?: number }).retryAfter ?? 1));
      if (err.code === 'GUARD_UNAUTHENTICATED') c.header('WWW-Authenticate', 'Bearer');
      return c.json({ error: status >= 500 && err.code !== 'GUARD_UPSTREAM' ? 'internal error' : err.message }, status);
    }
    o.log('error', 'unexpected error', { name: err instanceof Error ? err.name : 'unknown', code: isHallmarkError(err) ? err.code : 'none' });
    return c.json({ error: 'internal error' }, 500);
  };

  app.onError((err, c) => fail(c, err));
  app.notFound((c) => c.json({ error: `no route for ${c.req.method} ${c.req.path.slice(0, 100)}` }, 404));

  const authenticate = (c: Context<Env>, roles: readonly string[]): string => {
    const h = c.req.header('authorization') ?? '';
    const m = /^Bearer (\S+)$/.exec(h);
    if (!m) throw new GuardError('GUARD_UNAUTHENTICATED', 'send your API key as "Authorization: Bearer hm_..."');
    const r = auth.authenticate(m[1]!);
    if (!r.ok) throw new GuardError('GUARD_UNAUTHENTICATED', r.reason === 'revoked' ? 'this API key was revoked' : 'unknown or malformed API key');
    if (!roles.includes(r.key.role)) throw new GuardError('GUARD_FORBIDDEN', `keys of role "${r.key.role}" may not call this route`);
    return r.key.id;
  };

  const checkModel = (name: string) => {
    if (name !== o.modelName) throw new GuardError('GUARD_NOT_FOUND', `no model named "${name.slice(0, 100)}" is served here`);
  };

  const tooLarge = (c: Context<Env>) => c.json({ error: `request body larger than ${limits.maxBodyBytes} bytes` }, 413);
  const streamed = bodyLimit({ maxSize: limits.maxBodyBytes, onError: tooLarge });
  // A declared Content-Length is checked up front, and Node's parser delivers exactly that many
  // bytes, so the body is read on @hono/node-server's fast path; only a chunked body (no length)
  // goes through bodyLimit, which counts bytes as they stream (and cost ~1/4 of a small request).
  const limit: MiddlewareHandler<Env> = async (c, next) => {
    const declared = c.req.header('content-length');
    if (declared === undefined || c.req.header('transfer-encoding') !== undefined) return streamed(c, next);
    if (!/^\d{1,15}$/.test(declared)) return c.json({ error: 'malformed Content-Length' }, 400);
    if (Number(declared) > limits.maxBodyBytes) return tooLarge(c);
    await next();
  };

  const infer = async (c: Context<Env>, protocol: 'oip-v2' | 'tfserving', name: string) => {
    const started = performance.now();
    let client = 'unauthenticated';
    try {
      client = authenticate(c, ['client']);
      checkModel(name);
      let body: unknown;
      try {
        body = JSON.parse(await c.req.text());
      } catch {
        throw new GuardError('GUARD_BAD_REQUEST', 'the request body is not JSON');
      }
      const batch: ParsedBatch = protocol === 'oip-v2' ? parseOipRequest(body, spec) : parseTfServingRequest(body, spec);
      const scores = await service.answer(client, batch.x, batch.n);
      const res = c.json(protocol === 'oip-v2' ? formatOipResponse(o.modelName, runner.outputName, scores, batch.n, batch.id) : formatTfServingResponse(scores, batch.n));
      metrics.request(client, protocol, 200, (performance.now() - started) / 1000);
      return res;
    } catch (err) {
      const res = fail(c, err);
      metrics.request(client, protocol, res.status, (performance.now() - started) / 1000);
      return res;
    }
  };

  // Open Inference Protocol v2
  app.get('/v2/health/live', (c) => c.json({ live: true }));
  app.get('/v2/health/ready', (c) => c.json({ ready: true }));
  app.get('/v2', (c) => c.json({ name: 'hallmark-guard', version: '1', extensions: [] }));
  const metadata = (c: Context<Env>) => {
    authenticate(c, ['client']);
    checkModel(c.req.param('name')!);
    return c.json({
      name: o.modelName, versions: ['1'], platform: runner.platform,
      inputs: [{ name: runner.inputName, datatype: 'FP32', shape: [-1, ...runner.dims] }],
      outputs: [{ name: runner.outputName, datatype: 'FP32', shape: [-1, runner.classes] }],
    });
  };
  app.get('/v2/models/:name', metadata);
  app.get('/v2/models/:name/versions/:version', metadata);
  app.get('/v2/models/:name/ready', (c) => {
    authenticate(c, ['client']);
    checkModel(c.req.param('name'));
    return c.json({ name: o.modelName, ready: true });
  });
  app.post('/v2/models/:name/infer', limit, (c) => infer(c, 'oip-v2', c.req.param('name')));
  app.post('/v2/models/:name/versions/:version/infer', limit, (c) => infer(c, 'oip-v2', c.req.param('name')));

  // TensorFlow Serving REST: the ":predict" verb is part of the last path segment.
  app.post('/v1/models/*', limit, (c) => {
    const m = /^\/v1\/models\/([^/:]+)(?:\/versions\/\d+)?:predict$/.exec(c.req.path);
    if (!m) return c.json({ error: 'only :predict is served (POST /v1/models/NAME:predict)' }, 404);
    return infer(c, 'tfserving', decodeURIComponent(m[1]!));
  });
  app.get('/v1/models/:name', (c) => {
    authenticate(c, ['client']);
    checkModel(c.req.param('name'));
    return c.json({ model_version_status: [{ version: '1', state: 'AVAILABLE', status: { error_code: 'OK', error_message: '' } }] });
  });

  app.get('/metrics', (c) => {
    authenticate(c, ['admin', 'auditor']);
    return c.text(metrics.render(), 200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
  });
  return app;
}
