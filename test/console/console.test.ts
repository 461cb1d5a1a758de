// The console in a real Chromium against a real home on loopback: sign-in and sign-out, each
// role seeing exactly its views (a forbidden one absent from the navigation and answering 403),
// axe-core on every view, CSRF, evidence export from the verification page to files the real
// CLI accepts, a provenance bundle, the audit, a tampered entry failing its proof in the
// browser, session expiry and revocation. Run with `npm run test:console`.
import Database from 'better-sqlite3';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashLeaf } from '../../ledger/index.js';
import type { Role } from '../../src/api/roles.js';
import { homePaths } from '../../src/home/index.js';
import { hallmark } from '../helpers/cli.js';
import { REPO } from '../helpers/paths.js';
import { listen, openApi } from '../../src/api/server.js';
import { makeFixture } from '../evidence/fixture.js';
import { launchBrowser, navLinks, signIn, startConsoleHome, type ConsoleHome } from './harness.js';

const AXE = readFileSync(join(REPO, 'node_modules/axe-core/axe.min.js'), 'utf8');

// What each role may see: the rule written out here, independently of src/console/views.ts.
const ALL = ['/console/ledger', '/console/models', '/console/verifications', '/console/provenance', '/console/guard', '/console/audit'];
const EXPECTED: Record<Exclude<Role, 'client'>, string[]> = {
  admin: ALL,
  auditor: ALL,
  engineer: ['/console/ledger', '/console/models', '/console/guard'],
  verifier: ['/console/ledger', '/console/models', '/console/verifications'],
  legal: ['/console/ledger', '/console/models', '/console/verifications'],
  compliance: ['/console/ledger', '/console/models', '/console/provenance', '/console/audit'],
};

let home: ConsoleHome;
let browser: Browser;
const contexts: BrowserContext[] = [];

beforeAll(async () => {
  home = await startConsoleHome();
  browser = await launchBrowser();
}, 600_000);
afterAll(async () => {
  await browser?.close();
  await home?.close();
});

async function fresh(): Promise<Page> {
  const ctx = await browser.createBrowserContext();
  contexts.push(ctx);
  return ctx.newPage();
}

async function session(role: Role): Promise<Page> {
  const page = await fresh();
  await signIn(page, home.url, home.t.secrets[role]);
  return page;
}

