// Two `hallmark serve` replicas on one PostgreSQL, as an operator runs them (docs/postgres.md):
// replica A receives the uploads and builds a provenance bundle, then is stopped and its home
// folder deleted; replica B, which never saw the files, marks the model A received (an embed job
// reading it from the shared blob store), serves the marked model and A's bundle, and accepts a
// suspect A stored. No plaintext of any upload is in the database or in either home folder.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { openBlobStore } from '../../src/blobs/index.js';
import { convertTfjsToOnnx } from '../../src/formats/convert-tfjs-to-onnx.js';
import { onnxModelBytes } from '../api/files.js';
import { hallmark, hallmarkJson } from '../helpers/cli.js';
import { REPO } from '../helpers/paths.js';
import { pgUrl } from './stores.js';

vi.setConfig({ testTimeout: 600_000, hookTimeout: 300_000 });

const PASS = 'replica blob passphrase';
const env = (url: string) => ({ HALLMARK_PASSPHRASE: PASS, HALLMARK_DATABASE_URL: url });
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

function files(dir: string): string[] {
  try {
    return readdirSync(dir).flatMap((n) => (statSync(join(dir, n)).isDirectory() ? files(join(dir, n)) : [join(dir, n)]));
  } catch {
    return [];
  }
}

interface Replica {
  readonly url: string;
  readonly child: ChildProcess;
  stop(): Promise<void>;
}

function startServe(home: string, dbUrl: string): Promise<Replica> {
  const child = spawn(process.execPath, [join(REPO, 'dist/cli/main.js'), 'serve', '--port', '0', '--home', home, '--checkpoint-interval', '0'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env(dbUrl) } });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve({ url: m[1]!, child, stop: () => new Promise<void>((r) => { if (child.exitCode !== null) return r(); child.once('exit', () => r()); child.kill('SIGTERM'); }) });
    });
    child.once('exit', (code) => reject(new Error(`serve exited ${code}: ${err}`)));
  });
}

let dbUrl = '';
let dbName = '';
let root = '';
const replicas: Replica[] = [];

