// Issue 10, finding 4: owner B re-marks owner A's marked model (once as is, once after adding
// noise so that the input id no longer matches), and both get evidence that passes `evidence
// verify`. `hallmark dispute` must name A as prior: A's mark is in the model B committed to, B's
// is not in A's, and A's commitment carries the earlier RFC 3161 token (a real OpenSSL TSA).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { embedWatermark, type EmbedSummary } from '../../src/embed/index.js';
import { exportEvidence, loadStoredOpening, settleDispute, verifyEvidence } from '../../src/evidence/index.js';
import { convertTfjsToOnnx } from '../../src/formats/convert-tfjs-to-onnx.js';
import { readModelTensors, tensorFromFloat32, tensorToFloat32, writeModelTensors } from '../../src/formats/index.js';
import { homeTrust, initHome, openHome, ownerRecordSigner, type Home } from '../../src/home/index.js';
import { readCertificates } from '../../src/tsa/index.js';
import { verifySuspect } from '../../src/verify/verify-suspect.js';
import { hallmark } from '../helpers/cli.js';
import { startTsaServer, type TsaServer } from '../helpers/tsa-server.js';
import { FIXTURE } from '../verify/helpers.js';
import { readFileSync } from 'node:fs';

const PASS = 'dispute passphrase';
const dir = mkdtempSync(join(tmpdir(), 'hm-dispute-'));
let tsa: TsaServer;
const homes: Home[] = [];

function newHome(name: string): Home {
  initHome(join(dir, name));
  const h = openHome(join(dir, name));
  homes.push(h);
  return h;
}

async function embed(h: Home, model: string, out: string, bits = 256): Promise<EmbedSummary> {
  return embedWatermark({
    home: { dir: h.paths.dir, ledger: h.ledger, ownerVerifierKey: h.ownerVerifierKey }, ownerSeed: ownerRecordSigner(h).seed,
    model, out, trainingFree: true, scheme: 'weight', passphrase: PASS, actor: 'test', bits,
    tsa: { url: tsa.url, caCerts: readCertificates(readFileSync(tsa.pki.caCert), tsa.pki.caCert) },
  });
}

/** Verifies a suspect in a home and exports the evidence; the claim is a folder that verifies. */
async function claim(h: Home, suspect: string, name: string): Promise<string> {
  const v = await verifySuspect({ home: { dir: h.paths.dir, ledger: h.ledger, ownerVerifierKey: h.ownerVerifierKey }, signer: ownerRecordSigner(h), trust: homeTrust(h), passphrase: PASS, suspect: { path: suspect } });
  expect(v.decision.owned, `${name} owns the suspect`).toBe(true);
  const out = join(dir, name);
  await exportEvidence({ ledger: h.ledger, verificationIndex: v.index, ownerSignerKey: h.readOwnerSignerKey(), opening: await loadStoredOpening(h.ledger, h.paths.dir, v.index, PASS), outDir: out, trust: homeTrust(h), timestamps: (await import('../../src/tsa/index.js')).listTimestamps(h.paths.dir) });
  await verifyEvidence(out, { tsaCaCerts: readCertificates(readFileSync(tsa.pki.caCert), tsa.pki.caCert) });
  return out;
}

async function addNoise(src: string, dest: string): Promise<void> {
  const { tensors } = await readModelTensors(src);
  let k = 1;
  const noisy = tensors.filter((t) => t.dtype === 'F32' && t.shape.length >= 2).map((t) => {
    const v = tensorToFloat32(t);
    let s = 0;
    for (const x of v) s += x * x;
    const std = Math.sqrt(s / v.length);
    // A fixed pseudo-random sequence (Park-Miller), so the test is repeatable.
    for (let i = 0; i < v.length; i++) {
      k = (k * 16807) % 2147483647;
      v[i] = v[i]! + 0.01 * std * ((k / 2147483647) * 2 - 1);
    }
    return tensorFromFloat32(t.name, 'F32', t.shape, v);
  });
  await writeModelTensors(src, dest, noisy);
}

const original = join(dir, 'original.onnx');
const markedA = join(dir, 'a.onnx');
const remarked = join(dir, 'a-then-b.onnx');
const noisyA = join(dir, 'a-noisy.onnx');
const noisyRemarked = join(dir, 'a-noisy-then-c.onnx');
let claimA: string;
let claimB: string;
let claimA2: string;
let claimC: string;

