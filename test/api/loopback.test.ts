// The one suite against real servers on loopback: 200 concurrent clients appending and reading
// proofs, an upload cut off at the socket, and `hallmark serve` as a user starts it.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { newVerifier, openCheckpoint, proofFromJson, verifyInclusion } from '../../ledger/index.js';
import { listen, type RunningServer } from '../../src/api/server.js';
import { hallmark, hallmarkJson } from '../helpers/cli.js';
import { REPO } from '../helpers/paths.js';
import { listFiles, onnxModelBytes, storedFiles } from './files.js';
import { makeTestApi, type TestApi } from './helpers.js';

// `hallmark init` seals the home's keys under this passphrase; every command run here opens them with it.
process.env.HALLMARK_PASSPHRASE ||= 'cli test passphrase';
// Opening a sealed home costs a scrypt per command: seconds each on a loaded machine.
vi.setConfig({ testTimeout: 300_000 });

const CLIENTS = 200;
const ROUNDS = 3;

let t: TestApi;
let srv: RunningServer;
beforeAll(async () => {
  t = makeTestApi({ limits: { uploadsPerWindow: 1000 } });
  srv = await listen(t.app, { port: 0, host: '127.0.0.1' });
});
afterAll(async () => {
  await srv.close();
  await t.dispose();
});

