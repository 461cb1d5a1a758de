// tlog-witness on both sides over loopback: two `hallmark witness serve` processes and a log that
// publishes only with its policy's quorum; the spec's status codes; a forked log refused; a
// witness killed with SIGKILL in the middle of a request keeps a whole state and recovers.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openLedger, signCheckpoint, newSigner, newVerifier, type Ledger } from '../../ledger/index.js';
import { initHome, openHome, type Home } from '../../src/home/index.js';
import {
  addCheckpoint, WitnessState, cosignatureKeyId, cosignedMessage, generateCosignerKey, newCosigner, parseCosignatureLine, parseCosignatureVkey, parsePolicy, publishCheckpoint,
  quorumMet, readPublished, verifyCheckpointPolicy, verifyCosignature,
} from '../../src/witness/index.js';
import { hallmark } from '../helpers/cli.js';
import { REPO } from '../helpers/paths.js';

// `hallmark init` seals the home's keys under a passphrase; every command here opens them with it.
process.env.HALLMARK_PASSPHRASE ||= 'test passphrase';

const SPECS = join(REPO, '..', 'shared', 'specs', 'c2sp');

describe('cosignature/v1 against the spec text', () => {
  const spec = readFileSync(join(SPECS, 'tlog-cosignature.md'), 'utf8');

  it('the example cosignature line is keyID || u64 timestamp || 64-byte signature, the timestamp that of the example message', () => {
    const line = /^— witness\.example\.com\/w1 (\S+)$/m.exec(spec)![0];
    const c = parseCosignatureLine(line)!;
    expect(c).toBeDefined();
    expect(c.signature.length).toBe(64);
    const msgBlock = /\n {4}cosignature\/v1\n {4}time (\d+)\n((?: {4}.*\n)+)/.exec(spec)!;
    expect(c.timestamp).toBe(Number(msgBlock[1]));
    // Our message for the example checkpoint is byte for byte the example message.
    const example = /```\n(example\.com\/behind-the-sofa\n20852163\n\S+\n)\n/.exec(spec)![1]!;
    const want = `cosignature/v1\ntime ${msgBlock[1]}\n${msgBlock[2]!.replace(/^ {4}/gm, '')}`;
    expect(new TextDecoder().decode(cosignedMessage(example, c.timestamp))).toBe(want);
  });

  it('key IDs are SHA-256(name || "\\n" || 0x04 || key)[:4]; our lines verify and a changed body does not', () => {
    const k = generateCosignerKey('witness.example/w9');
    const v = parseCosignatureVkey(k.vkey);
    const h = createHash('sha256').update(Buffer.concat([Buffer.from('witness.example/w9\n'), Buffer.of(4), v.publicKey])).digest();
    expect(cosignatureKeyId('witness.example/w9', v.publicKey)).toBe(h.readUInt32BE(0));
    const body = 'example.com/log\n5\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n';
    const line = newCosigner(k.signerKey).cosign(body, 1_700_000_000);
    const c = parseCosignatureLine(line)!;
    expect(Buffer.from(line.split(' ')[2]!, 'base64').length).toBe(76);
    expect(verifyCosignature(v, body, c)).toBe(true);
    expect(verifyCosignature(v, body.replace('5', '6'), c)).toBe(false);
  });
});

describe('tlog-policy', () => {
  it('parses the spec example shape and evaluates nested quorums', () => {
    const keys = Array.from({ length: 6 }, (_, i) => generateCosignerKey(`w${i}.example`).vkey);
    const text = `# example\n\nwitness X1 ${keys[0]}\nwitness X2 ${keys[1]}\nwitness X3 ${keys[2]}\ngroup X-witnesses 2 X1 X2 X3\n\n\twitness Y1 ${keys[3]}  \nwitness Y2 ${keys[4]}\nwitness Y3 ${keys[5]}\ngroup Y-witnesses any Y1 Y2 Y3\n\ngroup X-and-Y all X-witnesses Y-witnesses\nquorum X-and-Y\n`;
    const p = parsePolicy(text);
    expect(quorumMet(p, new Set(['X1', 'X2', 'Y3']))).toBe(true);
    expect(quorumMet(p, new Set(['X1', 'Y1', 'Y2', 'Y3']))).toBe(false);
    expect(quorumMet(p, new Set(['X1', 'X2', 'X3']))).toBe(false);
    expect(quorumMet(parsePolicy('quorum none\n'), new Set())).toBe(true);
  });

  it('refuses what the spec forbids', () => {
    const a = generateCosignerKey('a.example').vkey;
    for (const bad of [
      '', // no quorum
      `witness A ${a}\nquorum B\n`, // undefined name
      `witness A ${a}\nwitness B ${a}\nquorum A\n`, // duplicate key
      `witness A ${a}\nquorum A\nquorum A\n`, // two quorum lines
      `witness A ${a}\ngroup G 2 A\nquorum G\n`, // k > n
      `witness A ${a}\ngroup G any A A\nquorum G\n`, // member twice
      `witness none ${a}\nquorum none\n`, // redefining none
      `witness A ${a}\rquorum A\n`, // control character
    ]) expect(() => parsePolicy(bad), JSON.stringify(bad)).toThrow(expect.objectContaining({ code: 'WITNESS_BAD_POLICY' }));
  });
});