beforeAll(async () => {
  tsa = await startTsaServer();
  writeFileSync(original, await convertTfjsToOnnx(FIXTURE));
  const a = newHome('owner-a');
  await embed(a, original, markedA);
  // TSA times have whole-second resolution: the thief acts at least a second later.
  await new Promise((r) => setTimeout(r, 1100));
  const b = newHome('owner-b');
  // The re-markers write 128 bits: A's 256-bit mark then keeps p 1e-13..1e-20 (at 256 bits each,
  // 1e-10..1e-16 over four runs, and one run of the full suite with random keys fell past 1e-6).
  await embed(b, markedA, remarked, 128);
  await addNoise(markedA, noisyA);
  await new Promise((r) => setTimeout(r, 1100));
  const c = newHome('owner-c');
  await embed(c, noisyA, noisyRemarked, 128);
  // Both owners get evidence for the same suspect that verifies on its own: the ambiguity.
  claimA = await claim(a, remarked, 'claim-a');
  claimB = await claim(b, remarked, 'claim-b');
  claimA2 = await claim(a, noisyRemarked, 'claim-a-noisy');
  claimC = await claim(c, noisyRemarked, 'claim-c');
}, 900_000);

afterAll(async () => {
  for (const h of homes) h.close();
  await tsa?.close();
});

describe('hallmark dispute: the re-marking attack', () => {
  it('B re-marked A\'s model: A is prior by the marks and by the time anchors, whichever order the claims come in', async () => {
    const r = await settleDispute(claimA, claimB, { models: { a: original, b: markedA } });
    expect(r.sameSuspect).toBe(true);
    expect(r.tests.find((t) => t.mark === 'A')).toMatchObject({ inModelOf: 'B', found: true });
    expect(r.tests.find((t) => t.mark === 'B')).toMatchObject({ inModelOf: 'A', found: false });
    expect(r.tests.find((t) => t.mark === 'A')!.log10FamilyPValue).toBeLessThan(-20);
    expect(r.tests.find((t) => t.mark === 'B')!.log10FamilyPValue).toBeGreaterThan(-6);
    expect(r.a.anchor && r.b.anchor && r.a.anchor.time < r.b.anchor.time).toBe(true);
    expect(r).toMatchObject({ prior: 'A', byMarks: 'A', byTime: 'A' });
    const swapped = await settleDispute(claimB, claimA, { models: { a: markedA, b: original } });
    expect(swapped).toMatchObject({ prior: 'B', byMarks: 'B', byTime: 'B' });
    expect(swapped.b.dir).toBe(claimA);
  }, 300_000);

  it('with noise added before re-marking (the input id no longer matches A\'s output), A is still prior', async () => {
    const r = await settleDispute(claimA2, claimC, { models: { a: original, b: noisyA } });
    expect(r.tests.find((t) => t.mark === 'A')!.found).toBe(true);
    expect(r.tests.find((t) => t.mark === 'B')!.found).toBe(false);
    expect(r).toMatchObject({ prior: 'A', byMarks: 'A', byTime: 'A' });
  }, 300_000);

  it('the CLI says which claim is prior and why, with every number; without the models it falls back to the anchors and says so', () => {
    const r = hallmark(['dispute', claimA, claimB, '--models', `${original},${markedA}`, '--tsa-ca', tsa.pki.caCert], { timeout: 300_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^PRIOR CLAIM: A /);
    expect(r.stdout).toMatch(/A's mark in B's committed input model:sha256:[0-9a-f]{64}: FOUND \(family p = 10\^-\d+/);
    expect(r.stdout).toMatch(/B's mark in A's committed input model:sha256:[0-9a-f]{64}: not found/);
    expect(r.stdout).toMatch(/B re-marked A's model/);
    expect(r.stdout).toMatch(/RFC 3161 token of \d{4}-\d\d-\d\dT[^ ]+ by .*\(chain verified\)/);
    expect(r.stdout).toMatch(/decided: claim A is prior \(marks and time anchors agree\)/);
    const noModels = hallmark(['dispute', claimA, claimB], { timeout: 300_000 });
    expect(noModels.status, noModels.stderr).toBe(0);
    expect(noModels.stdout).toMatch(/marks not compared/);
    expect(noModels.stdout).toMatch(/by the time anchors alone/);
    const wrongModel = hallmark(['dispute', claimA, claimB, '--models', `${markedA},${markedA}`], { timeout: 300_000 });
    expect(wrongModel.status).toBe(2);
    expect(wrongModel.stderr).toMatch(/EVIDENCE_INVALID: .* is model:sha256:[0-9a-f]{64}, not model:sha256:[0-9a-f]{64}, the model claim A committed to/);
  }, 600_000);
});
