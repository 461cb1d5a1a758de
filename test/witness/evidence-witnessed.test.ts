// Evidence bundles carry the cosigned checkpoint and the tlog-policy (issue 15), from two real
// `hallmark witness serve` processes on loopback: `evidence export` (CLI and the API job) puts them
// inside the owner-signed statement, and `evidence verify` checks offline the cosignatures against
// the policy's witness keys, the quorum, and that the bundle's proven tree extends the witnessed
// one. The attacks: a policy edited to lower the quorum (the owner's signature covers it; an
// insider who re-signs is caught by a pinned policy), a cosignature by a key the policy does not
// list, a witness's real cosignature for another checkpoint, a quorum not met.
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalJsonBytes } from '../../ledger/index.js';
import { openApi } from '../../src/api/server.js';
import type { JobInfo } from '../../src/api/jobs.js';
import { dsseKeyId, EvidenceError, formatBundleJson, IN_TOTO_PAYLOAD_TYPE, parseSignerKey, signEnvelope, verifyEvidence, verifyProvenanceBundle, type DsseEnvelope } from '../../src/evidence/index.js';
import { openHome } from '../../src/home/index.js';
import { generateCosignerKey, newCosigner } from '../../src/witness/index.js';
import { makeFixture, type Fixture } from '../evidence/fixture.js';
import { hallmark } from '../helpers/cli.js';
import { REPO } from '../helpers/paths.js';

process.env.HALLMARK_PASSPHRASE ||= 'test passphrase';

interface Running { proc: ChildProcess; url: string; vkey: string }

const tmp = mkdtempSync(join(tmpdir(), 'ev-witnessed-'));
const procs: ChildProcess[] = [];

function startWitness(name: string, logVkey: string): Promise<Running> {
  const dir = join(tmp, name);
  const r = hallmark(['witness', 'init', dir, '--name', `${name}.example`]);
  expect(r.status, r.stderr).toBe(0);
  writeFileSync(join(dir, 'logs.policy'), `log ${logVkey}\nquorum none\n`);
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [join(REPO, 'dist/cli/main.js'), 'witness', 'serve', dir, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    procs.push(proc);
    let out = '';
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (http:\/\/\S+) .*\nvkey: (\S+)\n/.exec(out);
      if (m) resolve({ proc, url: m[1]!, vkey: m[2]! });
    });
    proc.once('exit', (code) => reject(new Error(`witness exited ${code}: ${out}`)));
  });
}

let fx: Fixture;
let env: Record<string, string>;
let policyText: string;
let policyFile: string;
let out: string;
/** The checkpoint published first (an older size): its cosignatures are real, for another checkpoint. */
let firstPublished: string;
let keys: { ownerKey: string; logKey: string };

beforeAll(async () => {
  fx = await makeFixture('witnessed');
  keys = { ownerKey: fx.home.ownerVerifierKey, logKey: fx.home.ledger.verifierKey };
  fx.home.close();
  env = { HALLMARK_HOME: fx.dir, HALLMARK_PASSPHRASE: fx.passphrase };
  const [w1, w2] = await Promise.all([startWitness('w1', keys.logKey), startWitness('w2', keys.logKey)]);
  policyText = `log ${keys.logKey}\nwitness A ${w1!.vkey} ${w1!.url}\nwitness B ${w2!.vkey} ${w2!.url}\ngroup both all A B\nquorum both\n`;
  writeFileSync(join(fx.dir, 'tlog-policy'), policyText);
  policyFile = join(tmp, 'pinned.policy');
  writeFileSync(policyFile, policyText);
  const p1 = hallmark(['ledger', 'publish'], { env });
  expect(p1.status, p1.stderr).toBe(0);
  firstPublished = readFileSync(join(fx.dir, 'checkpoint.published'), 'utf8');
  writeFileSync(join(tmp, 'note.json'), '{"text":"later"}');
  expect(hallmark(['ledger', 'append', '--type', 'note.added', '--payload', join(tmp, 'note.json')], { env }).status).toBe(0);
  const p2 = hallmark(['ledger', 'publish'], { env });
  expect(p2.status, p2.stderr).toBe(0);
  out = join(tmp, 'evidence');
}, 120_000);

