// Evidence over HTTP: a legal key exports evidence for a verification.recorded entry as a job
// (the opening decrypted with the server's startup passphrase), downloads the three files and
// checks them offline with the evidence package's verifier. No response, job record or log line
// carries the watermark secret, the owner's seed or the passphrase; evidence.json does (signed
// inside its statement), which shows the scan would see a leak.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeOpening } from '../../src/core/index.js';
import { parseSignerKey, verifyEvidence } from '../../src/evidence/index.js';
import type { JobInfo } from '../../src/api/jobs.js';
import { openApi, type ApiServices } from '../../src/api/server.js';
import { ROLES, type Role } from '../../src/api/roles.js';
import { makeFixture, type Fixture } from '../evidence/fixture.js';
import { errorOf } from './helpers.js';
import { expectNoSecret, secretForms } from './secret-scan.js';

let fx: Fixture;
let api: ApiServices;
let secrets: Record<Role, string>;
let forms: string[];
const logs: string[] = [];
const seen: string[] = [];

beforeAll(async () => {
  fx = await makeFixture('api');
  api = openApi(fx.dir, { passphrase: fx.passphrase, log: (l) => logs.push(l) });
  secrets = Object.fromEntries(ROLES.map((r) => [r, api.keys.create({ role: r, name: r }).secret])) as Record<Role, string>;
  const opening = decodeOpening(fx.opening);
  forms = secretForms([opening.root.signature, opening.salt, parseSignerKey(fx.home.readOwnerSignerKey()).seed, fx.passphrase]);
});
afterAll(async () => {
  await api?.close();
  fx?.home.close();
});

async function req(path: string, role: Role, init: RequestInit = {}): Promise<Response> {
  const res = await api.app.request(path, { ...init, headers: { ...(init.body ? { 'content-type': 'application/json' } : {}), authorization: `Bearer ${secrets[role]}` } });
  return res;
}
async function text(res: Response): Promise<string> {
  const t = await res.clone().text();
  seen.push(t);
  return t;
}
async function waitJob(id: string): Promise<JobInfo> {
  await api.jobs.wait(id);
  const res = await req(`/v1/jobs/${id}`, 'legal');
  return JSON.parse(await text(res)) as JobInfo;
}

describe('evidence routes', () => {
  it('exports evidence as a job that the offline verifier accepts; nothing else shows the secret', async () => {
    const res = await req('/v1/evidence', 'legal', { method: 'POST', body: JSON.stringify({ verification: fx.verificationIndex }) });
    expect(res.status).toBe(202);
    const queued = JSON.parse(await text(res)) as JobInfo;
    expect(queued.kind).toBe('evidence.export');
    const legalId = api.keys.list().find((k) => k.role === 'legal')!.id;
    expect(queued.actor).toBe(`key:${legalId}`);

    const done = await waitJob(queued.id);
    expect(done.status, JSON.stringify(done.error)).toBe('succeeded');
    const result = done.result as { index: number; files: { name: string; sha256: string; download: string }[] };
    expect(result.files.map((f) => f.name).sort()).toEqual(['VERIFY.md', 'evidence.json', 'report.pdf']);
    const recorded = fx.home.ledger.get(result.index).entry;
    expect(recorded.type).toBe('api.evidence-exported');
    expect(recorded.actor).toBe(`key:${legalId}`);

    const out = mkdtempSync(join(tmpdir(), 'hm-api-ev-'));
    for (const f of result.files) {
      const dl = await req(f.download, 'auditor');
      expect(dl.status, f.name).toBe(200);
      const bytes = Buffer.from(await dl.arrayBuffer());
      writeFileSync(join(out, f.name), bytes);
      const access = fx.home.ledger.get(fx.home.ledger.size() - 1).entry;
      expect(access.type).toBe('access.recorded');
      expect(access.payload).toMatchObject({ resource: { kind: 'evidence', id: queued.id, file: f.name, size: bytes.length } });
      if (f.name === 'evidence.json') {
        // The disclosure is signed inside the DSSE payload: decode it and find the secret there.
        const payload = Buffer.from((JSON.parse(bytes.toString('utf8')) as { payload: string }).payload, 'base64').toString('utf8');
        expect(forms.some((s) => payload.includes(s))).toBe(true);
      } else {
        seen.push(bytes.toString('latin1'));
      }
    }
    const r = await verifyEvidence(out, { logKey: fx.home.ledger.verifierKey, ownerKey: fx.home.ownerVerifierKey });
    expect(r.model).toBe(fx.marked);

    seen.push(await text(await req('/v1/jobs?kind=evidence.export', 'auditor')));
    seen.push(...logs);
    expectNoSecret(seen.join('\n'), forms, 'responses and logs');
  });

  it('refuses bad file names, other jobs, wrong entries and a server without the passphrase', async () => {
    const res = await req('/v1/evidence', 'legal', { method: 'POST', body: JSON.stringify({ verification: fx.commitmentIndex }) });
    expect(res.status).toBe(404);
    expect((await errorOf(res)).code).toBe('EVIDENCE_NOT_FOUND');
    expect((await req('/v1/evidence', 'legal', { method: 'POST', body: JSON.stringify({ verification: 10 ** 9 }) })).status).toBe(404);
    const job = (await req('/v1/ledger/audit', 'admin', { method: 'POST' }).then((r) => r.json())) as JobInfo;
    for (const name of ['..%2F..%2Fowner.key', 'owner.key', 'evidence.json%00', '.evidence.json']) {
      const r = await req(`/v1/evidence/${job.id}/files/${name}`, 'legal');
      expect(r.status, name).toBe(400);
    }
    const other = await req(`/v1/evidence/${job.id}/files/evidence.json`, 'legal');
    expect(other.status).toBe(404);
    await api.jobs.wait(job.id);

    const size = fx.home.ledger.size();
    const prev = process.env.HALLMARK_PASSPHRASE;
    delete process.env.HALLMARK_PASSPHRASE;
    const bare = openApi(fx.dir, { log: () => undefined });
    if (prev !== undefined) process.env.HALLMARK_PASSPHRASE = prev;
    try {
      const k = bare.keys.create({ role: 'legal', name: 'bare' }).secret;
      const r = await bare.app.request('/v1/evidence', { method: 'POST', headers: { authorization: `Bearer ${k}`, 'content-type': 'application/json' }, body: JSON.stringify({ verification: fx.verificationIndex }) });
      expect(r.status).toBe(503);
      expect((await errorOf(r)).code).toBe('API_NO_PASSPHRASE');
      expect(fx.home.ledger.size()).toBe(size);
    } finally {
      await bare.close();
    }
  });

  it('refuses to start with a wrong passphrase (typed, not echoed) instead of failing every job later', () => {
    let err: unknown;
    try {
      openApi(fx.dir, { passphrase: 'not the passphrase', log: (l) => logs.push(l) });
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: 'SECRET_BAD_PASSPHRASE' });
    expect(String((err as Error).message)).not.toContain('not the passphrase');
    expect(logs.join('\n')).not.toContain('not the passphrase');
  });
});
