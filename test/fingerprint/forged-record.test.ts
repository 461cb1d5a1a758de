// fingerprint.committed is an owner-signed protected record. The attacks: (1) anyone with append
// rights asks the generic append (CLI `ledger append`, API POST /v1/ledger/entries) to write one;
// (2) someone with write access to the database injects rows directly: an unsigned commitment, one
// signed by another key, and an unsigned calibration that would make any suspect look derived.
// Expected: (1) refused with RECORD_PROTECTED and nothing written; (2) verify ignores the forged
// rows, names each one among its problems, and refuses a forged commitment asked for by index
// (FINGERPRINT_FORGED, exit status 1).
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateNoteKey, type JsonObject } from '../../ledger/index.js';
import { saveLayersModel } from '../../src/formats/index.js';
import { loadMnist } from '../../src/formats/mnist.js';
import { initHome, openHome, ownerRecordSigner, type Home } from '../../src/home/index.js';
import { appendRecord, fingerprintCommitted, parseSignerKey } from '../../src/records/index.js';
import { selectBackend } from '../../src/train/backend.js';
import { predictClasses } from '../../src/train/evaluate.js';
import { buildMnistCnn } from '../../src/train/mnist-cnn.js';
import { verifySuspect } from '../../src/verify/verify-suspect.js';
import { errorOf, makeTestApi } from '../api/helpers.js';
import { hallmark } from '../helpers/cli.js';
import { commitCrafted, commitFingerprint, encodeFingerprintOpening, fingerprintCalibration, fingerprintSecretId, openFingerprintTest, RECIPE_KIND, recipeDigestsFor, type FingerprintOpening } from './crafted.js';
import { saveSecret } from '../../src/secrets/index.js';

const PASS = 'forged fingerprint';
const N = 40;

