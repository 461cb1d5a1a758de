// What console handlers share: the API's deps, the session store, and helpers to answer with a
// page, a 403 or a redirect.
import type { Context } from 'hono';
import type { AppDeps } from '../api/context.js';
import type { ApiKeyInfo } from '../api/keys.js';
import type { Role } from '../api/roles.js';
import { html } from 'hono/html';
import { readHomeConfig } from '../home/index.js';
import { parseSignerKey, type TrustedKeys } from '../records/index.js';
import { page, type Html } from './layout.js';
import type { Session, SessionStore } from './sessions.js';
import type { ViewId } from './views.js';

export interface ConsoleEnv {
  Variables: {
    deps: AppDeps;
    session: Session;
    key: ApiKeyInfo;
  };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type ConsoleContext = Context<ConsoleEnv, any>;

export interface ConsoleDeps {
  readonly api: AppDeps;
  readonly sessions: SessionStore;
}

/** The keys entitled to sign records in this home (the API's readers use the same). */
export function trustOf(deps: AppDeps): TrustedKeys {
  return { owner: parseSignerKey(deps.ownerSignerKey()).verifierKey, service: readHomeConfig(deps.homeDir).serviceKeys };
}

/** A full page for the signed-in caller. */
export function respond(c: ConsoleContext, title: string, body: Html, current?: ViewId, status: 200 | 400 | 403 | 404 = 200): Response | Promise<Response> {
  return c.html(page(title, body, { session: c.var.session, keyName: c.var.key.name, ...(current ? { current } : {}) }), status);
}

export function allowed(c: ConsoleContext, roles: readonly Role[]): boolean {
  return roles.includes(c.var.session.role);
}

export function forbidden(c: ConsoleContext, what: string): Response | Promise<Response> {
  return respond(c, 'Not allowed', page403(c.var.session.role, what), undefined, 403);
}

const page403 = (role: string, what: string) => html`<p role="alert">The role “${role}” may not ${what}. Ask an admin for a key with a role that may.</p>`;
