// Three real `hallmark serve` processes (dist/cli) on one PostgreSQL database and one home folder,
// 300 concurrent clients spread over them appending entries and registering models, and one
// replica kill -9'ed mid-run (while it runs a job) and restarted. Then: no acknowledged entry is
// lost or duplicated, no entry at all is duplicated, every proof verifies against the checkpoint
// fetched from another replica, the audit passes, and the killed replica's job was taken over and
// completed exactly once elsewhere. Also: a key revoked on one replica is refused by the others.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { newVerifier, openCheckpoint, openPostgresLedger, verifyConsistency, verifyInclusion, fromBase64, type Ledger } from '../../ledger/index.js';
import { openKeyStore } from '../../src/api/keys.js';
import { openPgApiStore } from '../../src/api/store/index.js';
import { initHome, openHome } from '../../src/home/index.js';
import { createDatabase, startReplica, type Replica } from '../../scripts/serve-replicas.js';

const PASS = 'replicas test passphrase';
const CLIENTS = 300;
const OPS = 2;
const PREFILL = 150_000; // the audit must outlast the first writes on a quiet machine too (30,000 did not)
const LEASE_S = 10;

let db = '';
let home = '';
let ledger: Ledger;
const replicas: (Replica | undefined)[] = [];
const secrets: Record<string, string> = {};
let verifierKey = '';
let origin = '';

async function req(r: Replica, path: string, init: RequestInit & { secret?: string } = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  if (init.secret) headers.set('authorization', `Bearer ${init.secret}`);
  if (init.body) headers.set('content-type', 'application/json');
  return fetch(`${r.url}${path}`, { ...init, headers, signal: AbortSignal.timeout(600_000) });
}
const live = () => replicas.filter((r): r is Replica => r !== undefined);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  db = await createDatabase(inject('postgresUrl'), `hm_replicas_${process.pid}`);
  home = mkdtempSync(join(tmpdir(), 'hm-replicas-'));
  const init = initHome(home, { passphrase: PASS, database: db });
  verifierKey = init.logVerifierKey;
  origin = init.origin;
  const store = openPgApiStore({ url: db, create: true });
  const keys = openKeyStore(store.keys);
  for (const role of ['admin', 'engineer', 'auditor'] as const) secrets[role] = keys.create({ role, name: `replicas ${role}` }).secret;
  store.close();
  // A log big enough that its audit, the job killed with its replica, takes a few seconds.
  const h = openHome(home, { passphrase: PASS, database: db });
  for (let i = 0; i < PREFILL; i += 2000) h.ledger.appendBatch(Array.from({ length: 2000 }, (_, k) => ({ type: 'note.added', actor: 'prefill', payload: { n: i + k } })));
  h.ledger.checkpoint();
  h.close();
  ledger = openPostgresLedger(db);
  for (let i = 0; i < 3; i++) replicas.push(await startReplica({ home, database: db, passphrase: PASS, name: `replica-${i}`, args: ['--job-lease', String(LEASE_S), '--checkpoint-interval', '1'] }));
});

afterAll(async () => {
  for (const r of live()) await r.stop();
  ledger?.close();
  if (home) rmSync(home, { recursive: true, force: true });
});

interface Ack { kind: 'entry' | 'model'; nonce: string; index: number }

