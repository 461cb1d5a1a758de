// The page shell every view shares: one <h1> per page, a skip link, the navigation of the views
// the signed-in role may see (and no others), and the sign-out form with its CSRF token.
// Styles and scripts are same-origin files (assets.ts), so the CSP needs no inline allowance.
import { html, raw } from 'hono/html';
import type { HtmlEscapedString } from 'hono/utils/html';
import type { Session } from './sessions.js';
import { viewsFor, type ViewId } from './views.js';

export type Html = HtmlEscapedString | Promise<HtmlEscapedString>;

export function page(title: string, body: Html, options: { session?: Session; current?: ViewId; keyName?: string } = {}): Html {
  const s = options.session;
  const nav = s
    ? html`<nav aria-label="Console views"><ul>${viewsFor(s.role).map((v) => html`<li><a href="${v.path}"${raw(v.id === options.current ? ' aria-current="page"' : '')}>${v.title}</a></li>`)}</ul></nav>
<form class="signout" method="post" action="/console/sign-out"><input type="hidden" name="csrf" value="${s.csrf}"><span>Signed in as <strong>${s.role}</strong>${options.keyName ? html` (key “${options.keyName}”)` : ''}</span> <button type="submit">Sign out</button></form>`
    : '';
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · Hallmark console</title>
<link rel="stylesheet" href="/console/assets/console.css">
<script src="/console/assets/console.js" defer></script>
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header><p class="brand"><a href="/console">Hallmark console</a></p>${nav}</header>
<main id="main" tabindex="-1">
<h1>${title}</h1>
${body}
</main>
</body>
</html>`;
}

/** A hidden CSRF field for a state-changing form. */
export const csrfField = (s: Session) => html`<input type="hidden" name="csrf" value="${s.csrf}">`;

export const short = (s: string, n = 16) => (s.length > n ? `${s.slice(0, n)}…` : s);
