// Offline proofs: `hallmark ledger proof` writes a C2SP tlog-proof that a checker written here
// from the spec text verifies (leaf from `extra`, RFC 6962 inclusion, log signature, cosignature/v1),
// that `ledger verify-proof` accepts, and that fails after any change; provenance bundles carry
// the cosigned checkpoint and the policy.
import { createHash, createPublicKey, verify as edVerify } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newVerifier } from '../../ledger/index.js';
import { buildProvenanceBundle, formatBundleJson, verifyProvenanceBundle } from '../../src/evidence/index.js';
import { initHome, openHome, type Home } from '../../src/home/index.js';
import { registerModel } from '../../src/lineage/index.js';
import { generateCosignerKey, homeWitnessing, newCosigner, parsePolicy, publishCheckpoint, WitnessState, witnessApp } from '../../src/witness/index.js';
import { hallmark } from '../helpers/cli.js';

const sha = (...p: Uint8Array[]) => { const h = createHash('sha256'); for (const x of p) h.update(x); return h.digest(); };

function edKey(raw32: Buffer) {
  return createPublicKey({ key: Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), raw32]), format: 'der', type: 'spki' });
}

/** RFC 9162 2.1.3.2, written from the RFC: the root from an inclusion proof. */
function rootFromProof(index: number, size: number, leaf: Buffer, proof: Buffer[]): Buffer {
  let fn = index;
  let sn = size - 1;
  let r = leaf;
  for (const p of proof) {
    if (sn === 0) throw new Error('proof too long');
    if (fn % 2 === 1 || fn === sn) {
      r = sha(Buffer.of(1), p, r);
      if (fn % 2 === 0) while (fn % 2 === 0 && fn !== 0) { fn >>= 1; sn >>= 1; }
    } else {
      r = sha(Buffer.of(1), r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  if (sn !== 0) throw new Error('proof too short');
  return r;
}

/** The tlog-proof checked from the spec text alone; returns the witness names whose cosignatures verified. */
function checkIndependently(text: string, logVkey: string, witnesses: { name: string; vkey: string }[]): string[] {
  const [head, ...restParts] = text.split('\n\n');
  const note = restParts.join('\n\n');
  const lines = head!.split('\n');
  expect(lines[0]).toBe('c2sp.org/tlog-proof@v1');
  expect(lines[1]).toMatch(/^extra /);
  const extra = Buffer.from(lines[1]!.slice(6), 'base64');
  const index = Number(/^index (\d+)$/.exec(lines[2]!)![1]);
  const proof = lines.slice(3).map((l) => Buffer.from(l, 'base64'));
  const body = note.slice(0, note.indexOf('\n\n') + 1);
  const [origin, size, root] = body.split('\n');
  const sigs = note.slice(note.indexOf('\n\n') + 2).split('\n').filter(Boolean);
  // The log's signature (Ed25519 note, type 0x01).
  const lk = Buffer.from(logVkey.split('+').slice(2).join('+'), 'base64');
  const logLine = sigs.find((l) => l.startsWith(`\u2014 ${origin} `))!;
  expect(edVerify(null, Buffer.from(body), edKey(lk.subarray(1)), Buffer.from(logLine.split(' ')[2]!, 'base64').subarray(4))).toBe(true);
  // Inclusion of SHA-256(0x00 || extra).
  expect(rootFromProof(index, Number(size), sha(Buffer.of(0), extra), proof).toString('base64')).toBe(root);
  // cosignature/v1: keyID(4) || timestamp(8) || sig over "cosignature/v1\ntime T\n" || body.
  const ok: string[] = [];
  for (const w of witnesses) {
    const line = sigs.find((l) => l.startsWith(`\u2014 ${w.name} `));
    if (!line) continue;
    const blob = Buffer.from(line.split(' ')[2]!, 'base64');
    const t = blob.readBigUInt64BE(4);
    const pk = Buffer.from(w.vkey.split('+').slice(2).join('+'), 'base64').subarray(1);
    if (edVerify(null, Buffer.from(`cosignature/v1\ntime ${t}\n${body}`), edKey(pk), blob.subarray(12))) ok.push(w.name);
  }
  return ok;
}

const tmp = mkdtempSync(join(tmpdir(), 'tlog-proof-'));
let homeDir: string;
let home: Home;
let policyText: string;
const ws = [generateCosignerKey('w1.example'), generateCosignerKey('w2.example')];

beforeAll(async () => {
  homeDir = join(tmp, 'home');
  initHome(homeDir);
  home = openHome(homeDir);
  registerModel(home.ledger, { model: { name: 'm', digest: { sha256: 'ab'.repeat(32) } }, format: 'onnx', actor: 'test' });
  home.ledger.appendBatch(Array.from({ length: 6 }, (_, n) => ({ type: 'test.proof', payload: { n } })));
  const apps = ws.map((k, i) => witnessApp({ cosigner: newCosigner(k.signerKey), logs: new Map([[home.ledger.origin, [newVerifier(home.ledger.verifierKey)]]]), state: new WitnessState(join(tmp, `w${i}.json`)) }));
  policyText = `log ${home.ledger.verifierKey}\nwitness A ${ws[0]!.vkey} http://w1.test\nwitness B ${ws[1]!.vkey} http://w2.test\ngroup both all A B\nquorum both\n`;
  writeFileSync(join(homeDir, 'tlog-policy'), policyText);
  // The witnesses' Hono apps answer in-process (loopback sockets are covered by witness.test.ts).
  const r = await publishCheckpoint(home.ledger, parsePolicy(policyText), { homeDir, fetch: (u, init) => Promise.resolve(apps[u.includes('w1.test') ? 0 : 1]!.request(u.replace(/^http:\/\/w\d\.test/, ''), init)) });
  expect(r.quorumMet).toBe(true);
  home.ledger.append({ type: 'test.proof', payload: { n: 'after publish' } });
  home.close();
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));


describe('tlog-proof', () => {
  it('ledger proof writes a proof a spec-only checker accepts, with both cosignatures', () => {
    const out = join(tmp, 'e3.tlog-proof');
    const r = hallmark(['ledger', 'proof', '--index', '3', '--out', out, '--home', homeDir]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain('cosigned by the witnesses');
    const text = readFileSync(out, 'utf8');
    expect(checkIndependently(text, openVkey(), ws.map((w) => ({ name: w.vkey.split('+')[0]!, vkey: w.vkey })))).toEqual(['w1.example', 'w2.example']);
    writeFileSync(join(tmp, 'policy'), policyText);
    const v = hallmark(['ledger', 'verify-proof', out, '--policy', join(tmp, 'policy'), '--json']);
    expect(v.status, v.stderr).toBe(0);
    expect(JSON.parse(v.stdout)).toMatchObject({ verified: true, index: 3, size: 7, entry: { index: 3, payload: { n: 2 } } });
  });

  it('fails after a changed proof hash, entry, index or a missing cosignature', () => {
    const text = readFileSync(join(tmp, 'e3.tlog-proof'), 'utf8');
    const lines = text.split('\n');
    const variants = [
      lines.map((l, i) => (i === 3 ? Buffer.from(sha(Buffer.from(l))).toString('base64') : l)).join('\n'), // a proof hash
      text.replace(/^extra (\S+)$/m, (_m, b: string) => `extra ${Buffer.from(Buffer.from(b, 'base64').toString().replace('"n":2', '"n":3')).toString('base64')}`),
      text.replace(/^index 3$/m, 'index 2'),
      text.replace(/^\u2014 w2\.example .*\n/m, ''), // quorum "all" no longer met
    ];
    for (const [i, t] of variants.entries()) {
      expect(t, `variant ${i}`).not.toBe(text);
      const f = join(tmp, `bad${i}`);
      writeFileSync(f, t);
      const v = hallmark(['ledger', 'verify-proof', f, '--policy', join(tmp, 'policy')]);
      expect(v.status, `variant ${i}: ${v.stderr}`).toBe(1);
    }
  });

  it('provenance verify and evidence verify check the same tlog-proof offline, and refuse a changed one', () => {
    const proof = join(tmp, 'e3.tlog-proof');
    const policy = join(tmp, 'policy');
    const p = hallmark(['provenance', 'verify', proof, '--pubkey', openVkey(), '--policy', policy]);
    expect(p.status, p.stderr).toBe(0);
    expect(p.stdout).toMatch(/^OK: entry 3 is in \S+ at size 7\nwitnessed by A \(.*\), B \(/);
    const e = hallmark(['evidence', 'verify', proof, '--policy', policy, '--json']);
    expect(e.status, e.stderr).toBe(0);
    expect(JSON.parse(e.stdout)).toMatchObject({ verified: true, index: 3, size: 7 });
    // Another log key than the policy's, and a proof missing a cosignature: exit 1 / 2 with one line.
    const other = hallmark(['provenance', 'verify', proof, '--pubkey', 'other.example/log+01020304+AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=', '--policy', policy]);
    expect(other.status).not.toBe(0);
    expect(other.stderr).toMatch(/^hallmark: [A-Z_]+: /);
    const stripped = join(tmp, 'stripped.tlog-proof');
    writeFileSync(stripped, readFileSync(proof, 'utf8').replace(/^\u2014 w2\.example .*\n/m, ''));
    for (const cmd of [['provenance', 'verify', stripped, '--pubkey', openVkey(), '--policy', policy], ['evidence', 'verify', stripped, '--policy', policy]]) {
      const r = hallmark(cmd);
      expect(r.status, cmd.join(' ')).toBe(1);
      expect(r.stderr).toMatch(/^hallmark: WITNESS_QUORUM_NOT_MET: /);
    }
  });

  it('an entry after the published checkpoint gets a signed, unwitnessed proof', () => {
    const r = hallmark(['ledger', 'proof', '--index', '7', '--home', homeDir]);
    expect(r.status, r.stderr).toBe(0);
    writeFileSync(join(tmp, 'e7'), r.stdout);
    expect(hallmark(['ledger', 'verify-proof', join(tmp, 'e7'), '--policy', join(tmp, 'policy')]).status).toBe(1);
    expect(hallmark(['ledger', 'verify-proof', join(tmp, 'e7'), '--log-key', openVkey()]).status).toBe(0);
  });
});

function openVkey(): string {
  return JSON.parse(readFileSync(join(homeDir, 'config.json'), 'utf8')).logVerifierKey as string;
}

describe('provenance bundles carry the cosigned checkpoint and the policy', () => {
  it('verifies with the pinned policy; fails when a cosignature or the consistency proof is altered', async () => {
    const h = openHome(homeDir);
    const modelId = `model:sha256:${'ab'.repeat(32)}`;
    const bundle = buildProvenanceBundle({ ledger: h.ledger, modelId, ownerSignerKey: h.readOwnerSignerKey(), witnessing: homeWitnessing(homeDir)! });
    h.close();
    expect(bundle.witnessed!.consistency.length).toBeGreaterThan(0); // published at 7, bundle at 8
    const text = formatBundleJson(bundle);
    const r = await verifyProvenanceBundle(text, { logKey: openVkey(), policy: policyText });
    expect(r.witnessing).toMatchObject({ size: 7, policyPinned: true });
    expect(r.witnessing!.witnesses.map((w) => w.witness).sort()).toEqual(['A', 'B']);
    const stripped = { ...bundle, witnessed: { ...bundle.witnessed!, checkpoint: bundle.witnessed!.checkpoint.replace(/^\u2014 w1\.example .*\n/m, '') } };
    await expect(verifyProvenanceBundle(formatBundleJson(stripped), { logKey: openVkey(), policy: policyText })).rejects.toMatchObject({ code: 'EVIDENCE_VERIFY_FAILED' });
    const badProof = { ...bundle, witnessed: { ...bundle.witnessed!, consistency: bundle.witnessed!.consistency.map(() => Buffer.alloc(32, 1).toString('base64')) } };
    await expect(verifyProvenanceBundle(formatBundleJson(badProof), { logKey: openVkey(), policy: policyText })).rejects.toMatchObject({ code: 'EVIDENCE_VERIFY_FAILED' });
    // A pinned policy needs a witnessed bundle.
    const { witnessed: _w, ...plain } = bundle;
    void _w;
    await expect(verifyProvenanceBundle(formatBundleJson(plain), { logKey: openVkey(), policy: policyText })).rejects.toMatchObject({ code: 'EVIDENCE_VERIFY_FAILED' });
    await expect(verifyProvenanceBundle(formatBundleJson(plain), { logKey: openVkey() })).resolves.toBeDefined();
  });
});
