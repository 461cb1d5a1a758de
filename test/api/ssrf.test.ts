// SSRF and leaks through verification endpoints (issue 10, finding 5), against real servers on
// loopback: an endpoint on the allow-list that redirects to a host outside it is not followed
// (the outside host sees no request, the job fails with VERIFY_REMOTE_REDIRECT); an endpoint whose
// error body carries a secret never gets that body into the job record, a response or a log line;
// no job error or API error names a path on the server's disk. The honest path (an endpoint that
// answers) is covered by endpoint.slow.test.ts; here a plain 404 is reported with our words only.
import { rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobInfo } from '../../src/api/jobs.js';
import { commitWithSecret } from '../../src/embed/commit-secret.js';
import { parseSignerKey } from '../../src/evidence/index.js';
import { modelIdFor } from '../../src/lineage/index.js';
import { requestTimestamp } from '../../src/tsa/index.js';
import { makeTestApi, type TestApi } from './helpers.js';
import { onnxModelBytes } from './files.js';

const PASS = 'ssrf test passphrase';
const SECRET = 'sk-live-THIS-IS-THE-INTERNAL-SECRET-7f3a9';

interface Loopback { url: string; host: string; hits: string[]; server: Server }
async function serve(handler: (path: string, res: import('node:http').ServerResponse) => void): Promise<Loopback> {
  const hits: string[] = [];
  const server = createServer((req, res) => {
    hits.push(req.url ?? '');
    req.resume();
    req.on('end', () => handler(req.url ?? '', res));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, host: `127.0.0.1:${port}`, hits, server };
}

let t: TestApi;
let inside: Loopback; // the internal service an attacker wants to reach (not on the allow-list)
let redirector: Loopback; // on the allow-list; answers every request with a redirect to `inside`
let leaky: Loopback; // on the allow-list; answers with an error body that holds a secret
const seen: string[] = [];
let commitment: number;

beforeAll(async () => {
  inside = await serve((_p, res) => { res.writeHead(200, { 'content-type': 'application/json' }); res.end(JSON.stringify({ secret: SECRET })); });
  redirector = await serve((p, res) => { res.writeHead(302, { location: `${inside.url}${p}` }); res.end(); });
  leaky = await serve((_p, res) => { res.writeHead(p_status(_p), { 'content-type': 'text/plain' }); res.end(`internal error: token=${SECRET} at /srv/secret/config.yaml`); });
  t = makeTestApi({ passphrase: PASS, endpointHosts: [redirector.host, leaky.host] });
  const seed = parseSignerKey(t.home.readOwnerSignerKey()).seed;
  const trigger = { n: 100, kind: 'abstract-patterns/v1', height: 28, width: 28, channels: 1, classes: 10 };
  const home = { dir: t.dir, ledger: t.home.ledger, ownerVerifierKey: t.home.ownerVerifierKey };
  // No marked model is registered after it, so jobs name it (verify tests only live commitments otherwise).
  commitment = (await commitWithSecret({ home, ownerSeed: seed, model: modelIdFor('0'.repeat(63) + '3'), scheme: 'trigger', parameters: { trigger }, passphrase: PASS, actor: 'test' })).index;
});
// 400 on the metadata call (not retried), so each job makes one request.
function p_status(_path: string): number { return 400; }

afterAll(async () => {
  for (const s of [inside, redirector, leaky]) await new Promise<void>((r) => s?.server.close(() => r()));
  await t?.dispose();
});

async function verifyJob(url: string): Promise<JobInfo> {
  const res = await t.req('/v1/verify', { role: 'verifier', method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ suspect: { url, protocol: 'oip-v2' }, maxRequests: 5, commitment }) });
  seen.push(await res.clone().text());
  expect(res.status, await res.clone().text()).toBe(202);
  const { id } = (await res.json()) as JobInfo;
  await t.jobs.wait(id);
  for (const role of ['verifier', 'auditor', 'engineer'] as const) {
    const got = await t.req(`/v1/jobs/${id}`, { role });
    seen.push(await got.clone().text());
  }
  const list = await t.req('/v1/jobs', { role: 'auditor' });
  seen.push(await list.text());
  return (await (await t.req(`/v1/jobs/${id}`, { role: 'auditor' })).json()) as JobInfo;
}