beforeAll(async () => {
  // A database of its own in the test cluster: the homes' ledger and blobs live in its "hallmark" schema.
  dbName = `hm_replicas_${process.pid}_${Date.now().toString(36)}`;
  const admin = new pg.Client({ connectionString: pgUrl() });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${dbName}`);
  await admin.end();
  const u = new URL(pgUrl());
  u.pathname = `/${dbName}`;
  dbUrl = u.toString();
  root = mkdtempSync(join(tmpdir(), 'hm-replicas-'));
});

afterAll(async () => {
  for (const r of replicas) await r.stop();
  rmSync(root, { recursive: true, force: true });
  const admin = new pg.Client({ connectionString: pgUrl() });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
  await admin.end();
});

async function req(base: string, path: string, secret: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  headers.set('authorization', `Bearer ${secret}`);
  return fetch(`${base}${path}`, { ...init, headers });
}

describe('two replicas, one PostgreSQL: stored files do not live on the replica that received them', () => {
  it('upload through A, stop A and delete its home; B uses the files', async () => {
    const homeA = join(root, 'a');
    const homeB = join(root, 'b');
    expect(hallmark(['init', '--home', homeA, '--database', dbUrl], { env: env(dbUrl) }).status).toBe(0);
    // A replica is the home's keys and config (docs/postgres.md), nothing else of A's folder.
    mkdirSync(homeB, { recursive: true, mode: 0o700 });
    for (const f of ['log.key', 'owner.key', 'config.json']) copyFileSync(join(homeA, f), join(homeB, f));
    const keyA = hallmarkJson<{ secret: string }>(['keys', 'create', '--role', 'admin', '--name', 'a', '--home', homeA], { env: env(dbUrl) }).secret;
    const keyB = hallmarkJson<{ secret: string }>(['keys', 'create', '--role', 'admin', '--name', 'b', '--home', homeB], { env: env(dbUrl) }).secret;

    const a = await startServe(homeA, dbUrl);
    replicas.push(a);
    const model = await convertTfjsToOnnx('fixtures/mnist-cnn');
    const up = await req(a.url, '/v1/uploads/models/mnist-cnn.onnx', keyA, { method: 'PUT', headers: { 'content-type': 'application/octet-stream' }, body: model });
    expect(up.status, await up.clone().text()).toBe(201);
    const modelId = ((await up.json()) as { id: string }).id;
    expect(modelId).toBe(`model:sha256:${sha(model)}`);
    const suspect = onnxModelBytes(64);
    const sup = await req(a.url, '/v1/uploads/suspects/suspect.onnx', keyA, { method: 'PUT', headers: { 'content-type': 'application/octet-stream' }, body: suspect });
    expect(sup.status, await sup.clone().text()).toBe(201);
    const prov = await req(a.url, '/v1/provenance', keyA, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ modelId }) });
    expect(prov.status, await prov.clone().text()).toBe(201);
    const bundleId = ((await prov.json()) as { id: string }).id;

    // Neither the database nor A's folder holds any of the uploaded bytes.
    const db = new pg.Client({ connectionString: dbUrl });
    await db.connect();
    try {
      for (const probe of [model.subarray(1000, 1064), suspect.subarray(100, 164)]) {
        const hit = await db.query('SELECT (SELECT count(*) FROM hallmark.blob_chunks WHERE position($1::bytea in data) > 0) + (SELECT count(*) FROM hallmark.blob_objects WHERE position($1::bytea in header) > 0) AS n', [Buffer.from(probe)]);
        expect(Number(hit.rows[0].n)).toBe(0);
        for (const f of files(homeA)) expect(readFileSync(f).includes(Buffer.from(probe)), f).toBe(false);
      }
      expect(Number((await db.query('SELECT count(*) AS n FROM hallmark.blob_objects')).rows[0].n)).toBeGreaterThanOrEqual(3);
    } finally {
      await db.end();
    }

    await a.stop();
    rmSync(homeA, { recursive: true, force: true });

    const b = await startServe(homeB, dbUrl);
    replicas.push(b);
    // A's provenance bundle, byte for byte.
    const bundle = await req(b.url, `/v1/provenance/${bundleId}`, keyB);
    expect(bundle.status).toBe(200);
    expect(sha(new Uint8Array(await bundle.arrayBuffer()))).toBe(bundleId);
    // A's suspect is known to B.
    const { upload } = (await sup.clone().json().catch(() => ({}))) as { upload?: string };
    const ver = await req(b.url, '/v1/verify', keyB, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ suspect: { upload: upload ?? sha(suspect), name: 'suspect.onnx' } }) });
    expect(ver.status, await ver.clone().text()).toBe(202);
    // A's model, marked by a job on B: B reads it from the blob store.
    const job = await req(b.url, '/v1/embed', keyB, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ modelId, trainingFree: true, scheme: 'weight' }) });
    expect(job.status, await job.clone().text()).toBe(202);
    const jobId = ((await job.json()) as { id: string }).id;
    let info: { status: string; result?: { output: { files: { name: string }[] } }; error?: unknown } = { status: 'queued' };
    for (let i = 0; i < 1200 && (info.status === 'queued' || info.status === 'running'); i++) {
      await new Promise((r) => setTimeout(r, 500));
      info = (await (await req(b.url, `/v1/jobs/${jobId}`, keyB)).json()) as typeof info;
    }
    expect(info.status, JSON.stringify(info.error)).toBe('succeeded');
    const names = info.result!.output.files.map((f) => f.name);
    expect(names).toEqual(['marked.onnx']);
    const marked = new Uint8Array(await (await req(b.url, `/v1/embed/${jobId}/files/marked.onnx`, keyB)).arrayBuffer());
    expect(marked.length).toBeGreaterThan(model.length / 2);
    expect(sha(marked)).not.toBe(sha(model));
    // The marked model is in the shared store, not in B's folder: any replica's store opens it.
    for (const f of files(homeB)) expect(readFileSync(f).includes(Buffer.from(marked.subarray(2000, 2064))), f).toBe(false);
    const store = await openBlobStore({ kind: 'postgres', dir: '/nonexistent', url: dbUrl, key: { passphrase: PASS } });
    try {
      expect(await store.resolve(`artifacts/embed/${jobId}/marked.onnx`)).toEqual({ sha256: sha(marked), size: marked.length });
      expect(Buffer.from(await store.get(sha(model))).equals(Buffer.from(model))).toBe(true);
    } finally {
      await store.close();
    }
  });
});