async function axeViolations(page: Page): Promise<string[]> {
  await page.evaluate(AXE);
  const r = (await page.evaluate(() => (globalThis as unknown as { axe: { run(): Promise<unknown> } }).axe.run())) as { violations: { id: string; impact: string; nodes: { target: string[] }[] }[] };
  return r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(', ')}`);
}

const cookieOf = async (page: Page) => (await page.browserContext().cookies()).find((c) => c.name === 'hallmark_console');

describe('sign-in and sign-out', () => {
  it('exchanges a key for an HttpOnly SameSite=Strict session cookie, and signs out', async () => {
    const page = await fresh();
    await signIn(page, home.url, home.t.secrets.legal);
    expect(new URL(page.url()).pathname).toBe('/console/ledger');
    const c = await cookieOf(page);
    expect(c).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/console' });
    expect(c!.value).not.toContain(home.t.secrets.legal);
    // The page shows who is signed in, never the key.
    const html = await page.content();
    expect(html).toContain('legal');
    expect(html).not.toContain(home.t.secrets.legal);
    // Sign out with the keyboard: Tab to the button, Enter.
    await page.focus('.signout button');
    await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
    expect(new URL(page.url()).pathname).toBe('/console/sign-in');
    expect(await cookieOf(page)).toBeUndefined();
    const back = await page.goto(`${home.url}/console/ledger`);
    expect(new URL(back!.url()).pathname).toBe('/console/sign-in');
    // No log line carries a key or a session id.
    expect(home.t.logs.join('\n')).not.toContain(home.t.secrets.legal);
    expect(home.t.logs.join('\n')).not.toContain(c!.value);
  });

  it('refuses a wrong key, a client key, and a sign-in form posted from elsewhere', async () => {
    const page = await fresh();
    await signIn(page, home.url, `hm_000000000000_${'A'.repeat(43)}`);
    expect(await page.$eval('#signin-error', (e) => e.textContent)).toMatch(/not valid/);
    await signIn(page, home.url, home.t.secrets.client);
    expect(await page.$eval('#signin-error', (e) => e.textContent)).toMatch(/no console views/);
    expect(await cookieOf(page)).toBeUndefined();
    // A cross-site login form has no login token: the session is not created.
    const forged = await fetch(`${home.url}/console/sign-in`, { method: 'POST', body: new URLSearchParams({ key: home.t.secrets.admin, login: 'x' }), redirect: 'manual' });
    expect(forged.status).toBe(403);
    expect(forged.headers.get('set-cookie') ?? '').not.toContain('hallmark_console=');
  });
});

describe('roles', () => {
  for (const [role, views] of Object.entries(EXPECTED) as [Exclude<Role, 'client'>, string[]][]) {
    it(`${role} sees exactly ${views.length} views; the others are absent and answer 403`, async () => {
      const page = await session(role);
      expect((await navLinks(page)).sort()).toEqual([...views].sort());
      for (const path of ALL) {
        const res = await page.goto(`${home.url}${path}`);
        expect(res!.status(), `${role} ${path}`).toBe(views.includes(path) ? 200 : 403);
        if (!views.includes(path)) expect(await navLinks(page)).not.toContain(path);
      }
    });
  }

  it('every page is under the strict CSP: same-origin scripts and styles only', async () => {
    const res = await fetch(`${home.url}/console/sign-in`);
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).toContain("frame-ancestors 'none'");
    // The API keeps its own policy.
    expect((await fetch(`${home.url}/v1/ledger/pubkey`)).headers.get('content-security-policy')).toBe("default-src 'none'; frame-ancestors 'none'");
  });
});

describe('accessibility (axe-core)', () => {
  it('has no serious or critical violation on any view', async () => {
    const anon = await fresh();
    await anon.goto(`${home.url}/console/sign-in`);
    const found: Record<string, string[]> = { 'sign-in': await axeViolations(anon) };
    const page = await session('admin');
    for (const path of [...ALL, `/console/models/${home.markedModel}`, `/console/verifications/${home.verificationIndex}`]) {
      await page.goto(`${home.url}${path}`);
      found[path] = await axeViolations(page);
    }
    expect(found).toEqual(Object.fromEntries(Object.keys(found).map((k) => [k, []])));
  });

  it('is usable with the keyboard: the skip link leads to the main content', async () => {
    const page = await session('admin');
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Skip to content');
    await page.keyboard.press('Enter');
    expect(await page.evaluate(() => location.hash)).toBe('#main');
  });
});

describe('CSRF', () => {
  it('refuses a state-changing POST without the session\'s token', async () => {
    const page = await session('auditor');
    const size = home.t.home.ledger.size();
    // A form posted from the page itself but without (or with a wrong) token: same cookie, no token.
    const statuses = await page.evaluate(async () => {
      const a = await fetch('/console/audit', { method: 'POST', body: new URLSearchParams({}) });
      const b = await fetch('/console/audit', { method: 'POST', body: new URLSearchParams({ csrf: 'forged' }) });
      return [a.status, b.status];
    });
    expect(statuses).toEqual([403, 403]);
    expect(home.t.home.ledger.size()).toBe(size);
    expect(home.t.jobs.list({ kind: 'ledger.audit' })).toHaveLength(0);
  });
});

describe('verification and evidence export', () => {
  it('shows the decision in plain words, the numbers and the report plots the record supports', async () => {
    const page = await session('legal');
    await page.goto(`${home.url}/console/verifications/${home.verificationIndex}`);
    expect(await page.$eval('#decision', (e) => e.textContent)).toMatch(/Our watermark was found/);
    const v = home.t.home.ledger.get(home.verificationIndex).entry.payload as { weight: { matches: number; bits: number } };
    expect(await page.$eval('main', (e) => e.textContent)).toContain(`${v.weight.matches} of ${v.weight.bits} match`);
    expect(await page.$$eval('figure svg[role="img"]', (s) => s.length)).toBeGreaterThanOrEqual(1);
    expect(await page.$eval('#plot-0 title', (e) => e.textContent)).toMatch(/Binomial/);
  });

  it('exports evidence from the page, follows the job live, and downloads files hallmark evidence verify accepts', async () => {
    const page = await session('legal');
    const dir = mkdtempSync(join(tmpdir(), 'hm-console-dl-'));
    const cdp = await browser.target().createCDPSession();
    await cdp.send('Browser.setDownloadBehavior', { behavior: 'allow', downloadPath: dir, browserContextId: page.browserContext().id, eventsEnabled: true } as never);
    await page.goto(`${home.url}/console/verifications/${home.verificationIndex}`);
    await Promise.all([page.waitForNavigation(), page.click('#export-evidence')]);
    // The job panel is shown right away, with a live status region.
    const live = await page.$eval('[data-job-progress]', (e) => [e.getAttribute('aria-live'), e.textContent]);
    expect(live[0]).toBe('polite');
    expect(live[1]).toMatch(/Waiting|Running|Finished/);
    await page.waitForSelector('a[data-evidence-file="evidence.json"]', { timeout: 170_000 });
    for (const name of ['evidence.json', 'report.pdf', 'VERIFY.md']) await page.click(`a[data-evidence-file="${name}"]`);
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline && !(['evidence.json', 'report.pdf', 'VERIFY.md'].every((f) => existsSync(join(dir, f))) && !readdirSync(dir).some((f) => f.endsWith('.crdownload')))) await new Promise((r) => setTimeout(r, 200));
    expect(readdirSync(dir).sort()).toEqual(['VERIFY.md', 'evidence.json', 'report.pdf']);
    const r = hallmark(['evidence', 'verify', dir]);
    expect(r.status, r.stderr + r.stdout).toBe(0);
    // The downloads are on record under the legal key.
    const legal = home.t.keys.list().find((k) => k.role === 'legal')!.id;
    const last = home.t.home.ledger.get(home.t.home.ledger.size() - 1).entry;
    expect(last).toMatchObject({ type: 'access.recorded', actor: `key:${legal}` });
  });
});

describe('a verification with both marks', () => {
  it('draws both of the report\'s plots: bits against Binomial(T, 1/2) and trigger agreement against calibrated models', async () => {
    // The fixture's verification record has a weight and a trigger-set result (test/evidence/fixture.ts).
    const fx = await makeFixture('console');
    const api = openApi(fx.dir, { passphrase: fx.passphrase, log: () => {} });
    const server = await listen(api.app, { port: 0, host: '127.0.0.1' });
    try {
      const page = await fresh();
      await signIn(page, server.url, api.keys.create({ role: 'verifier', name: 'v' }).secret);
      await page.goto(`${server.url}/console/verifications/${fx.verificationIndex}`);
      expect(await page.$eval('#plot-0 title', (e) => e.textContent)).toMatch(/Binomial\(T, 1\/2\)/);
      expect(await page.$eval('#plot-1 title', (e) => e.textContent)).toMatch(/Trigger set: the suspect against 20 independently trained unmarked models/);
      expect(await page.$eval('#plot-1 desc', (e) => e.textContent)).toMatch(/97% agreement/);
      expect(await page.$eval('main', (e) => e.textContent)).toContain('97 of 100 answered with our secret label');
      expect(await axeViolations(page)).toEqual([]);
      // A verifier reads the result but does not export evidence.
      expect(await page.$('#export-evidence')).toBeNull();
    } finally {
      await server.close();
      await api.close();
      fx.home.close();
    }
  });
});

describe('provenance and audit', () => {
  it('builds a provenance bundle and downloads it; hallmark provenance verify accepts it', async () => {
    const page = await session('compliance');
    const dir = mkdtempSync(join(tmpdir(), 'hm-console-pv-'));
    const cdp = await browser.target().createCDPSession();
    await cdp.send('Browser.setDownloadBehavior', { behavior: 'allow', downloadPath: dir, browserContextId: page.browserContext().id } as never);
    await page.goto(`${home.url}/console/provenance`);
    await page.select('#p-model', home.markedModel);
    await Promise.all([page.waitForNavigation(), page.click('#build-provenance')]);
    await page.click('#download-bundle');
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline && !readdirSync(dir).some((f) => f.endsWith('.json'))) await new Promise((r) => setTimeout(r, 200));
    const file = readdirSync(dir).find((f) => f.endsWith('.json'))!;
    const r = hallmark(['provenance', 'verify', join(dir, file), '--pubkey', home.t.home.ledger.verifierKey]);
    expect(r.status, r.stderr + r.stdout).toBe(0);
  });

  it('runs the audit and shows that the ledger checks out', async () => {
    const page = await session('auditor');
    await page.goto(`${home.url}/console/audit`);
    await Promise.all([page.waitForNavigation(), page.click('#run-audit')]);
    await page.waitForSelector('#audit-result', { timeout: 120_000 });
    expect(await page.$eval('#audit-result', (e) => e.textContent)).toMatch(/checks out/);
  });
});

describe('the ledger verified in the browser', () => {
  it('verifies every listed entry and the checkpoint signature with WebCrypto', async () => {
    const page = await session('engineer');
    await page.goto(`${home.url}/console/ledger`);
    await page.waitForSelector('#proof-summary[data-done="true"]');
    const cells = await page.$$eval('[data-proof]', (els) => els.map((e) => [e.getAttribute('data-proof'), e.textContent, e.className]));
    expect(cells.length).toBeGreaterThan(5);
    const covered = home.t.home.ledger.latestCheckpoint()!.size;
    for (const [i, text] of cells) expect(text, `entry ${i}`).toBe(Number(i) < covered ? 'verified in this browser' : 'not yet in a signed checkpoint');
    expect(await page.$eval('#checkpoint-browser', (e) => e.textContent)).toMatch(/^valid Ed25519 signature/);
  });

  it('filters by type, actor and time', async () => {
    const page = await session('engineer');
    await page.goto(`${home.url}/console/ledger?type=verification.recorded`);
    const types = await page.$$eval('tbody tr td:nth-child(3)', (els) => els.map((e) => e.textContent));
    expect(types.length).toBeGreaterThan(0);
    expect(new Set(types)).toEqual(new Set(['verification.recorded']));
    const verifier = home.t.keys.list().find((k) => k.role === 'verifier')!.id;
    await page.goto(`${home.url}/console/ledger?actor=${verifier}`);
    const actors = await page.$$eval('tbody tr td:nth-child(4)', (els) => els.map((e) => e.textContent));
    expect(actors.length).toBeGreaterThan(0);
    for (const a of actors) expect(a).toContain(verifier.slice(0, 8));
    await page.goto(`${home.url}/console/ledger?to=2000-01-01`);
    expect(await page.$$eval('tbody tr', (r) => r.length)).toBe(0);
    await page.goto(`${home.url}/console/ledger?from=not-a-date`);
    expect(await page.$eval('[role="alert"]', (e) => e.textContent)).toMatch(/must be a date/);
  });

  it('shows a tampered entry as failing its proof', async () => {
    const ledger = home.t.home.ledger;
    // Enough later entries, under a signed checkpoint, that the target's aligned block of 16 is
    // complete and entries outside it are listed too.
    ledger.appendBatch(Array.from({ length: 32 }, (_, i) => ({ type: 'console-test.filler', payload: { i } })));
    home.t.checkpoints.signIfGrown();
    const target = ledger.list({ type: 'model.registered' })[0]!;
    expect(target.index).toBeLessThan(16);
    const forged = new TextEncoder().encode(new TextDecoder().decode(target.bytes).replace('"mnist-cnn.onnx"', '"mnist-cnn.0nnx"'));
    expect(forged).not.toEqual(target.bytes);
    // A tamperer with write access to the database rewrites the entry and its leaf hash; the
    // tree's stored nodes and the signed checkpoint still commit to the original.
    const db = new Database(homePaths(home.t.dir).db);
    db.prepare('UPDATE entries SET data = ?, leaf_hash = ? WHERE idx = ?').run(Buffer.from(forged), Buffer.from(hashLeaf(forged)), target.index);
    db.close();
    const page = await session('auditor');
    await page.goto(`${home.url}/console/ledger`);
    await page.waitForSelector('#proof-summary[data-done="true"]');
    expect(await page.$eval(`[data-proof="${target.index}"]`, (e) => e.textContent)).toMatch(/^FAILS/);
    expect(await page.$eval('#proof-summary', (e) => e.textContent)).toMatch(/FAILED/);
    // The store rehashes subtrees of 2-8 leaves from the stored leaf hashes (schema 2), so the
    // rewritten leaf hash reaches every proof inside its aligned block of 16 entries, which fail
    // too; the stored level-4 node above the complete block still commits to the original, so
    // every entry outside the block still verifies.
    const failing = await page.$$eval('[data-proof]', (els) => els.filter((e) => /^FAILS/.test(e.textContent ?? '')).map((e) => Number(e.getAttribute('data-proof'))));
    expect(failing).toContain(target.index);
    for (const i of failing) expect(Math.floor(i / 16)).toBe(Math.floor(target.index / 16));
    expect(await page.$$eval('[data-proof]', (els) => els.filter((e) => e.textContent === 'verified in this browser').length)).toBeGreaterThan(5);
  });
});

describe('sessions end', () => {
  it('when the key is revoked', async () => {
    const { key, secret } = home.t.keys.create({ role: 'auditor', name: 'soon revoked' });
    const page = await fresh();
    await signIn(page, home.url, secret);
    expect(new URL(page.url()).pathname).toBe('/console/ledger');
    home.t.keys.revoke(key.id);
    await page.goto(`${home.url}/console/audit`);
    expect(new URL(page.url()).pathname).toBe('/console/sign-in');
  });

  it('after 15 idle minutes', async () => {
    const page = await session('admin');
    await page.goto(`${home.url}/console/models`);
    expect(new URL(page.url()).pathname).toBe('/console/models');
    home.advance(16 * 60_000);
    await page.goto(`${home.url}/console/models`);
    expect(new URL(page.url()).pathname).toBe('/console/sign-in');
    expect(await page.$eval('[role="status"]', (e) => e.textContent)).toMatch(/session ended/);
  });
});