describe('SSRF through verification endpoints', () => {
  it('does not follow a redirect from an allowed host to a host outside the allow-list', async () => {
    const j = await verifyJob(`${redirector.url}/v2/models/m/infer`);
    expect(j.status).toBe('failed');
    expect(j.error?.code).toBe('VERIFY_REMOTE_REDIRECT');
    expect(j.error?.message).toMatch(/HTTP 302/);
    expect(redirector.hits.length).toBeGreaterThan(0);
    expect(inside.hits).toEqual([]);
    expect(JSON.stringify(j)).not.toContain(inside.host);
  });

  it('refuses the outside host itself up front (the allow-list still holds)', async () => {
    const res = await t.req('/v1/verify', { role: 'verifier', method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ suspect: { url: `${inside.url}/v2/models/m/infer`, protocol: 'oip-v2' }, commitment }) });
    expect(res.status).toBe(403);
    expect(inside.hits).toEqual([]);
  });

  it("keeps a remote error body out of the job record, every response and the log", async () => {
    const j = await verifyJob(`${leaky.url}/v2/models/m/infer`);
    expect(j.status).toBe('failed');
    expect(j.error?.code).toBe('VERIFY_REMOTE_HTTP');
    expect(j.error?.message).toMatch(/answered HTTP 400$/);
    expect(leaky.hits.length).toBeGreaterThan(0);
    const all = [...seen, ...t.logs].join('\n');
    expect(all).not.toContain(SECRET);
    expect(all).not.toContain('/srv/secret');
  });

  it('follows no redirect to a TSA either', async () => {
    const before = inside.hits.length;
    await expect(requestTimestamp(`${redirector.url}/tsa`, new Uint8Array(32))).rejects.toMatchObject({ code: 'TSA_BAD_RESPONSE', message: expect.stringMatching(/redirect/) });
    expect(inside.hits.length).toBe(before);
  });
});

describe('no server path in what a client reads', () => {
  it('job errors and API errors name files relative to the home, never by absolute path', async () => {
    // A real suspect, accepted; its job copies it out of the blob store into <home>/work/<job>,
    // and a damaged home where "work" is a file makes the job fail on a path inside the home.
    const up = await t.req('/v1/uploads/suspects/gone.onnx', { role: 'verifier', method: 'PUT', headers: { 'content-type': 'application/octet-stream' }, body: onnxModelBytes() });
    seen.push(await up.clone().text());
    expect(up.status, await up.clone().text()).toBe(201);
    const { upload, name } = (await up.json()) as { upload: string; name: string };
    rmSync(join(t.dir, 'work'), { recursive: true, force: true });
    writeFileSync(join(t.dir, 'work'), 'not a folder');
    const res = await t.req('/v1/verify', { role: 'verifier', method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ suspect: { upload, name }, commitment }) });
    expect(res.status).toBe(202);
    const { id } = (await res.json()) as JobInfo;
    await t.jobs.wait(id);
    const j = (await (await t.req(`/v1/jobs/${id}`, { role: 'auditor' })).json()) as JobInfo;
    seen.push(JSON.stringify(j));
    expect(j.status).toBe('failed');
    rmSync(join(t.dir, 'work'), { force: true });
    // The server log keeps the real path (so the test has something to hide); the job record does not.
    expect(t.logs.join('\n')).toContain(t.dir);
    expect(j.error?.message).toContain('<home>');
    const everything = seen.join('\n');
    expect(everything).not.toContain(t.dir);
    expect(everything).not.toMatch(/\/tmp\/|\/home\/|\/root\//);
  });
});
