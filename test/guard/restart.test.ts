// The guard as a process and over real sockets: kill -9 loses no commitment, a busy ledger
// delays commitments but never answers, and an upstream model server on loopback (OIP v2 and
// TF Serving, test/helpers/inference-server.ts) is served through the guard; a client that stalls
// mid-request cannot hold the guard's shutdown.
import Database from 'better-sqlite3';
import { spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openApiDb } from '../../src/api/api-db.js';
import { openKeyStore } from '../../src/api/keys.js';
import { loadMnist } from '../../src/formats/mnist.js';
import { openGuardKeys, quantiseInput, readCommitments, readJournal, startGuard } from '../../src/guard/index.js';
import { homeTrust, initHome, openHome } from '../../src/home/index.js';
import { startInferenceServer } from '../helpers/inference-server.js';
import { REPO } from '../helpers/paths.js';
import { argmaxRows, FAST_KDF, fixtureOnnx, PASS } from './helpers.js';

const mnist = await loadMnist({ seed: 0 });
const img = (i: number, n = 1) => mnist.test.images.slice(i * 784, (i + n) * 784);
const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
});

function newHome(): { dir: string; secret: string; id: string } {
  const dir = mkdtempSync(join(tmpdir(), 'hallmark-guard-proc-'));
  initHome(dir);
  const db = openApiDb(dir);
  const { key, secret } = openKeyStore(db).create({ role: 'client', name: 'c' });
  db.close();
  return { dir, secret, id: key.id };
}

function spawnGuard(dir: string, model: string, extra: string[] = []): Promise<{ child: ChildProcess; url: string; stderr: () => string }> {
  const child = spawn(process.execPath, [join(REPO, 'dist/cli/main.js'), 'guard', '--model', model, '--model-name', 'mnist', '--port', '0', '--home', dir, ...extra], { env: { ...process.env, HALLMARK_PASSPHRASE: PASS }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m) resolve({ child, url: m[1]!, stderr: () => err });
    });
    child.on('exit', (code) => reject(new Error(`guard exited ${code}: ${err}`)));
  });
}