afterAll(() => {
  for (const p of procs) if (p.exitCode === null) p.kill('SIGKILL');
  rmSync(tmp, { recursive: true, force: true });
});

/** The statement of an evidence folder, mutated and re-signed with the real owner key (an insider). */
function resigned(mutate: (predicate: Record<string, any>) => void, sign = true): string {
  const env0 = JSON.parse(readFileSync(join(out, 'evidence.json'), 'utf8')) as DsseEnvelope;
  const stmt = JSON.parse(Buffer.from(env0.payload, 'base64').toString()) as Record<string, any>;
  mutate(stmt.predicate);
  const d = mkdtempSync(join(tmp, 'variant-'));
  cpSync(out, d, { recursive: true });
  const body = canonicalJsonBytes(stmt);
  let envelope: DsseEnvelope;
  if (sign) {
    const h = openHome(fx.dir);
    const owner = parseSignerKey(h.readOwnerSignerKey());
    h.close();
    envelope = signEnvelope(IN_TOTO_PAYLOAD_TYPE, body, [{ keyid: dsseKeyId(owner), seed: owner.seed }]);
  } else {
    envelope = { ...env0, payload: Buffer.from(body).toString('base64') }; // edited, the old signature kept
  }
  writeFileSync(join(d, 'evidence.json'), formatBundleJson(envelope));
  return d;
}

async function failure(dir: string, opts: { policy?: string } = {}): Promise<string> {
  const err = await verifyEvidence(dir, { ...keys, ...opts }).then(() => undefined, (e: unknown) => e);
  expect(err, 'verifyEvidence should have failed').toBeInstanceOf(EvidenceError);
  return `${(err as EvidenceError).code}: ${(err as Error).message}`;
}

const cosignatureLine = (note: string, witness: string) => new RegExp(`^\u2014 ${witness.replace('.', '\\.')} \\S+\\n`, 'm').exec(note)![0];