// ---- loopback -------------------------------------------------------------------------------

interface Running { proc: ChildProcess; url: string; dir: string; vkey: string }

const tmp = mkdtempSync(join(tmpdir(), 'witness-'));
const procs: ChildProcess[] = [];

function startWitness(dir: string): Promise<Running> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [join(REPO, 'dist/cli/main.js'), 'witness', 'serve', dir, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    procs.push(proc);
    let out = '';
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (http:\/\/\S+) .*\nvkey: (\S+)\n/.exec(out);
      if (m) resolve({ proc, url: m[1]!, dir, vkey: m[2]! });
    });
    proc.once('exit', (code) => reject(new Error(`witness exited ${code}: ${out}`)));
  });
}

function makeWitness(name: string, logVkey: string): string {
  const dir = join(tmp, name);
  const r = hallmark(['witness', 'init', dir, '--name', `${name}.example`]);
  expect(r.status, r.stderr).toBe(0);
  writeFileSync(join(dir, 'logs.policy'), `log ${logVkey}\nquorum none\n`);
  return dir;
}

const post = async (url: string, body: string): Promise<Response> => {
  try {
    return await fetch(`${url}/add-checkpoint`, { method: 'POST', body });
  } catch {
    return fetch(`${url}/add-checkpoint`, { method: 'POST', body }); // a kept-alive socket closed meanwhile
  }
};

