// Fingerprints in `hallmark dispute` (issue 13), performed with real homes, the real fixture model
// (fixtures/mnist-cnn converted to ONNX, answered by onnxruntime), a real RFC 3161 TSA (OpenSSL on
// loopback) and real exported bundles. The fingerprint sets are crafted (the targets are what a
// model answers on MNIST test images, as in evidence.test.ts), committed, calibrated (owner-signed
// counts), sealed and timestamped the way `hallmark fingerprint` does; verification is the real one.
//
//   A (the owner) marks the fixture, fingerprints its marked model, timestamps it.
//   B (a thief) adds noise to A's marked model, re-marks it, releases it (the suspect), and then
//     fingerprints it: a fingerprint of the suspect made after A's model was known.
//   X (an accuser) later crafts a fingerprint from the suspect's own answers (100% agreement).
// The dispute must credit A's fingerprint, and neither B's nor X's, and say why in one line each.
// The abuses: bundles whose fingerprint section or entries were edited (re-signed by the owner),
// an owner-signed record with a p-value its counts do not give, and a calibration row injected
// into ledger.db are all refused with EVIDENCE_VERIFY_FAILED / EVIDENCE_INVALID.
import { randomBytes } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalJsonBytes, type JsonObject } from '../../ledger/index.js';
import { embedWatermark } from '../../src/embed/index.js';
import { dsseKeyId, exportEvidence, formatBundleJson, formatDispute, IN_TOTO_PAYLOAD_TYPE, loadStoredOpening, parseSignerKey, readEnvelope, settleDispute, signEnvelope } from '../../src/evidence/index.js';
import { proveEntries } from '../../src/evidence/log-proofs.js';
import { binomialTail } from '../../src/evidence/statistics.js';
import { revealFingerprintOpening } from '../../src/fingerprint/index.js';
import { convertTfjsToOnnx } from '../../src/formats/convert-tfjs-to-onnx.js';
import { readModelTensors, tensorFromFloat32, tensorToFloat32, writeModelTensors } from '../../src/formats/index.js';
import { loadMnist } from '../../src/formats/mnist.js';
import { homeTrust, initHome, openHome, ownerRecordSigner, type Home } from '../../src/home/index.js';
import { appendRecord, verificationRecorded, type VerificationRecord } from '../../src/records/index.js';
import { listTimestamps, readCertificates, stampCheckpoint } from '../../src/tsa/index.js';
import { openLocalClassifier } from '../../src/verify/local-classifiers.js';
import { verifySuspect } from '../../src/verify/verify-suspect.js';
import { hallmark } from '../helpers/cli.js';
import { startTsaServer, type TsaServer } from '../helpers/tsa-server.js';
import { FIXTURE } from '../verify/helpers.js';
import { commitCrafted, fingerprintCalibration, openFingerprintTest, RECIPE_KIND, type FingerprintOpening } from './crafted.js';

const PASS = 'fingerprint dispute';
const N = 40;
const dir = mkdtempSync(join(tmpdir(), 'hm-fp-dispute-'));
let tsa: TsaServer;
let caCerts: ReturnType<typeof readCertificates>;
const homes: Home[] = [];
const hOf = (h: Home) => ({ dir: h.paths.dir, ledger: h.ledger, ownerVerifierKey: h.ownerVerifierKey });
const tick = () => new Promise((r) => setTimeout(r, 1100)); // TSA times have whole-second resolution

function newHome(name: string): Home {
  initHome(join(dir, name));
  const h = openHome(join(dir, name));
  homes.push(h);
  return h;
}

async function embed(h: Home, model: string, out: string): Promise<void> {
  await embedWatermark({
    home: hOf(h), ownerSeed: ownerRecordSigner(h).seed, model, out, trainingFree: true, scheme: 'weight', passphrase: PASS, actor: 'test', bits: 256,
    tsa: { url: tsa.url, caCerts },
  });
}