describe('forged fingerprint.committed entries', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hallmark-fp-forged-'));
  const homeDir = join(dir, 'home');
  const suspect = join(dir, 'suspect');
  let home: Home;
  let h: { dir: string; ledger: Home['ledger']; ownerVerifierKey: string };
  let honest: FingerprintOpening;
  let framing: FingerprintOpening;
  let genuine: number;

  beforeAll(async () => {
    await selectBackend('wasm');
    initHome(homeDir, { passphrase: PASS });
    home = openHome(homeDir, { passphrase: PASS });
    h = { dir: homeDir, ledger: home.ledger, ownerVerifierKey: home.ownerVerifierKey };
    const model = buildMnistCnn(777);
    await saveLayersModel(model, suspect);
    const mnist = await loadMnist({ seed: 0 });
    const bytes = Uint8Array.from(mnist.test.images.subarray(0, N * 784), (v) => Math.round(v * 255));
    const answers = Array.from(predictClasses(model, { images: Float32Array.from(bytes, (v) => v / 255), count: N, shape: [N, 28, 28, 1] }));
    model.dispose();
    const base = {
      parameters: { n: N, classes: 10, height: 28, width: 28, channels: 1, norm: 'linf' as const, epsilon: 0.25, steps: 1, candidates: N, dataset: { name: 'mnist', sha256: 'cd'.repeat(32) } },
      recipes: {
        surrogates: [{ kind: RECIPE_KIND, role: 'surrogate' as const, architecture: 'mnist-cnn' as const, input: [28, 28, 1] as const, classes: 10, teacher: 'x', data: { dataset: 'cd'.repeat(32), from: 0, count: 1 }, epochs: 1, batchSize: 1, learningRate: 0.001, seed: 1 }],
        references: [{ kind: RECIPE_KIND, role: 'reference' as const, architecture: 'mnist-cnn' as const, input: [28, 28, 1] as const, classes: 10, data: { dataset: 'cd'.repeat(32), from: 0, count: 1 }, epochs: 1, batchSize: 1, learningRate: 0.001, seed: 2 }],
      },
    };
    // The owner's genuine fingerprint: targets the suspect does NOT answer (an innocent suspect).
    honest = { ...base, set: { images: bytes, targets: answers.map((t) => (t + 1) % 10) }, salt: new Uint8Array(randomBytes(32)) };
    // The forger's: the suspect's own answers, so a forged commitment would "prove" derivation.
    framing = { ...base, set: { images: bytes, targets: answers }, salt: new Uint8Array(randomBytes(32)) };
    genuine = await commitCrafted(h, ownerRecordSigner(home), honest, PASS, { rates: [0.1, 0.12] });
  }, 120_000);
  afterAll(() => home?.close());

  it('hallmark ledger append refuses fingerprint.committed (RECORD_PROTECTED, exit 2) and writes nothing', () => {
    const payload = join(dir, 'payload.json');
    const size = home.ledger.size();
    writeFileSync(payload, JSON.stringify({ schema: 'hallmark/fingerprint.committed/v1', model: `model:sha256:${'aa'.repeat(32)}`, commitment: commitFingerprint(framing) }));
    const r = hallmark(['ledger', 'append', '--type', 'fingerprint.committed', '--payload', payload], { home: homeDir, env: { HALLMARK_PASSPHRASE: PASS } });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^hallmark: RECORD_PROTECTED: entry type "fingerprint\.committed" is written only by hallmark's own fingerprint code/);
    expect(home.ledger.size()).toBe(size);
  });

  it('POST /v1/ledger/entries refuses fingerprint.committed for every role that may append (403 RECORD_PROTECTED)', async () => {
    const t = makeTestApi();
    try {
      const size = t.home.ledger.size();
      for (const role of ['admin', 'engineer'] as const) {
        const res = await t.req('/v1/ledger/entries', { role, method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ type: 'fingerprint.committed', payload: { schema: 'hallmark/fingerprint.committed/v1' } }) });
        expect(res.status, role).toBe(403);
        expect((await errorOf(res)).code).toBe('RECORD_PROTECTED');
      }
      expect(t.home.ledger.size()).toBe(size);
    } finally {
      await t.dispose();
    }
  });

  it('rows injected into the ledger are ignored and reported; asked for by index they are refused', async () => {
    // The forger can even plant a secret file that opens (the worst case: they know the passphrase).
    const commitment = commitFingerprint(framing);
    await saveSecret(homeDir, fingerprintSecretId(commitment), encodeFingerprintOpening(framing), PASS);
    const record = { schema: 'hallmark/fingerprint.committed/v1', model: `model:sha256:${'aa'.repeat(32)}`, commitment, parameters: framing.parameters, recipes: recipeDigestsFor(framing), ownerKey: h.ownerVerifierKey } as unknown as JsonObject;
    const unsigned = home.ledger.append({ type: 'fingerprint.committed', actor: 'key:engineer', payload: record }).index;
    const intruder = parseSignerKey(generateNoteKey('hallmark.local/owner/intruder').signerKey);
    const foreign = appendRecord(home.ledger, fingerprintCommitted, record, intruder, 'key:engineer').index;
    // An unsigned calibration that would put chance at 0 for the genuine commitment.
    home.ledger.append({ type: 'calibration.recorded', actor: 'key:engineer', payload: fingerprintCalibration(genuine, commitFingerprint(honest), N, [0, 0]) as unknown as JsonObject });
    home.ledger.checkpoint();

    // Latest owner-signed commitment: the genuine one, the two forged rows named as problems.
    const test = await openFingerprintTest(h, PASS);
    expect(test.committed.index).toBe(genuine);
    const r = await verifySuspect({ home: h, passphrase: PASS, suspect: { path: suspect }, fingerprint: test, signer: ownerRecordSigner(home) });
    expect(r.decision.owned).toBe(false);
    expect(r.record.fingerprint).toMatchObject({ commitment: { index: genuine }, matches: 0, chanceRate: 0.12 });
    expect(r.problems).toEqual(expect.arrayContaining([
      expect.objectContaining({ index: unsigned, code: 'RECORD_UNSIGNED' }),
      expect.objectContaining({ index: foreign, code: 'RECORD_UNTRUSTED_SIGNER' }),
    ]));

    // By index: refused, library and CLI (exit 1: a check failed), and nothing recorded.
    for (const index of [unsigned, foreign]) await expect(openFingerprintTest(h, PASS, index)).rejects.toMatchObject({ code: 'FINGERPRINT_FORGED' });
    const size = home.ledger.size();
    home.close();
    const cli = hallmark(['verify', suspect, '--fingerprint', String(unsigned)], { home: homeDir, env: { HALLMARK_PASSPHRASE: PASS } });
    home = openHome(homeDir, { passphrase: PASS });
    expect(cli.status).toBe(1);
    expect(cli.stderr).toMatch(/^hallmark: FINGERPRINT_FORGED: entry \d+: fingerprint\.committed carries no signature/);
    expect(home.ledger.size()).toBe(size);
  });
});