describe('witnesses and a log on loopback', () => {
  let homeDir: string;
  let home: Home;
  let w1: Running;
  let w2: Running;
  let policyText: string;

  beforeAll(async () => {
    homeDir = join(tmp, 'home');
    initHome(homeDir);
    home = openHome(homeDir);
    home.ledger.appendBatch([1, 2, 3].map((n) => ({ type: 'test.witness', payload: { n } })));
    [w1, w2] = await Promise.all([startWitness(makeWitness('w1', home.ledger.verifierKey)), startWitness(makeWitness('w2', home.ledger.verifierKey))]);
    policyText = `log ${home.ledger.verifierKey}\nwitness W1 ${w1.vkey} ${w1.url}\nwitness W2 ${w2.vkey} ${w2.url}\ngroup both all W1 W2\nquorum both\n`;
  }, 60_000);

  afterAll(() => {
    for (const p of procs) if (p.exitCode === null) p.kill('SIGKILL');
    home?.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('publishes when the quorum is met; the published checkpoint verifies against the policy', async () => {
    const r = await publishCheckpoint(home.ledger, parsePolicy(policyText), { homeDir });
    expect(r.outcomes.map((o) => o.ok)).toEqual([true, true]);
    expect(r.quorumMet).toBe(true);
    const published = readPublished(homeDir)!;
    const check = verifyCheckpointPolicy(published, parsePolicy(policyText));
    expect(check.checkpoint.size).toBe(3);
    expect(check.cosigners.map((c) => c.witness).sort()).toEqual(['W1', 'W2']);
    // Grow and publish again: the witnesses check consistency from 3.
    home.ledger.appendBatch([4, 5].map((n) => ({ type: 'test.witness', payload: { n } })));
    const r2 = await publishCheckpoint(home.ledger, parsePolicy(policyText), { homeDir });
    expect(r2.quorumMet).toBe(true);
    expect(verifyCheckpointPolicy(readPublished(homeDir)!, parsePolicy(policyText)).checkpoint.size).toBe(5);
    // The witness's monitoring endpoint serves what it cosigned.
    const h = createHash('sha256').update(home.ledger.origin).digest('hex');
    const mon = await fetch(`${w1.url}/${h}/checkpoint`);
    expect((await mon.text()).split('\n')[1]).toBe('5');
  });

  it('does not publish when the quorum is not met (a third witness is down)', async () => {
    const before = readPublished(homeDir);
    const w3 = generateCosignerKey('w3.example').vkey;
    const p = parsePolicy(`${policyText.replace('quorum both\n', '')}witness W3 ${w3} http://127.0.0.1:9/\ngroup three all W1 W2 W3\nquorum three\n`);
    home.ledger.append({ type: 'test.witness', payload: { n: 6 } });
    const r = await publishCheckpoint(home.ledger, p, { homeDir, timeoutMs: 3000 });
    expect(r.quorumMet).toBe(false);
    expect(r.outcomes.find((o) => o.witness === 'W3')!.ok).toBe(false);
    expect(readPublished(homeDir)).toBe(before);
    // Through the CLI: exit 1 and one line naming the quorum.
    writeFileSync(join(homeDir, 'three.policy'), p.text);
    home.close();
    const cli = hallmark(['ledger', 'publish', '--policy', join(homeDir, 'three.policy'), '--home', homeDir, '--timeout-ms', '3000']);
    home = openHome(homeDir);
    expect(cli.status).toBe(1);
    expect(cli.stderr).toMatch(/^hallmark: WITNESS_QUORUM_NOT_MET: /);
  });

  it('answers 404, 403, 400, 409 and 422 as tlog-witness says', async () => {
    const cp = home.ledger.checkpoint();
    // 409: a stale old size, with the witness's size in text/x.tlog.size.
    const stale = await post(w1.url, `old 0\n\n${cp.note}`);
    expect(stale.status).toBe(409);
    expect(stale.headers.get('content-type')).toBe('text/x.tlog.size');
    const theirs = Number(await stale.text());
    expect(theirs).toBeGreaterThan(0);
    // 404: a log the witness does not know.
    const other = openLedger(join(tmp, 'other.db'), { create: true, signerKey: (await import('../../ledger/index.js')).generateNoteKey('other.example/log').signerKey });
    other.append({ type: 'test.other', payload: {} });
    expect((await post(w1.url, `old 0\n\n${other.checkpoint().note}`)).status).toBe(404);
    other.close();
    // 403: the log's signature altered.
    const forged = cp.note.replace(/(\u2014 \S+ )(\S)/, (_m, a: string, c: string) => `${a}${c === 'A' ? 'B' : 'A'}`);
    expect((await post(w1.url, `old ${theirs}\n\n${forged}`)).status).toBe(403);
    // 400: old size above the checkpoint size; a malformed body.
    expect((await post(w1.url, `old ${cp.size + 1}\n\n${cp.note}`)).status).toBe(400);
    expect((await post(w1.url, 'not a request')).status).toBe(400);
    // 422: the same size as cosigned with another root, signed by the log key (a fork).
    const signer = newSigner(readFileSync(join(homeDir, 'log.key'), 'utf8'));
    const forkRoot = signCheckpoint({ origin: home.ledger.origin, size: theirs, root: new Uint8Array(32).fill(7), extensions: [] }, signer);
    const r422 = await post(w1.url, `old ${theirs}\n\n${forkRoot.note}`);
    expect(r422.status).toBe(422);
    // 422: a size-0 checkpoint whose root is not the empty tree (a witness that never saw the log).
    const fresh = new WitnessState(join(tmp, 'fresh-state.json'));
    const zero = signCheckpoint({ origin: home.ledger.origin, size: 0, root: cp.root, extensions: [] }, signer);
    const opts = { cosigner: newCosigner(generateCosignerKey('w.example').signerKey), logs: new Map([[home.ledger.origin, [newVerifier(home.ledger.verifierKey)]]]), state: fresh };
    expect(addCheckpoint(`old 0\n\n${zero.note}`, opts).status).toBe(422);
    // ...and a non-empty proof from size 0.
    expect(addCheckpoint(`old 0\n${Buffer.from(cp.root).toString('base64')}\n\n${cp.note}`, opts).status).toBe(422);
    expect(addCheckpoint(`old 0\n\n${cp.note}`, opts).status).toBe(200);
  });

  it('a witness that saw one tree refuses a fork signed by the same log key', async () => {
    const logKey = readFileSync(join(homeDir, 'log.key'), 'utf8');
    const fork: Ledger = openLedger(join(tmp, 'fork.db'), { create: true, signerKey: logKey });
    fork.appendBatch(Array.from({ length: 12 }, (_, n) => ({ type: 'test.fork', payload: { n } })));
    const forkHome = join(tmp, 'fork-home');
    rmSync(forkHome, { recursive: true, force: true });
    (await import('node:fs')).mkdirSync(forkHome);
    const h = createHash('sha256').update(home.ledger.origin).digest('hex');
    const before = await (await fetch(`${w1.url}/${h}/checkpoint`)).text();
    const r = await publishCheckpoint(fork, parsePolicy(policyText), { homeDir: forkHome });
    fork.close();
    expect(r.quorumMet).toBe(false);
    for (const o of r.outcomes) expect(o.detail).toMatch(/answered 422: the checkpoint of size 12 is not consistent/);
    expect(existsSync(join(forkHome, 'checkpoint.published'))).toBe(false);
    expect(await (await fetch(`${w1.url}/${h}/checkpoint`)).text()).toBe(before);
  });

  it('kill -9 in the middle of a request leaves a whole state; the restarted witness cosigns again', async () => {
    home.ledger.append({ type: 'test.witness', payload: { n: 7 } });
    const cp = home.ledger.checkpoint();
    const stateFile = join(w2.dir, 'state.json');
    const before = JSON.parse(readFileSync(stateFile, 'utf8'));
    const oldSize = before.logs[home.ledger.origin].size as number;
    const body = `old ${oldSize}\n${home.ledger.consistencyProof(oldSize, cp.size).hashes.map((x) => `${Buffer.from(x).toString('base64')}\n`).join('')}\n${cp.note}`;
    const u = new URL(w2.url);
    const sock = connect(Number(u.port), u.hostname);
    await new Promise<void>((res) => sock.once('connect', () => res()));
    sock.on('error', () => {});
    sock.write(`POST /add-checkpoint HTTP/1.1\r\nHost: ${u.host}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body.slice(0, body.length >> 1)}`);
    await new Promise((r) => setTimeout(r, 200));
    const exited = new Promise((r) => w2.proc.once('exit', r));
    w2.proc.kill('SIGKILL');
    await exited;
    sock.destroy();
    const after = JSON.parse(readFileSync(stateFile, 'utf8'));
    expect(after).toEqual(before);
    // While it is down the quorum (both) is not met; after a restart from the same folder it is.
    const down = await publishCheckpoint(home.ledger, parsePolicy(policyText), { homeDir, timeoutMs: 3000 });
    expect(down.quorumMet).toBe(false);
    const again = await startWitness(w2.dir);
    const p = parsePolicy(policyText.replace(w2.url, again.url));
    const up = await publishCheckpoint(home.ledger, p, { homeDir });
    expect(up.outcomes.map((o) => `${o.witness}:${o.ok}`)).toEqual(['W1:true', 'W2:true']);
    expect(up.quorumMet).toBe(true);
    expect(verifyCheckpointPolicy(readPublished(homeDir)!, p).checkpoint.size).toBe(cp.size);
  });
  it('SIGTERM stops the witness even while a client stalls half-way through a request (cut after 10 s), state whole', async () => {
    const dir = makeWitness('w3', home.ledger.verifierKey);
    const w3 = await startWitness(dir);
    const stateFile = join(dir, 'state.json');
    const before = existsSync(stateFile) ? readFileSync(stateFile, 'utf8') : undefined;
    const u = new URL(w3.url);
    const sock = connect(Number(u.port), u.hostname);
    await new Promise<void>((res) => sock.once('connect', () => res()));
    sock.on('error', () => {});
    const closed = new Promise<void>((res) => sock.once('close', () => res()));
    sock.write(`POST /add-checkpoint HTTP/1.1\r\nHost: ${u.host}\r\nContent-Length: 5000\r\n\r\nold 1\n`);
    await new Promise((r) => setTimeout(r, 200));
    const exited = new Promise<number | null>((r) => w3.proc.once('exit', (code) => r(code)));
    w3.proc.kill('SIGTERM');
    // Before, server.close() waited on this socket for as long as the client kept it: the process
    // never exited. Now the socket is cut by the witness, and the process exits cleanly.
    expect(await exited).toBe(0);
    await closed;
    expect(existsSync(stateFile) ? readFileSync(stateFile, 'utf8') : undefined).toEqual(before);
  }, 30_000);
});