async function addNoise(src: string, dest: string, seed: number): Promise<void> {
  const { tensors } = await readModelTensors(src);
  let k = seed;
  const noisy = tensors.filter((t) => t.dtype === 'F32' && t.shape.length >= 2).map((t) => {
    const v = tensorToFloat32(t);
    let s = 0;
    for (const x of v) s += x * x;
    const std = Math.sqrt(s / v.length);
    for (let i = 0; i < v.length; i++) {
      k = (k * 16807) % 2147483647; // Park-Miller: repeatable
      v[i] = v[i]! + 0.01 * std * ((k / 2147483647) * 2 - 1);
    }
    return tensorFromFloat32(t.name, 'F32', t.shape, v);
  });
  await writeModelTensors(src, dest, noisy);
}

/** A crafted fingerprint set: MNIST test images [from, from + N) with `model`'s answers as targets. */
async function craft(model: string, from: number): Promise<FingerprintOpening> {
  const mnist = await loadMnist({ seed: 0 });
  const bytes = Uint8Array.from(mnist.test.images.subarray(from * 784, (from + N) * 784), (v) => Math.round(v * 255));
  const c = await openLocalClassifier(model);
  const answers = Array.from(await c.classify(Float32Array.from(bytes, (v) => v / 255), N, [28, 28, 1]));
  await c.close();
  const recipe = { kind: RECIPE_KIND, architecture: 'mnist-cnn' as const, input: [28, 28, 1] as const, classes: 10, data: { dataset: 'cd'.repeat(32), from: 0, count: 1 }, epochs: 1, batchSize: 1, learningRate: 0.001 };
  return {
    parameters: { n: N, classes: 10, height: 28, width: 28, channels: 1, norm: 'linf', epsilon: 0.25, steps: 1, candidates: N, dataset: { name: 'mnist', sha256: 'cd'.repeat(32) } },
    recipes: { surrogates: [{ ...recipe, role: 'surrogate', teacher: 'x', seed: 1 }], references: [{ ...recipe, role: 'reference', seed: 2 }] },
    set: { images: bytes, targets: answers },
    salt: new Uint8Array(randomBytes(32)),
  };
}

/** Commits, calibrates (owner-signed), seals and timestamps a fingerprint of `model` in home h. */
async function fingerprint(h: Home, model: string, opening: FingerprintOpening): Promise<number> {
  const { identifyModel } = await import('../../src/lineage/index.js');
  const index = await commitCrafted(hOf(h), ownerRecordSigner(h), opening, PASS, { model: (await identifyModel(model)).id, rates: [0.1, 0.14, 0.12] });
  await stampCheckpoint(h.ledger, h.paths.dir, tsa.url, { caCerts });
  return index;
}

async function verifyAndExport(h: Home, suspect: string, name: string, o: { fingerprint?: number; timestamps?: boolean; reveal?: boolean } = {}): Promise<string> {
  const fp = o.fingerprint === undefined ? {} : { fingerprint: await openFingerprintTest(hOf(h), PASS, o.fingerprint) };
  const v = await verifySuspect({ home: hOf(h), signer: ownerRecordSigner(h), trust: homeTrust(h), passphrase: PASS, suspect: { path: suspect }, ...fp });
  return exportAt(h, v.index, name, o);
}

async function exportAt(h: Home, index: number, name: string, o: { fingerprint?: number; timestamps?: boolean; reveal?: boolean } = {}): Promise<string> {
  const out = join(dir, name);
  await exportEvidence({
    ledger: h.ledger, verificationIndex: index, ownerSignerKey: h.readOwnerSignerKey(), opening: await loadStoredOpening(h.ledger, h.paths.dir, index, PASS), outDir: out, trust: homeTrust(h),
    timestamps: o.timestamps === false ? [] : listTimestamps(h.paths.dir),
    ...(o.reveal && o.fingerprint !== undefined ? { fingerprintOpening: await revealFingerprintOpening(hOf(h), PASS, o.fingerprint) } : {}),
  });
  return out;
}