describe('three hallmark serve replicas on one PostgreSQL', () => {
  it('300 clients, one replica kill -9ed mid-run: nothing acknowledged lost or duplicated, proofs verify across replicas, the job completes once', async () => {
    const acks: Ack[] = [];
    const unacked: string[] = [];
    let op = 0;
    const clientRun = async (c: number) => {
      for (let j = 0; j < OPS; j++) {
        const pool = live();
        const r = pool[(c + j + op++) % pool.length]!;
        const nonce = randomBytes(12).toString('hex');
        const model = (c + j) % 2 === 1;
        try {
          const res = model
            ? await req(r, '/v1/models', { method: 'POST', secret: secrets.engineer, body: JSON.stringify({ model: { name: `m-${nonce}`, digest: { sha256: createHash('sha256').update(nonce).digest('hex') } }, format: 'onnx' }) })
            : await req(r, '/v1/ledger/entries', { method: 'POST', secret: secrets.engineer, body: JSON.stringify({ type: 'note.added', payload: { nonce } }) });
          const body = (await res.json()) as { index?: number };
          if (res.status === 201 && typeof body.index === 'number') acks.push({ kind: model ? 'model' : 'entry', nonce, index: body.index });
          else unacked.push(nonce);
        } catch {
          unacked.push(nonce); // the replica died under the request: the client does not know
        }
      }
    };

    // A job first; the test watches the queue in the database to see which replica runs it.
    const submitted = await req(replicas[0]!, '/v1/ledger/audit', { method: 'POST', secret: secrets.auditor });
    expect(submitted.status).toBe(202);
    const jobId = ((await submitted.json()) as { id: string }).id;
    const c = new pg.Client({ connectionString: db, options: '-c search_path=hallmark' });
    await c.connect();
    const jobRow = async () => (await c.query<{ status: string; claimed_by: string | null }>('SELECT status, claimed_by FROM api_jobs WHERE id = $1', [jobId])).rows[0]!;
    for (let t = 0; (await jobRow()).status !== 'running'; t++) {
      expect(t).toBeLessThan(1200);
      await sleep(50);
    }
    const t0 = Date.now();
    const clients = Promise.all(Array.from({ length: CLIENTS }, (_, i) => clientRun(i)));
    // Mid-run, while it runs the job, the job's replica is killed.
    while (acks.length < 30 && Date.now() - t0 < 20_000) await sleep(10);
    const row = await jobRow();
    expect(row.status).toBe('running');
    const holder = row.claimed_by!;
    const victim = replicas.findIndex((r) => r?.name === holder);
    expect(victim).toBeGreaterThanOrEqual(0);
    const killed = replicas[victim]!;
    replicas[victim] = undefined;
    await killed.kill9();
    const acksAtKill = acks.length;
    process.stderr.write(`killed ${holder} after ${Date.now() - t0} ms with ${acksAtKill} acknowledged writes\n`);
    await sleep(1500);
    replicas[victim] = await startReplica({ home, database: db, passphrase: PASS, name: `${holder}-restarted`, args: ['--job-lease', String(LEASE_S), '--checkpoint-interval', '1'] });
    await clients;
    process.stderr.write(`${CLIENTS} clients done in ${Date.now() - t0} ms: ${acks.length} acknowledged, ${unacked.length} not\n`);
    expect(acksAtKill).toBeLessThan(CLIENTS * OPS);
    expect(acks.length).toBeGreaterThan(CLIENTS * OPS * 0.5);

    // The job: taken over from the killed replica, completed once, readable from every replica.
    let job: { status: string; attempts: number; takenOverFrom: string[]; replica: string | null; result: { ok?: boolean } | null } | undefined;
    for (let t = 0; job?.status !== 'succeeded'; t++) {
      expect(t).toBeLessThan(1200);
      await sleep(100);
      job = (await (await req(live()[t % 3]!, `/v1/jobs/${jobId}`, { secret: secrets.auditor })).json()) as typeof job;
      expect(job!.status, JSON.stringify(job)).not.toBe('failed');
    }
    // Taken over from the killed replica (under heavy load a live replica's lease can lapse too:
    // then it is taken over again, which is fine as long as exactly one attempt completes).
    expect(job).toMatchObject({ status: 'succeeded', replica: null, result: { ok: true } });
    expect(job!.takenOverFrom[0]).toBe(holder);
    expect(job!.attempts).toBe(job!.takenOverFrom.length + 1);
    for (const r of live()) expect(await (await req(r, `/v1/jobs/${jobId}`, { secret: secrets.auditor })).json()).toEqual(job);
    const attempts = (await c.query('SELECT attempt, replica, outcome FROM api_job_attempts WHERE job_id = $1 ORDER BY attempt', [jobId])).rows;
    await c.end();
    expect(attempts).toHaveLength(job!.attempts);
    expect(attempts[0]).toEqual({ attempt: 1, replica: holder, outcome: 'lost' });
    expect(attempts.map((a) => a.outcome)).toEqual(attempts.map((_, i) => (i === attempts.length - 1 ? 'succeeded' : 'lost')));
    expect(attempts.at(-1)!.replica).not.toBe(holder);

    // The log: every acknowledged write at its index, no nonce twice.
    const size = ledger.size();
    const seen = new Map<string, number[]>();
    for (let from = PREFILL; from < size; from += 10_000) {
      for (const e of ledger.list({ from, limit: 10_000 })) {
        const p = e.entry.payload as { nonce?: string };
        const nonce = p.nonce ?? /"m-([0-9a-f]{24})"/.exec(JSON.stringify(p))?.[1];
        if (nonce) seen.set(nonce, [...(seen.get(nonce) ?? []), e.index]);
      }
    }
    for (const [, at] of seen) expect(at).toHaveLength(1);
    for (const a of acks) expect(seen.get(a.nonce)).toEqual([a.index]);
    expect([...seen.keys()].every((n) => acks.some((a) => a.nonce === n) || unacked.includes(n))).toBe(true);

    // Checkpoints from every replica agree and cover the log; proofs from one verify against another's.
    let cps: { size: number; root: string; checkpoint: string }[] = [];
    for (let t = 0; !(cps.length === 3 && cps.every((cp) => cp.size === size)); t++) {
      expect(t).toBeLessThan(300);
      await sleep(100);
      cps = await Promise.all(live().map(async (r) => (await (await req(r, '/v1/ledger/checkpoint')).json()) as { size: number; root: string; checkpoint: string }));
    }
    const verifier = newVerifier(verifierKey);
    const opened = cps.map((cp) => openCheckpoint(cp.checkpoint, verifier, origin));
    expect(new Set(opened.map((o) => Buffer.from(o.root).toString('hex'))).size).toBe(1);
    const older = ledger.checkpoints().find((cp) => cp.size === PREFILL)!;
    const cons = (await (await req(live()[1]!, `/v1/ledger/proof/consistency?from=${older.size}&to=${size}`)).json()) as { hashes: string[] };
    expect(() => verifyConsistency(older.size, size, cons.hashes.map(fromBase64), older.root, opened[2]!.root)).not.toThrow();
    for (let i = 0; i < acks.length; i++) {
      const a = acks[i]!;
      const p = (await (await req(live()[i % 3]!, `/v1/ledger/proof/inclusion?index=${a.index}&size=${size}`)).json()) as { index: number; treeSize: number; leafHash: string; hashes: string[] };
      const cp = opened[(i + 1) % 3]!;
      expect(Buffer.from(fromBase64(p.leafHash)).equals(Buffer.from(ledger.get(a.index).leafHash))).toBe(true);
      expect(() => verifyInclusion(p.index, p.treeSize, fromBase64(p.leafHash), p.hashes.map(fromBase64), cp.root)).not.toThrow();
    }

    const audit = await ledger.audit();
    expect(audit.problems).toEqual([]);
    expect(audit.ok).toBe(true);
    expect(readFileSync(join(home, 'config.json'), 'utf8')).toContain('"ledgerStore": "postgres"');
  });

  it('a key revoked on one replica is refused by the others at once', async () => {
    const [a, b, c] = live();
    const created = await req(a!, '/v1/keys', { method: 'POST', secret: secrets.admin, body: JSON.stringify({ role: 'engineer', name: 'short-lived' }) });
    expect(created.status).toBe(201);
    const { key, secret } = (await created.json()) as { key: { id: string }; secret: string };
    for (const r of [a!, b!, c!]) expect((await req(r, '/v1/jobs', { secret })).status).toBe(200);
    expect((await req(b!, `/v1/keys/${key.id}/revoke`, { method: 'POST', secret: secrets.admin })).status).toBe(200);
    for (const r of [a!, c!, b!]) {
      const res = await req(r, '/v1/jobs', { secret });
      expect(res.status).toBe(401);
      expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/revoked/);
    }
  });
});
