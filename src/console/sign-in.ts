// Sign-in and sign-out. The API key is posted once over the same origin, checked with the API's
// key store, and exchanged for a session id; the key itself is never stored, logged or echoed.
// The sign-in form carries its own token (double-submit cookie) so another site cannot sign a
// browser in under the attacker's key.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { Hono } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { html } from 'hono/html';
import type { ConsoleContext, ConsoleDeps, ConsoleEnv } from './context.js';
import { page } from './layout.js';
import { SESSION_COOKIE } from './sessions.js';
import { viewsFor } from './views.js';

const LOGIN_COOKIE = 'hallmark_console_login';
const REASONS = {
  malformed: 'That is not an API key: keys look like hm_<id>_<secret>.',
  unknown: 'That API key is not valid.',
  revoked: 'That API key has been revoked; ask an admin for a new one.',
} as const;

const secure = (url: string) => new URL(url).protocol === 'https:';
const same = (a: string, b: string) => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));
/** Only paths inside the console: never an absolute URL (no open redirect). */
const safeNext = (v: unknown) => (typeof v === 'string' && /^\/console\/[A-Za-z0-9/_.:-]*$/.test(v) && !v.includes('//') ? v : undefined);

function form(token: string, next: string | undefined, message?: string, status?: string) {
  return html`${message ? html`<p class="error" role="alert" id="signin-error">${message}</p>` : ''}${status ? html`<p class="note" role="status">${status}</p>` : ''}
<form method="post" action="/console/sign-in" class="signin">
<input type="hidden" name="login" value="${token}">
${next ? html`<input type="hidden" name="next" value="${next}">` : ''}
<label for="key">API key</label>
<input id="key" name="key" type="password" autocomplete="off" spellcheck="false" required aria-describedby="key-help${message ? ' signin-error' : ''}">
<p id="key-help" class="help">Paste the key an admin created for you with <code>hallmark keys create</code>. It is exchanged for a session that ends after a short idle time or when the key is revoked.</p>
<button type="submit">Sign in</button>
</form>`;
}

export function signInRoutes(ui: Hono<ConsoleEnv>, { sessions }: ConsoleDeps): void {
  const show = (c: ConsoleContext, status: 200 | 401 | 403, message?: string, note?: string) => {
    const token = randomBytes(24).toString('base64url');
    setCookie(c, LOGIN_COOKIE, token, { path: '/console/sign-in', httpOnly: true, sameSite: 'Strict', secure: secure(c.req.url), maxAge: 3600 });
    return c.html(page('Sign in', form(token, safeNext(c.req.query('next')), message, note)), status);
  };

  ui.get('/sign-in', (c) => show(c, 200, undefined, c.req.query('expired') === '1' ? 'Your session ended; sign in again.' : c.req.query('out') === '1' ? 'You are signed out.' : undefined));

  ui.post('/sign-in', async (c) => {
    const body = await c.req.parseBody();
    const cookie = getCookie(c, LOGIN_COOKIE);
    if (typeof body.login !== 'string' || !cookie || !same(body.login, cookie)) return show(c, 403, 'The sign-in form expired or did not come from this page; try again.');
    const key = typeof body.key === 'string' ? body.key.trim() : '';
    const result = c.var.deps.keys.authenticate(key);
    if (!result.ok) return show(c, 401, REASONS[result.reason]);
    const views = viewsFor(result.key.role);
    if (views.length === 0) return show(c, 403, `Keys of the role “${result.key.role}” have no console views.`);
    const s = sessions.create(result.key.id, result.key.role);
    deleteCookie(c, LOGIN_COOKIE, { path: '/console/sign-in' });
    setCookie(c, SESSION_COOKIE, s.id, { path: '/console', httpOnly: true, sameSite: 'Strict', secure: secure(c.req.url) });
    return c.redirect(safeNext(body.next) ?? views[0]!.path, 303);
  });

  ui.post('/sign-out', async (c) => {
    // Signing out needs no valid token to end a session that is already gone, but a live one
    // is ended only with its own CSRF token (so another site cannot sign the user out).
    const id = getCookie(c, SESSION_COOKIE);
    const s = sessions.get(id);
    const body = await c.req.parseBody();
    if (s && (typeof body.csrf !== 'string' || !same(body.csrf, s.csrf))) return c.text('refused: the sign-out form is missing its CSRF token', 403);
    if (s) sessions.end(s.id);
    deleteCookie(c, SESSION_COOKIE, { path: '/console' });
    return c.redirect('/console/sign-in?out=1', 303);
  });
}
