// The console: web pages for compliance, legal and audit teams, served by `hallmark serve` at
// /console on the API's origin. Pages are rendered on the server (hono/html, escaped by
// default); a small same-origin script (assets.ts) verifies ledger proofs with WebCrypto and
// shows job progress. Sign-in exchanges an API key for a session cookie (sessions.ts); every
// view checks the session's role against views.ts, and every POST checks the CSRF token.
import { Hono, type MiddlewareHandler } from 'hono';
import { html } from 'hono/html';
import type { ApiApp, AppDeps, RouteGroup } from '../api/context.js';
import { assetRoutes } from './assets.js';
import type { ConsoleDeps, ConsoleEnv } from './context.js';
import { auditView } from './audit-view.js';
import { guardView } from './guard-view.js';
import { jobRoutes } from './jobs.js';
import { ledgerView } from './ledger-view.js';
import { modelView } from './model-view.js';
import { provenanceView } from './provenance-view.js';
import { csrfMatches, createSessionStore, SESSION_COOKIE, type SessionStore } from './sessions.js';
import { signInRoutes } from './sign-in.js';
import { verificationsView } from './verifications-view.js';
import { getCookie } from 'hono/cookie';
import { viewsFor } from './views.js';
import { respond } from './context.js';

export { createSessionStore, SESSION_COOKIE, DEFAULT_IDLE_MS, DEFAULT_MAX_MS, type SessionStore } from './sessions.js';
export { VIEWS, viewsFor, type ViewDef, type ViewId } from './views.js';

/** The console's Content-Security-Policy: same-origin scripts, styles and fetches only. */
export const CONSOLE_CSP = {
  defaultSrc: ["'none'"], scriptSrc: ["'self'"], styleSrc: ["'self'"], imgSrc: ["'self'"], connectSrc: ["'self'"],
  formAction: ["'self'"], frameAncestors: ["'none'"], baseUri: ["'none'"],
};

export interface ConsoleOptions {
  /** Idle session limit in ms (default 15 minutes). */
  readonly idleMs?: number;
  readonly maxMs?: number;
}

/** Signed-in requests only; the key is re-read so a revoked key ends its sessions. */
function requireSession(sessions: SessionStore): MiddlewareHandler<ConsoleEnv> {
  return async (c, next) => {
    const found = sessions.lookup(getCookie(c, SESSION_COOKIE));
    const s = found === 'expired' ? undefined : found;
    let key;
    try {
      key = s ? c.var.deps.keys.get(s.keyId) : undefined;
    } catch {
      key = undefined;
    }
    if (!s || !key || key.revokedAt !== null || key.role !== s.role) {
      if (s) sessions.end(s.id);
      if (c.req.method !== 'GET') return c.text('sign in first: your console session has ended', 401);
      const next = encodeURIComponent(new URL(c.req.url).pathname);
      return c.redirect(`/console/sign-in?expired=${s || found === 'expired' ? 1 : 0}&next=${next}`, 303);
    }
    c.set('session', s);
    c.set('key', key);
    if (c.req.method === 'POST') {
      const body = await c.req.parseBody();
      if (!csrfMatches(s, body.csrf)) return c.text('refused: this form is missing its CSRF token or the token is not this session\'s; reload the page and try again', 403);
    }
    await next();
  };
}

export function consoleRoutes(options: ConsoleOptions = {}): RouteGroup {
  return (app: ApiApp, api: AppDeps) => {
    const sessions = createSessionStore(api.clock, options);
    const deps: ConsoleDeps = { api, sessions };
    const ui = new Hono<ConsoleEnv>();
    assetRoutes(ui);
    signInRoutes(ui, deps);
    ui.use('*', requireSession(sessions));
    ui.get('/', (c) => c.redirect(viewsFor(c.var.session.role)[0]?.path ?? '/console/sign-in', 303));
    ui.get('', (c) => c.redirect(viewsFor(c.var.session.role)[0]?.path ?? '/console/sign-in', 303));
    for (const v of [jobRoutes, ledgerView, modelView, verificationsView, provenanceView, guardView, auditView]) v(ui, deps);
    ui.notFound((c) => (c.var.session ? respond(c, 'Not found', html`<p>There is no console page at this address.</p>`, undefined, 404) : c.text('not found', 404)));
    app.route('/console', ui as unknown as Hono);
  };
}