describe('real server on loopback', () => {
  it(`${CLIENTS} concurrent clients append and prove; nothing is lost or duplicated`, async () => {
    expect(srv.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const verifier = newVerifier(t.home.ledger.verifierKey);
    const start = t.home.ledger.size();
    const roles = ['engineer', 'admin'] as const;
    let failures = 0;
    const client = async (id: number) => {
      const auth = { authorization: `Bearer ${t.secrets[roles[id % 2]!]}` };
      for (let seq = 0; seq < ROUNDS; seq++) {
        const res = await fetch(`${srv.url}/v1/ledger/entries`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ type: 'load.appended', payload: { client: id, seq } }) });
        if (res.status !== 201) { failures++; await res.body?.cancel(); continue; }
        const { index } = (await res.json()) as { index: number };
        const proofRes = await fetch(`${srv.url}/v1/ledger/proof/inclusion?index=${index}`);
        const p = proofFromJson(await proofRes.json());
        const cp = openCheckpoint(p.checkpoint!, verifier, t.home.ledger.origin);
        verifyInclusion(p.index, p.treeSize, p.leafHash, p.hashes, cp.root);
        if (seq === ROUNDS - 1) expect((await fetch(`${srv.url}/v1/ledger/checkpoint`)).status).toBe(200);
      }
    };
    await Promise.all(Array.from({ length: CLIENTS }, (_, i) => client(i)));
    expect(failures).toBe(0);

    const entries = t.home.ledger.list({ from: 0, limit: 100_000 });
    expect(entries.map((e) => e.index)).toEqual(Array.from({ length: entries.length }, (_, i) => i));
    const seen = new Map<string, number>();
    for (const e of entries.filter((x) => x.entry.type === 'load.appended')) {
      const k = `${e.entry.payload.client}/${e.entry.payload.seq}`;
      seen.set(k, (seen.get(k) ?? 0) + 1);
    }
    expect(seen.size).toBe(CLIENTS * ROUNDS);
    expect([...seen.values()].every((n) => n === 1)).toBe(true);
    expect(t.home.ledger.size()).toBe(start + CLIENTS * ROUNDS);
    const report = await t.home.ledger.audit();
    expect(report.ok).toBe(true);
    expect(report.problems).toEqual([]);
  });

  it('leaves nothing behind when the client hangs up mid-upload', async () => {
    const size = t.home.ledger.size();
    const tmp = join(t.dir, 'uploads', '.tmp');
    const sock = connect(Number(new URL(srv.url).port), '127.0.0.1');
    await new Promise<void>((r) => sock.once('connect', () => r()));
    sock.write([
      'PUT /v1/uploads/models/cut.onnx HTTP/1.1', 'Host: 127.0.0.1', `Authorization: Bearer ${t.secrets.engineer}`,
      'Content-Type: application/octet-stream', 'Content-Length: 1000000', '', '',
    ].join('\r\n'));
    sock.write(Buffer.alloc(200_000, 1));
    // Wait until the server is writing the partial file, then hang up.
    for (let i = 0; i < 200 && !(existsSync(tmp) && readdirSync(tmp).length > 0); i++) await new Promise((r) => setTimeout(r, 10));
    expect(readdirSync(tmp).length).toBe(1);
    sock.destroy();
    for (let i = 0; i < 200 && storedFiles(t.dir).length > 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(storedFiles(t.dir)).toEqual([]);
    expect(t.home.ledger.size()).toBe(size);
    // The server is still fine.
    expect((await fetch(`${srv.url}/v1/ledger/checkpoint`)).status).toBe(200);
  });

  // Stopping the server (SIGTERM to `hallmark serve`, a rolling deploy) used to cut every socket at
  // once: an upload in flight was lost, and a client could not tell whether its record was written.
  const startUpload = async (url: string, bytes: Uint8Array, name: string, home = t.dir, secret = t.secrets.engineer!) => {
    const tmp = join(home, 'uploads', '.tmp');
    const sock = connect(Number(new URL(url).port), '127.0.0.1');
    await new Promise<void>((r) => sock.once('connect', () => r()));
    let reply = '';
    sock.on('data', (d: Buffer) => { reply += d.toString('latin1'); });
    const ended = new Promise<void>((r) => sock.once('close', () => r()));
    sock.write([
      `PUT /v1/uploads/models/${name} HTTP/1.1`, 'Host: 127.0.0.1', `Authorization: Bearer ${secret}`,
      'Content-Type: application/octet-stream', `Content-Length: ${bytes.length}`, 'Connection: close', '', '',
    ].join('\r\n'));
    const half = bytes.length >> 1;
    sock.write(bytes.subarray(0, half));
    // The handler is running once it writes the partial file.
    for (let i = 0; i < 500 && !(existsSync(tmp) && readdirSync(tmp).length > 0); i++) await new Promise((r) => setTimeout(r, 10));
    expect(readdirSync(tmp).length).toBe(1);
    return { sock, rest: bytes.subarray(half), reply: () => reply, ended };
  };

  it('lets an upload in flight finish and record it when the server stops', async () => {
    const size = t.home.ledger.size();
    const own = await listen(t.app, { port: 0, host: '127.0.0.1', closeGraceMs: 30_000 });
    const model = onnxModelBytes(20_000);
    const up = await startUpload(own.url, model, 'in-flight.onnx');
    let closed = false;
    const closing = own.close().then(() => { closed = true; });
    await new Promise((r) => setTimeout(r, 200));
    expect(closed).toBe(false); // waits for the request in flight
    // No new connection is accepted meanwhile.
    await expect(fetch(`${own.url}/v1/ledger/checkpoint`)).rejects.toThrow();
    up.sock.write(up.rest); // (not end(): a client's half-close aborts its own request)
    await up.ended;
    await closing;
    expect(up.reply()).toMatch(/^HTTP\/1\.1 201 /);
    const body = JSON.parse(up.reply().slice(up.reply().indexOf('\r\n\r\n') + 4)) as { index: number; record: { digest: string } };
    expect(body.index).toBe(size);
    expect(t.home.ledger.size()).toBe(size + 1);
    expect(t.home.ledger.get(size).entry.type).toBe('model.registered');
    expect(listFiles(join(t.dir, 'uploads', '.tmp'))).toEqual([]);
  });

  it('a client that stalls mid-upload cannot hold the stop: cut after the grace, nothing recorded', async () => {
    const size = t.home.ledger.size();
    const before = storedFiles(t.dir);
    const own = await listen(t.app, { port: 0, host: '127.0.0.1', closeGraceMs: 300 });
    const up = await startUpload(own.url, onnxModelBytes(20_000), 'stalled.onnx');
    await own.close(); // resolves: the stalled socket is cut after 300 ms
    await up.ended;
    expect(up.reply()).toBe('');
    for (let i = 0; i < 200 && storedFiles(t.dir).length > before.length; i++) await new Promise((r) => setTimeout(r, 10));
    expect(storedFiles(t.dir)).toEqual(before);
    expect(t.home.ledger.size()).toBe(size);
    // The suite's own server on the same home is still fine.
    expect((await fetch(`${srv.url}/v1/ledger/checkpoint`)).status).toBe(200);
  });

  it('hallmark keys + hallmark serve, as a user runs them', async () => {
    const home = join(t.dir, 'cli-home');
    expect(hallmark(['init', '--home', home]).status).toBe(0);
    const created = hallmarkJson<{ key: { id: string }; secret: string }>(['keys', 'create', '--role', 'auditor', '--name', 'ci', '--home', home]);
    const engineer = hallmarkJson<{ secret: string }>(['keys', 'create', '--role', 'engineer', '--name', 'release', '--home', home]);
    const listed = hallmark(['keys', 'list', '--home', home]);
    expect(listed.stdout).toContain(created.key.id);
    expect(listed.stdout).not.toContain(created.secret.slice(16));
    expect(hallmark(['keys', 'create', '--role', 'root', '--name', 'x', '--home', home]).status).toBe(2);

    const child = spawn(process.execPath, [join(REPO, 'dist/cli/main.js'), 'serve', '--port', '0', '--home', home], { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          const m = /listening on (http:\/\/\S+)/.exec(out);
          if (m) resolve(m[1]!);
        });
        child.once('exit', (code) => reject(new Error(`serve exited ${code}`)));
      });
      const cp = (await (await fetch(`${url}/v1/ledger/checkpoint`)).json()) as { size: number };
      expect(cp.size).toBe(2); // the two api.key-created entries
      expect((await fetch(`${url}/v1/keys`)).status).toBe(401);
      expect((await fetch(`${url}/v1/keys`, { headers: { authorization: `Bearer ${created.secret}` } })).status).toBe(200);
      const docs = await fetch(`${url}/docs`);
      expect(docs.headers.get('content-type')).toMatch(/text\/html/);
      expect(await docs.text()).toContain('/v1/ledger/proof/inclusion');

      expect(hallmark(['keys', 'revoke', created.key.id, '--home', home]).status).toBe(0);
      expect((await fetch(`${url}/v1/keys`, { headers: { authorization: `Bearer ${created.secret}` } })).status).toBe(401);

      // SIGTERM while an engineer's upload is in flight: the upload finishes and is recorded, then
      // the server exits 0.
      const size = cp.size + 1; // + the revocation
      const up = await startUpload(url, onnxModelBytes(20_000), 'at-sigterm.onnx', home, engineer.secret);
      const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
      child.kill('SIGTERM');
      await new Promise((r) => setTimeout(r, 200));
      expect(child.exitCode).toBeNull();
      up.sock.write(up.rest);
      await up.ended;
      expect(up.reply()).toMatch(/^HTTP\/1\.1 201 /);
      expect(await exited).toBe(0);
      const verified = hallmark(['ledger', 'verify', '--home', home]);
      expect(verified.stdout).toContain(`ok: ${size + 1} entries`);
    } finally {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        await new Promise((r) => child.once('exit', r));
      }
    }
  });
});