async function post(url: string, secret: string, x: Float32Array, n: number, protocol: 'oip-v2' | 'tfserving' = 'oip-v2', inputName = 'input'): Promise<number[]> {
  const body = protocol === 'oip-v2'
    ? { inputs: [{ name: inputName, shape: [n, 28, 28, 1], datatype: 'FP32', data: Array.from(x) }] }
    : { instances: Array.from({ length: n }, (_, i) => Array.from(x.subarray(i * 784, (i + 1) * 784))) };
  const res = await fetch(protocol === 'oip-v2' ? `${url}/v2/models/mnist/infer` : `${url}/v1/models/mnist:predict`, { method: 'POST', headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (res.status !== 200) throw new Error(`${res.status}: ${await res.text()}`);
  const j = (await res.json()) as { outputs?: { data: number[] }[]; predictions?: number[][] };
  return j.outputs ? argmaxRows(Float32Array.from(j.outputs[0]!.data)) : j.predictions!.map((r) => r.indexOf(Math.max(...r)));
}

describe('guard process', () => {
  it('kill -9 after answering: the restarted guard commits every mark the client saw, once', async () => {
    const onnx = await fixtureOnnx();
    const h = newHome();
    const direct = argmaxRows(await (await import('../../src/guard/index.js')).openOnnxRunner(onnx).then((r) => r.run(img(0, 150), 150)));
    const g1 = await spawnGuard(h.dir, onnx, ['--mark-rate', '0.3', '--commit-every', '3600']);
    const metaRes = await fetch(`${g1.url}/v2/models/mnist`, { headers: { authorization: `Bearer ${h.secret}` } });
    const inputName = ((await metaRes.json()) as { inputs: { name: string }[] }).inputs[0]!.name;
    const got: number[] = [];
    for (let i = 0; i < 150; i += 50) got.push(...(await post(g1.url, h.secret, img(i, 50), 50, 'oip-v2', inputName)));
    // Inputs with the same quantised form are one mark (their decisions are not independent).
    const altered = new Set(got.flatMap((y, i) => (y !== direct[i] ? [Buffer.from(quantiseInput(img(i), [28, 28, 1])).toString('hex')] : []))).size;
    expect(altered).toBeGreaterThan(20);
    g1.child.kill('SIGKILL');
    await new Promise((r) => g1.child.once('exit', r));
    const home = openHome(h.dir);
    expect(readCommitments(home.ledger, homeTrust(home)).latest.size).toBe(0); // the schedule never fired
    home.close();
    const g2 = await spawnGuard(h.dir, onnx, ['--mark-rate', '0.3', '--commit-every', '3600']);
    // The restart commits at once what the killed guard left.
    let c;
    for (let t = 0; t < 50; t++) {
      const hm = openHome(h.dir);
      c = readCommitments(hm.ledger, homeTrust(hm)).latest.get(h.id);
      hm.close();
      if (c) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(c?.count).toBe(altered);
    g2.child.kill('SIGTERM');
    await new Promise((r) => g2.child.once('exit', r));
    const hm = openHome(h.dir);
    expect(hm.ledger.list({ type: 'guard.committed' })).toHaveLength(1); // not committed twice
    hm.close();
    const keys = await openGuardKeys(h.dir, PASS);
    expect(readJournal(h.dir, keys.journal).marks.get(h.id)).toHaveLength(altered);
  });

  it('clients that send half a request and stall, with a key or none, cannot hold the guard\'s shutdown past its grace', async () => {
    const h = newHome();
    const g = await startGuard({ homeDir: h.dir, passphrase: PASS, kdf: FAST_KDF, model: await fixtureOnnx(), modelName: 'mnist', port: 0, commitEverySeconds: 3600, closeGraceMs: 300, log: () => undefined });
    // An honest request first, on its own connection, answered and read.
    expect(await post(g.url, h.secret, img(0), 1, 'oip-v2', g.runner.inputName)).toHaveLength(1);
    // Two stalled clients. One holds a key: headers that promise a 10,000-byte body, 10 bytes of
    // it, then nothing. One holds nothing at all: half a request line and no key, which anyone who
    // can reach the port can send.
    const stall = async (text: string) => {
      const socket = connect(g.port, '127.0.0.1');
      await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
      socket.on('error', () => undefined);
      const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
      socket.write(text);
      return { closed };
    };
    const stalled = [
      await stall(`POST /v2/models/mnist/infer HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${h.secret}\r\nContent-Type: application/json\r\nContent-Length: 10000\r\n\r\n{"inputs":`),
      await stall('POST /v2/models/mnist/inf'),
    ];
    await new Promise((r) => setTimeout(r, 100)); // the guard has both requests under way
    // Without the cut, close() waits for these sockets until the clients give up (this test then
    // times out): it resolves, and the guard, not the clients, closes both sockets.
    await g.close();
    await Promise.all(stalled.map((c) => c.closed));
    // The home is left whole: the next guard over it starts and answers.
    const again = await startGuard({ homeDir: h.dir, passphrase: PASS, kdf: FAST_KDF, model: await fixtureOnnx(), modelName: 'mnist', port: 0, commitEverySeconds: 3600, log: () => undefined });
    try {
      expect(await post(again.url, h.secret, img(1), 1, 'oip-v2', again.runner.inputName)).toHaveLength(1);
    } finally {
      await again.close();
    }
  });

  it('a request still running when the grace runs out finishes before the guard closes its journals and ledger', async () => {
    const h = newHome();
    const upstream = await startInferenceServer(await fixtureOnnx(), 'up');
    const logged: string[] = [];
    try {
      const g = await startGuard({
        // Every answer a mark, so that the cut request's handler has a journal line to write.
        homeDir: h.dir, passphrase: PASS, kdf: FAST_KDF, modelName: 'mnist', port: 0, commitEverySeconds: 3600, closeGraceMs: 100, markRate: 1, maxAltered: 1,
        upstream: { url: upstream.url, protocol: 'oip-v2', modelName: 'up' },
        log: (level, event, fields) => { if (level === 'error' || level === 'warn') logged.push(`${level} ${event} ${JSON.stringify(fields ?? {})}`); },
      });
      upstream.setMode({ kind: 'slow', delayMs: 800 });
      upstream.resetCounts();
      const answer = post(g.url, h.secret, img(0), 1, 'oip-v2', g.runner.inputName).then(() => 'answered', (e: Error) => e.message);
      for (let i = 0; i < 300 && upstream.counts.total === 0; i++) await new Promise((r) => setTimeout(r, 10));
      expect(upstream.counts.total).toBe(1); // the guard's handler is waiting on the model
      const started = Date.now();
      await g.close();
      // The client's socket was cut at the grace; close() still waited for the handler.
      const closedAfter = Date.now() - started;
      expect(await answer).toMatch(/fetch failed|socket|terminated/i);
      await new Promise((r) => setTimeout(r, 1000)); // past the model's answer, in case close() did not wait
      expect(logged).toEqual([]);
      expect(closedAfter).toBeGreaterThanOrEqual(500);
      // Its mark is on disk and covered by the commitment the guard made as it closed.
      const keys = await openGuardKeys(h.dir, PASS);
      const journal = readJournal(h.dir, keys.journal);
      expect(journal.torn).toBe(0);
      expect(journal.marks.get(h.id)).toHaveLength(1);
      const hm = openHome(h.dir, { passphrase: PASS });
      try {
        expect(readCommitments(hm.ledger, homeTrust(hm)).latest.get(h.id)?.count).toBe(1);
      } finally {
        hm.close();
      }
    } finally {
      await upstream.close();
    }
  });

  it('a busy ledger delays the commitment, not the answers; an upstream server in both protocols is served through the guard', async () => {
    const onnx = await fixtureOnnx();
    const upstream = await startInferenceServer(onnx, 'up');
    const h = newHome();
    const direct = argmaxRows(await (await import('../../src/guard/index.js')).openOnnxRunner(onnx).then((r) => r.run(img(0, 60), 60)));
    for (const protocol of ['oip-v2', 'tfserving'] as const) {
      const g = await startGuard({
        homeDir: h.dir, passphrase: PASS, kdf: FAST_KDF, modelName: 'mnist', port: 0, markRate: 0.2, commitEverySeconds: 3600,
        upstream: { url: upstream.url, protocol, modelName: 'up', ...(protocol === 'tfserving' ? { dims: [28, 28, 1] } : {}) }, log: () => undefined,
      });
      try {
        const lock = new Database(join(h.dir, 'ledger.db'));
        lock.exec('BEGIN IMMEDIATE');
        const got = await post(g.url, h.secret, img(0, 30), 30, protocol, g.runner.inputName);
        const flushing = g.flush();
        const started = Date.now();
        got.push(...(await post(g.url, h.secret, img(30, 30), 30, protocol, g.runner.inputName)));
        expect(Date.now() - started).toBeLessThan(5000);
        const altered = got.filter((y, i) => y !== direct[i]).length;
        expect(altered).toBeGreaterThan(0);
        expect(altered).toBeLessThan(30);
        lock.exec('ROLLBACK');
        lock.close();
        await flushing;
        await g.flush();
        const hm = openHome(h.dir);
        const c = readCommitments(hm.ledger, homeTrust(hm)).latest.get(h.id)!;
        hm.close();
        expect(c.count).toBe(readJournal(h.dir, (await openGuardKeys(h.dir, PASS)).journal).marks.get(h.id)!.length);
      } finally {
        await g.close();
      }
    }
    expect(upstream.counts.infer + upstream.counts.predict).toBeGreaterThanOrEqual(4);
    await upstream.close();
  });
});
