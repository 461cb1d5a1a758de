// The console's two same-origin files: its style sheet and its script. Served with long-lived
// caching off (they are small) and under the console CSP (script-src 'self', style-src 'self').
import type { Hono } from 'hono';
import { JOBS_JS } from './client-jobs.js';
import { PROOF_JS } from './client-proof.js';
import type { ConsoleEnv } from './context.js';

const JS = `'use strict';
(() => {
${PROOF_JS}
${JOBS_JS}
document.addEventListener('DOMContentLoaded', () => {
  verifyLedgerPage().catch((err) => { const s = document.getElementById('proof-summary'); if (s) { s.textContent = 'Proof check failed to run: ' + err.message; s.className = 'bad'; s.dataset.done = 'true'; } });
  followJobs();
});
})();
`;

const CSS = `
:root { --ink: #1b1f24; --muted: #4a5561; --accent: #0b5cad; --bad: #a4161a; --ok: #1e6b34; --line: #d0d7de; --bg: #fff; --soft: #f3f5f7; }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--ink); background: var(--bg); }
a { color: var(--accent); }
a:focus-visible, button:focus-visible, input:focus-visible, select:focus-visible, main:focus-visible, summary:focus-visible { outline: 3px solid #f0b400; outline-offset: 2px; }
.skip { position: absolute; left: -999px; top: 0; background: var(--ink); color: #fff; padding: .5rem 1rem; }
.skip:focus { left: 0; z-index: 10; }
header { display: flex; flex-wrap: wrap; align-items: center; gap: 1rem; padding: .5rem 1.5rem; border-bottom: 1px solid var(--line); background: var(--soft); }
.brand { margin: 0; font-weight: 700; } .brand a { color: var(--ink); text-decoration: none; }
nav ul { display: flex; flex-wrap: wrap; gap: .25rem 1rem; list-style: none; margin: 0; padding: 0; }
nav a[aria-current="page"] { font-weight: 700; color: var(--ink); text-decoration-thickness: 3px; }
.signout { margin-left: auto; display: flex; gap: .5rem; align-items: center; font-size: .9rem; }
main { padding: 1rem 1.5rem 3rem; max-width: 1200px; }
h1 { font-size: 1.6rem; margin: .5rem 0 1rem; } h2 { font-size: 1.25rem; margin-top: 2rem; } h3 { font-size: 1.05rem; }
table { border-collapse: collapse; width: 100%; font-size: .92rem; }
th, td { text-align: left; vertical-align: top; padding: .35rem .5rem; border-bottom: 1px solid var(--line); }
th { background: var(--soft); }
code, .mono { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: .88em; word-break: break-all; }
button { font: inherit; padding: .35rem .9rem; border: 1px solid var(--accent); background: var(--accent); color: #fff; border-radius: 4px; cursor: pointer; }
.signout button { background: #fff; color: var(--accent); }
input, select { font: inherit; padding: .3rem .4rem; border: 1px solid #6e7781; border-radius: 4px; }
label { font-weight: 600; }
.filters { display: flex; flex-wrap: wrap; gap: .75rem 1.25rem; align-items: end; margin-bottom: 1rem; }
.filters div { display: flex; flex-direction: column; }
.signin { display: flex; flex-direction: column; gap: .5rem; max-width: 32rem; }
.help, .note { color: var(--muted); font-size: .92rem; }
.ok { color: var(--ok); font-weight: 600; } .bad, .error { color: var(--bad); font-weight: 600; } .pending { color: var(--muted); }
.verdict { padding: .75rem 1rem; border-left: 6px solid var(--muted); background: var(--soft); font-size: 1.1rem; }
.verdict.owned { border-color: var(--bad); background: #fbeaea; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1rem; } dl.facts dt { font-weight: 600; } dl.facts dd { margin: 0; }
figure { margin: 1rem 0; } figcaption { color: var(--muted); font-size: .92rem; }
svg { max-width: 100%; height: auto; }
.job { padding: .5rem 1rem; border: 1px solid var(--line); background: var(--soft); }
`;

export function assetRoutes(ui: Hono<ConsoleEnv>): void {
  ui.get('/assets/console.js', (c) => c.body(JS, 200, { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'no-cache' }));
  ui.get('/assets/console.css', (c) => c.body(CSS, 200, { 'content-type': 'text/css; charset=utf-8', 'cache-control': 'no-cache' }));
}