type Statement = { predicate: { entries: { index: number; bytes: string; proof: string[] }[]; checkpoint: string; verification: { index: number }; fingerprint: Record<string, unknown> & { commitment: { index: number }; calibration: { index: number }; opening?: { targets: number[] } } } };

/** Copies a bundle, edits its statement, and re-signs it with the owner's key (the owner is the cheat). */
function tamper(src: string, name: string, owner: Home, edit: (s: Statement) => void): string {
  const out = join(dir, name);
  cpSync(src, out, { recursive: true });
  const env = readEnvelope(JSON.parse(readFileSync(join(src, 'evidence.json'), 'utf8')), 'x');
  const body = JSON.parse(Buffer.from(env.payload, 'base64').toString('utf8')) as Statement;
  edit(body);
  const key = parseSignerKey(owner.readOwnerSignerKey());
  writeFileSync(join(out, 'evidence.json'), formatBundleJson(signEnvelope(IN_TOTO_PAYLOAD_TYPE, canonicalJsonBytes(body as unknown as JsonObject), [{ keyid: dsseKeyId(key), seed: key.seed }])));
  return out;
}

/** Edits one proven entry's payload in place (its bytes change; its inclusion proof no longer holds). */
function editEntry(s: Statement, index: number, edit: (payload: Record<string, unknown>) => void): void {
  const e = s.predicate.entries.find((x) => x.index === index)!;
  const entry = JSON.parse(Buffer.from(e.bytes, 'base64').toString('utf8')) as { payload: Record<string, unknown> };
  edit(entry.payload);
  e.bytes = Buffer.from(canonicalJsonBytes(entry as unknown as JsonObject)).toString('base64');
}

/**
 * The cheat's hand-built bundle: an honest bundle of `home`, pointed at another verification entry
 * and/or calibration entry of the same log, each with a valid inclusion proof, re-signed by the owner.
 */
function handBuild(honest: string, name: string, home: Home, o: { verification?: number; calibration?: number }): string {
  return tamper(honest, name, home, (s) => {
    const size = Number(s.predicate.checkpoint.split('\n')[1]);
    const drop = new Set([s.predicate.verification.index, s.predicate.fingerprint.calibration.index]);
    const keep = new Set([o.verification ?? s.predicate.verification.index, o.calibration ?? s.predicate.fingerprint.calibration.index]);
    const rest = s.predicate.entries.filter((e) => !drop.has(e.index) && !keep.has(e.index));
    s.predicate.entries = [...rest, ...proveEntries(home.ledger, keep, size)].sort((p, q) => p.index - q.index);
    if (o.verification !== undefined) s.predicate.verification.index = o.verification;
    if (o.calibration !== undefined) s.predicate.fingerprint.calibration.index = o.calibration;
  });
}

const original = join(dir, 'original.onnx');
const markedA = join(dir, 'a.onnx');
const noisyA = join(dir, 'a-noisy.onnx');
const suspect = join(dir, 'b.onnx'); // B's re-marked copy of A's model, released by B
const xInput = join(dir, 'x-input.onnx');
const markedX = join(dir, 'x.onnx');
let a: Home;
let b: Home;
let x: Home;
let fpA: number;
let fpB: number;
let fpX: number;
let claimA: string;
let claimB: string;
let claimX: string;
let claimANoFp: string;
let claimAUndated: string;