describe('evidence bundles carry the cosigned checkpoint and the policy', () => {
  it('evidence export (CLI) writes them inside the signed statement; evidence verify --policy checks them offline', () => {
    const x = hallmark(['evidence', 'export', '--verification', String(fx.verificationIndex), '--out', out], { env });
    expect(x.status, x.stderr).toBe(0);
    const size = Number(readFileSync(join(fx.dir, 'checkpoint.published'), 'utf8').split('\n')[1]);
    expect(x.stdout).toContain(`witnessed: carries the cosigned checkpoint of size ${size} and the tlog-policy`);
    const envl = JSON.parse(readFileSync(join(out, 'evidence.json'), 'utf8')) as DsseEnvelope;
    const w = JSON.parse(Buffer.from(envl.payload, 'base64').toString()).predicate.witnessed;
    expect(w.policy).toBe(policyText);
    expect(w.checkpoint).toBe(readFileSync(join(fx.dir, 'checkpoint.published'), 'utf8'));
    expect(w.checkpoint).toMatch(/^\u2014 w1\.example /m);
    expect(w.checkpoint).toMatch(/^\u2014 w2\.example /m);
    expect(readFileSync(join(out, 'VERIFY.md'), 'utf8')).toContain('Witnesses saw this ledger');

    const v = hallmark(['evidence', 'verify', out, '--pubkey', keys.logKey, '--owner-key', keys.ownerKey, '--policy', policyFile]);
    expect(v.status, v.stderr).toBe(0);
    expect(v.stdout).toContain(`ok  witnessed: checkpoint of size ${size} cosigned by A, B, quorum "both" met (the policy you gave); it covers the commitment (entry ${fx.commitmentIndex}) and the verification (entry ${fx.verificationIndex})`);
    // Without --policy the bundle's own policy is used, and the output says so.
    const u = hallmark(['evidence', 'verify', out, '--json']);
    expect(u.status, u.stderr).toBe(0);
    expect(JSON.parse(u.stdout).witnessing).toMatchObject({ size, policyPinned: false, quorum: 'both', coversCommitment: true, coversVerification: true });
  });

  it('the API export job carries them too; the witnessed checkpoint is older than the bundle\'s and proven consistent', async () => {
    const api = openApi(fx.dir, { passphrase: fx.passphrase, log: () => {} });
    try {
      const secret = api.keys.create({ role: 'legal', name: 'legal' }).secret;
      const auth = { authorization: `Bearer ${secret}` };
      const res = await api.app.request('/v1/evidence', { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ verification: fx.verificationIndex }) });
      expect(res.status).toBe(202);
      const job = (await res.json()) as JobInfo;
      await api.jobs.wait(job.id);
      const done = (await (await api.app.request(`/v1/jobs/${job.id}`, { headers: auth })).json()) as JobInfo;
      expect(done.status, JSON.stringify(done.error)).toBe('succeeded');
      const result = done.result as { witnessedSize: number; files: { name: string; download: string }[] };
      const d = mkdtempSync(join(tmp, 'api-'));
      for (const f of result.files) writeFileSync(join(d, f.name), Buffer.from(await (await api.app.request(f.download, { headers: auth })).arrayBuffer()));
      const r = await verifyEvidence(d, { ...keys, policy: policyText });
      expect(r.witnessing).toMatchObject({ size: result.witnessedSize, policyPinned: true, coversCommitment: true });
      expect(r.checkpointSize).toBeGreaterThan(result.witnessedSize); // evidence.exported came after the publish
      expect(r.witnessing!.witnesses.map((x) => x.witness).sort()).toEqual(['A', 'B']);
      // The API's provenance bundles carry them as the CLI's do.
      const comp = api.keys.create({ role: 'compliance', name: 'compliance' }).secret;
      const cauth = { authorization: `Bearer ${comp}` };
      const pr = await api.app.request('/v1/provenance', { method: 'POST', headers: { ...cauth, 'content-type': 'application/json' }, body: JSON.stringify({ modelId: fx.marked }) });
      expect(pr.status).toBe(201);
      const bundle = await (await api.app.request(`/v1/provenance/${((await pr.json()) as { id: string }).id}`, { headers: cauth })).text();
      const pv = await verifyProvenanceBundle(bundle, { logKey: keys.logKey, policy: policyText });
      expect(pv.witnessing).toMatchObject({ size: result.witnessedSize, policyPinned: true });
    } finally {
      await api.close();
    }
  });
});

