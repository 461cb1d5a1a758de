// createApp: the Hono app over a ledger, a key store and a job runner. Nothing here listens on a
// socket; tests call app.request(), `hallmark serve` hands app.fetch to @hono/node-server.
import { OpenAPIHono } from '@hono/zod-openapi';
import type { MiddlewareHandler } from 'hono';
import { secureHeaders } from 'hono/secure-headers';
import { rateLimiter } from 'hono-rate-limiter';
import { DEFAULT_LIMITS, type ApiApp, type AppDeps, type AppEnv, type AppOptions } from './context.js';
import { ApiError, createErrorHandler, notFound, validationHook } from './errors.js';
import { readOwnerSignerKey } from './owner-key.js';
import { ROUTE_GROUPS } from './routes/index.js';
// issue 15: the ledger as a C2SP tlog-tiles log (read-only), under /tlog.
import { tileRoutes } from './routes/tiles.js';
// issue 16: the console at /console.
import { CONSOLE_CSP, consoleRoutes } from '../console/index.js';

function perKeyLimit(limit: number, windowMs: number, what: string): MiddlewareHandler<AppEnv> {
  return rateLimiter<AppEnv>({
    windowMs,
    limit,
    standardHeaders: 'draft-6',
    keyGenerator: (c) => c.var.key?.id ?? 'anonymous',
    handler: () => {
      throw new ApiError('API_RATE_LIMITED', `too many ${what} for this API key (limit ${limit} per ${Math.round(windowMs / 1000)} s); wait and retry`);
    },
  }) as MiddlewareHandler<AppEnv>;
}

export function createApp(options: AppOptions): ApiApp {
  const limits = { ...DEFAULT_LIMITS, ...options.limits };
  const log = options.log ?? ((line: string) => process.stderr.write(`hallmark api: ${line}\n`));
  const deps: AppDeps = {
    ledger: options.ledger,
    keys: options.keys,
    jobs: options.jobs,
    homeDir: options.homeDir,
    clock: options.clock ?? (() => new Date()),
    limits,
    log,
    hasPassphrase: options.hasPassphrase ?? false,
    ...(options.endpointHosts ? { endpointHosts: options.endpointHosts } : {}),
    checkpointIntervalMs: options.checkpoints?.intervalMs ?? 0,
    ownerSignerKey: options.ownerSignerKey ?? (() => readOwnerSignerKey(options.homeDir)),
    rateLimit: {
      upload: perKeyLimit(limits.uploadsPerWindow, limits.windowMs, 'uploads'),
      verify: perKeyLimit(limits.verificationsPerWindow, limits.windowMs, 'verification requests'),
    },
  };

  const app: ApiApp = new OpenAPIHono<AppEnv>({ defaultHook: validationHook });
  app.onError(createErrorHandler(log, options.homeDir));
  app.notFound(notFound);
  // JSON answers need nothing from a browser; the docs page needs its inline style sheet.
  const apiHeaders = secureHeaders({ contentSecurityPolicy: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] }, crossOriginResourcePolicy: 'same-origin' });
  const docsHeaders = secureHeaders({ contentSecurityPolicy: { defaultSrc: ["'none'"], styleSrc: ["'unsafe-inline'"], frameAncestors: ["'none'"] } });
  // issue 16: the console's pages load same-origin scripts and styles only (src/console CONSOLE_CSP).
  const consoleHeaders = secureHeaders({ contentSecurityPolicy: CONSOLE_CSP, crossOriginResourcePolicy: 'same-origin', referrerPolicy: 'same-origin' });
  const isConsole = (path: string) => path === '/console' || path.startsWith('/console/');
  app.use('*', (c, next) => (c.req.path === '/docs' ? docsHeaders(c, next) : isConsole(c.req.path) ? consoleHeaders(c, next) : apiHeaders(c, next)));
  app.use('*', async (c, next) => {
    c.set('deps', deps);
    await next();
  });
  // Checkpoints are signed after writes, never because of a read (checkpoint-policy.ts).
  const policy = options.checkpoints;
  if (policy?.afterWrites) {
    app.use('*', async (c, next) => {
      await next();
      if (c.req.method === 'GET' || c.req.method === 'HEAD' || c.req.method === 'OPTIONS' || c.res.status >= 400) return;
      try {
        await policy.signSoon();
      } catch (err) {
        log(`checkpoint after ${c.req.method} ${c.req.path}: ${(err as Error).message.split('\n')[0]}`);
      }
    });
  }
  for (const group of [...ROUTE_GROUPS, ...(options.groups ?? [])]) group(app, deps);
  tileRoutes(options.publishedCheckpoint)(app, deps); // issue 15
  if (options.console !== false) consoleRoutes(options.console ?? {})(app, deps); // issue 16
  return app;
}