beforeAll(async () => {
  process.env.HALLMARK_PASSPHRASE ||= PASS;
  tsa = await startTsaServer();
  caCerts = readCertificates(readFileSync(tsa.pki.caCert), tsa.pki.caCert);
  writeFileSync(original, await convertTfjsToOnnx(FIXTURE));
  a = newHome('owner-a');
  await embed(a, original, markedA);
  fpA = await fingerprint(a, markedA, await craft(markedA, 0));
  await tick();
  b = newHome('thief-b');
  await addNoise(markedA, noisyA, 1);
  await embed(b, noisyA, suspect);
  fpB = await fingerprint(b, suspect, await craft(suspect, N));
  await tick();
  x = newHome('accuser-x');
  await addNoise(original, xInput, 7);
  await embed(x, xInput, markedX);
  fpX = await fingerprint(x, markedX, await craft(suspect, 2 * N)); // crafted from the suspect's answers, after the fact
  claimA = await verifyAndExport(a, suspect, 'claim-a', { fingerprint: fpA, reveal: true });
  claimB = await verifyAndExport(b, suspect, 'claim-b', { fingerprint: fpB });
  claimX = await verifyAndExport(x, suspect, 'claim-x', { fingerprint: fpX });
  claimANoFp = await verifyAndExport(a, suspect, 'claim-a-nofp');
  claimAUndated = await exportAt(a, JSON.parse(Buffer.from(readEnvelope(JSON.parse(readFileSync(join(claimANoFp, 'evidence.json'), 'utf8')), 'x').payload, 'base64').toString('utf8')).predicate.verification.index, 'claim-a-undated', { timestamps: false });
}, 300_000);

afterAll(async () => {
  for (const h of homes) h.close();
  await tsa?.close();
});