describe('attacks on the witnessing in evidence', () => {
  it('a policy edited to lower the quorum: the owner\'s signature covers it', async () => {
    const lowered = (p: Record<string, any>) => {
      p.witnessed.policy = p.witnessed.policy.replace('quorum both', 'quorum A');
      p.witnessed.checkpoint = p.witnessed.checkpoint.replace(cosignatureLine(p.witnessed.checkpoint, 'w2.example'), '');
    };
    // Edited by anyone but the owner: the DSSE signature no longer verifies, with or without a pinned policy.
    expect(await failure(resigned(lowered, false))).toMatch(/^EVIDENCE_VERIFY_FAILED: .*evidence\.json/);
    const cli = hallmark(['evidence', 'verify', resigned(lowered, false), '--pubkey', keys.logKey, '--owner-key', keys.ownerKey]);
    expect(cli.status).toBe(1);
    expect(cli.stderr).toMatch(/^hallmark: EVIDENCE_VERIFY_FAILED: /);
    // The owner themselves (an insider re-signing) can claim a weaker policy: a verifier who pins the
    // policy obtained from the witnesses' operators is not fooled.
    const insider = resigned(lowered);
    const own = await verifyEvidence(insider, keys);
    expect(own.witnessing).toMatchObject({ quorum: 'A', policyPinned: false });
    expect(await failure(insider, { policy: policyText })).toMatch(/^EVIDENCE_VERIFY_FAILED: witnessing: the checkpoint's cosignatures \(A\) do not meet the policy's quorum both$/);
  });

  it('a cosignature by a key the policy does not list counts for nothing, and is named', async () => {
    const rogueKey = generateCosignerKey('w2.example'); // same name as witness B, another key
    const rogue = newCosigner(rogueKey.signerKey);
    const d = resigned((p) => {
      const note = p.witnessed.checkpoint as string;
      const body = note.slice(0, note.indexOf('\n\n') + 1);
      p.witnessed.checkpoint = note.replace(cosignatureLine(note, 'w2.example'), `${rogue.cosign(body, Math.floor(Date.now() / 1000)).trimEnd()}\n`);
    });
    for (const opts of [{}, { policy: policyText }]) {
      expect(await failure(d, opts)).toMatch(/^EVIDENCE_VERIFY_FAILED: witnessing: the checkpoint's cosignatures \(A\) do not meet the policy's quorum both; ignored: cosignatures by keys the policy does not list \(w2\.example\)$/);
    }
    // ...and a policy edited to list the rogue key instead is caught by the pinned policy.
    const swapped = resigned((p) => {
      const note = p.witnessed.checkpoint as string;
      const body = note.slice(0, note.indexOf('\n\n') + 1);
      p.witnessed.checkpoint = note.replace(cosignatureLine(note, 'w2.example'), `${rogue.cosign(body, 1_800_000_000).trimEnd()}\n`);
      p.witnessed.policy = (p.witnessed.policy as string).replace(/^witness B \S+/m, `witness B ${rogueKey.vkey}`);
    });
    expect((await verifyEvidence(swapped, keys)).witnessing!.policyPinned).toBe(false);
    expect(await failure(swapped, { policy: policyText })).toMatch(/do not meet the policy's quorum both; ignored: cosignatures by keys the policy does not list \(w2\.example\)/);
  });

  it('a witness\'s real cosignature for another checkpoint does not verify on this one', async () => {
    const older = cosignatureLine(firstPublished, 'w1.example');
    const d = resigned((p) => {
      const note = p.witnessed.checkpoint as string;
      expect(note.split('\n')[1]).not.toBe(firstPublished.split('\n')[1]);
      p.witnessed.checkpoint = note.replace(cosignatureLine(note, 'w1.example'), older);
    });
    for (const opts of [{}, { policy: policyText }]) expect(await failure(d, opts)).toMatch(/^EVIDENCE_VERIFY_FAILED: witnessing: the cosignature by A does not verify$/);
  });

  it('a quorum not met: one cosignature missing; a pinned policy needing a third witness; no witnessed checkpoint at all', async () => {
    const stripped = resigned((p) => { p.witnessed.checkpoint = p.witnessed.checkpoint.replace(cosignatureLine(p.witnessed.checkpoint, 'w1.example'), ''); });
    expect(await failure(stripped)).toMatch(/^EVIDENCE_VERIFY_FAILED: witnessing: the checkpoint's cosignatures \(B\) do not meet the policy's quorum both$/);
    const cli = hallmark(['evidence', 'verify', stripped, '--policy', policyFile]);
    expect(cli.status).toBe(1);
    expect(cli.stderr).toMatch(/^hallmark: EVIDENCE_VERIFY_FAILED: witnessing: the checkpoint's cosignatures \(B\) do not meet the policy's quorum both\n$/);
    const third = generateCosignerKey('w3.example').vkey;
    const stricter = policyText.replace('group both all A B\nquorum both\n', `witness C ${third}\ngroup three all A B C\nquorum three\n`);
    expect(await failure(out, { policy: stricter })).toMatch(/do not meet the policy's quorum three$/);
    const bare = resigned((p) => { delete p.witnessed; });
    expect((await verifyEvidence(bare, keys)).witnessing).toBeUndefined();
    expect(await failure(bare, { policy: policyText })).toMatch(/^EVIDENCE_VERIFY_FAILED: a policy was given \(--policy\) but the bundle carries no witnessed checkpoint$/);
  });

  it('a consistency proof from the witnessed checkpoint that does not hold fails', async () => {
    const d = resigned((p) => { p.witnessed.consistency = ['AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=']; });
    expect(await failure(d)).toMatch(/^EVIDENCE_VERIFY_FAILED: witnessing: /);
  });
});