describe('hallmark dispute weighs fingerprint claims', () => {
  it('both parties present fingerprints: the one sealed and dated before the other party appeared wins, and the verdict says why', async () => {
    const r = await settleDispute(claimA, claimB, { models: { a: original, b: noisyA }, tsaCaCerts: caCerts });
    const wa = r.fingerprints.find((w) => w.label === 'A')!;
    const wb = r.fingerprints.find((w) => w.label === 'B')!;
    // Both fingerprints match the suspect far beyond alpha: only the dates separate them.
    expect(wa.pValue).toBeLessThan(1e-20);
    expect(wb.pValue).toBeLessThan(1e-20);
    expect(wa).toMatchObject({ commitmentIndex: fpA, significant: true, beforeOther: true, credited: true, committedAt: { kind: 'rfc3161' }, otherFirstAppearance: { kind: 'rfc3161' } });
    expect(wa.committedAt!.time! < wa.otherFirstAppearance!.time!).toBe(true);
    expect(wb).toMatchObject({ commitmentIndex: fpB, significant: true, beforeOther: false, credited: false });
    expect(r).toMatchObject({ prior: 'A', byFingerprint: 'A', byMarks: 'A', byTime: 'A' });
    const text = formatDispute(r);
    expect(text).toMatch(new RegExp(`fingerprint: A's fingerprint \\(entry ${fpA}, sealed by checkpoint \\d+; \\d+/${N} at chance 0.14, recomputed p = [0-9.e-]+ < alpha 0\\.000001\\): CREDITED: committed by \\S+ \\(RFC 3161`));
    expect(text).toMatch(new RegExp(`fingerprint: B's fingerprint \\(entry ${fpB}, .*\\): not credited: AFTER THE FACT: dated \\S+, not before A's first appearance \\(its entry 0, model\\.registered, dated`));
    expect(text).toMatch(/fingerprints: the suspect answers A's fingerprint, committed before B appeared; B's own fingerprint is not credited \(not earlier than A\): A is prior/);
    expect(text).toMatch(/decided: claim A is prior \(marks, time anchors and fingerprints agree\)/);
    // Whichever order the claims come in.
    const swapped = await settleDispute(claimB, claimA, { models: { a: noisyA, b: original }, tsaCaCerts: caCerts });
    expect(swapped).toMatchObject({ prior: 'B', byFingerprint: 'B' });
    expect(swapped.fingerprints.find((w) => w.label === 'B')!.commitmentIndex).toBe(fpA);
  }, 120_000);

  it('the after-the-fact accuser: a fingerprint crafted from the suspect once it was known is sealed and matches 100%, and is not credited', async () => {
    const r = await settleDispute(claimANoFp, claimX, { tsaCaCerts: caCerts });
    expect(r.fingerprints).toHaveLength(1);
    const w = r.fingerprints[0]!;
    expect(w).toMatchObject({ label: 'B', commitmentIndex: fpX, matches: N, significant: true, beforeOther: false, credited: false });
    expect(w.pValue).toBeLessThan(1e-30);
    expect(w.reason).toMatch(/not credited: AFTER THE FACT/);
    expect(r.byFingerprint).toBeNull();
    expect(r).toMatchObject({ prior: 'A', byTime: 'A' });
    // Against an owner whose bundle carries no timestamp, the accuser's dated fingerprint still
    // cannot be shown to predate the owner: not credited, and nothing decides for the accuser.
    const undated = await settleDispute(claimAUndated, claimX, { tsaCaCerts: caCerts });
    expect(undated.fingerprints[0]).toMatchObject({ credited: false, significant: true });
    expect(undated.fingerprints[0]!.reason).toMatch(/A's first appearance \(its entry \d+, model\.registered\) has no RFC 3161 token/);
    expect(undated.prior).toBeNull();
    // A's own (earlier) fingerprint needs its TSA checked against a CA the verifier trusts:
    // a claimant's own TSA could backdate it.
    const unchecked = await settleDispute(claimA, claimX);
    expect(unchecked.fingerprints.find((f) => f.label === 'A')).toMatchObject({ credited: false, significant: true });
    expect(unchecked.fingerprints.find((f) => f.label === 'A')!.reason).toMatch(/was not checked against a trusted CA: pass --tsa-ca/);
    const withFp = await settleDispute(claimA, claimX, { tsaCaCerts: caCerts });
    expect(withFp.fingerprints.find((f) => f.label === 'A')).toMatchObject({ credited: true });
    expect(withFp.fingerprints.find((f) => f.label === 'B')).toMatchObject({ credited: false });
    expect(withFp).toMatchObject({ prior: 'A', byFingerprint: 'A' });
  }, 120_000);

  it('the CLI prints one line per reason, with the fingerprint lines', () => {
    const r = hallmark(['dispute', claimA, claimB, '--models', `${original},${noisyA}`, '--tsa-ca', tsa.pki.caCert], { timeout: 120_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^PRIOR CLAIM: A /);
    expect(r.stdout).toMatch(/\n {2}- fingerprint: A's fingerprint .*: CREDITED: .*\n/);
    expect(r.stdout).toMatch(/\n {2}- fingerprint: B's fingerprint .*: not credited: AFTER THE FACT.*\n/);
    const json = hallmark(['dispute', claimA, claimX, '--json', '--tsa-ca', tsa.pki.caCert], { timeout: 120_000 });
    expect(json.status, json.stderr).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ prior: 'A', byFingerprint: 'A', fingerprints: [{ label: 'A', credited: true }, { label: 'B', credited: false }] });
  }, 240_000);

  it('a bundle whose fingerprint section or entries were edited is refused, even re-signed by its owner', async () => {
    const refused = { code: 'EVIDENCE_VERIFY_FAILED' };
    const cases: [string, (s: Statement) => void, RegExp][] = [
      ['commitment index', (s) => { s.predicate.fingerprint.commitment.index = fpA - 1; }, /fingerprint/],
      ['revealed targets', (s) => { s.predicate.fingerprint.opening!.targets = s.predicate.fingerprint.opening!.targets.map((t) => (t + 1) % 10); }, /does not open the commitment/],
      ['recorded p-value', (s) => editEntry(s, s.predicate.verification.index, (p) => { (p.fingerprint as { pValue: number }).pValue = 1e-40; }), /inclusion proof/],
      ['committed digest', (s) => editEntry(s, fpA, (p) => { p.commitment = 'ab'.repeat(32); }), /inclusion proof/],
      ['calibration index', (s) => { s.predicate.fingerprint.calibration.index = fpA; }, /calibration/],
    ];
    for (const [name, edit, message] of cases) {
      const bad = tamper(claimA, `tampered-${name.replace(/ /g, '-')}`, a, edit);
      await expect(settleDispute(bad, claimB), name).rejects.toMatchObject({ ...refused, message: expect.stringMatching(message) });
    }
  }, 120_000);

  it('an owner-signed record whose p-value its own counts do not give is refused: the p-value is recomputed', async () => {
    const report = await verifySuspect({ home: hOf(a), signer: ownerRecordSigner(a), trust: homeTrust(a), passphrase: PASS, suspect: { path: suspect }, fingerprint: await openFingerprintTest(hOf(a), PASS, fpA) });
    const v = report.record;
    const forged = appendRecord(a.ledger, verificationRecorded, { ...v, fingerprint: { ...v.fingerprint!, matches: 20, pValue: v.fingerprint!.pValue } } as VerificationRecord, ownerRecordSigner(a), 'cheat');
    a.ledger.checkpoint();
    // Export checks its own output and refuses; the cheat then builds the bundle by hand.
    await expect(exportAt(a, forged.index, 'claim-a-forged-p', {})).rejects.toMatchObject({ code: 'EVIDENCE_INVALID', message: expect.stringMatching(/recorded fingerprint p-value/) });
    const honest = await exportAt(a, report.index, 'claim-a-honest', {});
    const bundle = handBuild(honest, 'claim-a-forged-p-handbuilt', a, { verification: forged.index });
    await expect(settleDispute(bundle, claimB)).rejects.toMatchObject({ code: 'EVIDENCE_VERIFY_FAILED', message: expect.stringMatching(/recorded fingerprint p-value .* differs from P\[Binomial\(40, 0.14\) >= 20\]/) });
  }, 120_000);

  it('a calibration injected into ledger.db (unsigned, chance 0) is not trusted: verify ignores it, export refuses it, a hand-built bundle is refused', async () => {
    const h = hOf(x);
    const committed = x.ledger.get(fpX).entry.payload as { commitment: string };
    const injected = x.ledger.append({ type: 'calibration.recorded', actor: 'key:intruder', payload: fingerprintCalibration(fpX, committed.commitment, N, [0, 0]) as unknown as JsonObject }).index;
    x.ledger.checkpoint();
    const test = await openFingerprintTest(h, PASS, fpX);
    const v = await verifySuspect({ home: h, signer: ownerRecordSigner(x), trust: homeTrust(x), passphrase: PASS, suspect: { path: suspect }, fingerprint: test });
    expect(v.record.fingerprint!.calibration).not.toBe(injected);
    expect(v.record.fingerprint!.chanceRate).toBe(0.14);
    // The cheat signs a verification naming the injected calibration (chance 1/C = 0.1).
    const f = v.record.fingerprint!;
    const cheat = appendRecord(x.ledger, verificationRecorded, { ...v.record, fingerprint: { ...f, calibration: injected, nullDistribution: [0, 0], chanceRate: 0.1, pValue: binomialTail(N, 0.1, f.matches) } } as VerificationRecord, ownerRecordSigner(x), 'cheat');
    x.ledger.checkpoint();
    await expect(exportAt(x, cheat.index, 'claim-x-injected', {})).rejects.toMatchObject({ code: 'EVIDENCE_INVALID', message: expect.stringMatching(/calibration cannot go into evidence/) });
    // Hand-built: the honest bundle, pointed at the cheat's verification and the injected calibration, both proven in the log.
    const honest = await exportAt(x, v.index, 'claim-x-honest', {});
    const bad = handBuild(honest, 'claim-x-handbuilt', x, { verification: cheat.index, calibration: injected });
    await expect(settleDispute(bad, claimA)).rejects.toMatchObject({ code: 'EVIDENCE_VERIFY_FAILED', message: expect.stringMatching(/calibration\.recorded .*(signature|unsigned)/i) });
  }, 120_000);
});
