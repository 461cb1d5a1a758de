// Evidence for a fingerprint claim. A real suspect model file answers a committed fingerprint
// (crafted: it agrees on 30 of 40 examples), `verify` records the test, and `evidence export`
// proves the fingerprint commitment, its seal, its calibration and the suspect's appearances.
// `evidence verify` re-checks offline: the p-value from the counts (statistics.ts, not the code
// verify used), the seal before the verification, the after-the-fact rule; with the set revealed
// (a dispute), the opening against the committed digest and a fresh query of the suspect file.
// The attacks: an exporter who committed after the suspect appeared is refused; a bundle whose
// revealed set was swapped (re-signed by the owner) and one that hides the appearance are rejected.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalJsonBytes, type JsonObject } from '../../ledger/index.js';
import { exportEvidence, formatBundleJson, IN_TOTO_PAYLOAD_TYPE, parseSignerKey, readEnvelope, signEnvelope, dsseKeyId, verifyEvidence } from '../../src/evidence/index.js';
import { binomialTail } from '../../src/evidence/statistics.js';
import { revealFingerprintOpening } from '../../src/fingerprint/index.js';
import { saveLayersModel } from '../../src/formats/index.js';
import { loadMnist } from '../../src/formats/mnist.js';
import { identifyModel, registerModel } from '../../src/lineage/index.js';
import { appendRecord, verificationRecorded } from '../../src/records/index.js';
import { ownerRecordSigner } from '../../src/home/index.js';
import { selectBackend } from '../../src/train/backend.js';
import { predictClasses } from '../../src/train/evaluate.js';
import { buildMnistCnn } from '../../src/train/mnist-cnn.js';
import { decideOwnership } from '../../src/verify/decision.js';
import { openLocalClassifier } from '../../src/verify/local-classifiers.js';
import { makeFixture, type Fixture } from '../evidence/fixture.js';
import { commitCrafted, openFingerprintTest, RECIPE_KIND, type FingerprintOpening } from './crafted.js';

const N = 40;
const AGREE = 30;

describe('fingerprint evidence', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hallmark-fp-evidence-'));
  const suspect = join(dir, 'suspect');
  let opening: FingerprintOpening;

  beforeAll(async () => {
    await selectBackend('wasm');
    const model = buildMnistCnn(31337);
    await saveLayersModel(model, suspect);
    const mnist = await loadMnist({ seed: 0 });
    const bytes = Uint8Array.from(mnist.test.images.subarray(0, N * 784), (v) => Math.round(v * 255));
    const answers = Array.from(predictClasses(model, { images: Float32Array.from(bytes, (v) => v / 255), count: N, shape: [N, 28, 28, 1] }));
    model.dispose();
    const recipe = { kind: RECIPE_KIND, architecture: 'mnist-cnn' as const, input: [28, 28, 1] as const, classes: 10, data: { dataset: 'cd'.repeat(32), from: 0, count: 1 }, epochs: 1, batchSize: 1, learningRate: 0.001 };
    opening = {
      parameters: { n: N, classes: 10, height: 28, width: 28, channels: 1, norm: 'linf', epsilon: 0.25, steps: 1, candidates: N, dataset: { name: 'mnist', sha256: 'cd'.repeat(32) } },
      recipes: { surrogates: [{ ...recipe, role: 'surrogate', teacher: 'x', seed: 1 }], references: [{ ...recipe, role: 'reference', seed: 2 }] },
      set: { images: bytes, targets: answers.map((t, i) => (i < AGREE ? t : (t + 1) % 10)) },
      salt: new Uint8Array(randomBytes(32)),
    };
  }, 120_000);

  /** A home with a sealed watermark commitment, the fingerprint of its marked model, and a real fingerprint verification of the suspect. */
  async function setUp(tag: string, o: { registerSuspectFirst?: boolean } = {}): Promise<{ f: Fixture; fIndex: number; vIndex: number }> {
    const f = await makeFixture(tag);
    const h = { dir: f.dir, ledger: f.home.ledger, ownerVerifierKey: f.home.ownerVerifierKey };
    if (o.registerSuspectFirst) {
      const info = await identifyModel(suspect);
      registerModel(h.ledger, { model: info.descriptor, format: info.format, tensors: info.tensors });
    }
    const signer = ownerRecordSigner(f.home);
    const fIndex = await commitCrafted(h, signer, opening, f.passphrase, { model: f.marked, rates: [0.1, 0.14, 0.12] });
    // What verify computes (the after-the-fact rule is bypassed here on purpose for the attack case).
    const test = await openFingerprintTest(h, f.passphrase, fIndex);
    const classifier = await openLocalClassifier(suspect);
    const r = await test.run(classifier);
    await classifier.close();
    expect(r.matches).toBe(AGREE);
    const info = await identifyModel(suspect);
    const committed = f.home.ledger.get(f.commitmentIndex).entry.payload as { commitment: string };
    const v = appendRecord(h.ledger, verificationRecorded, {
      schema: 'hallmark/verification.recorded/v1', model: f.marked,
      suspect: { kind: 'file', descriptor: { name: 'suspect', digest: { sha256: info.descriptor.digest.sha256 }, mediaType: 'application/vnd.tfjs' } },
      method: 'black-box', commitment: { index: f.commitmentIndex, commitment: committed.commitment }, ownerKey: f.home.ownerVerifierKey,
      fingerprint: { commitment: r.commitment, n: r.n, matches: r.matches, classes: r.classes, chanceRate: r.chanceRate, nullDistribution: [...r.nullDistribution], calibration: r.calibration, pValue: r.pValue },
      alpha: 1e-6, owned: decideOwnership([{ name: 'fingerprint', log10PValue: r.log10PValue }], 1e-6).owned,
    } as never, signer, 'hallmark');
    return { f, fIndex, vIndex: v.index };
  }

  const fixtures: Fixture[] = [];
  afterAll(() => fixtures.forEach((f) => f.home.close()));

  it('export proves the fingerprint result; evidence verify recomputes it offline, and re-queries the suspect with a revealed set', async () => {
    const { f, fIndex, vIndex } = await setUp('fp1');
    fixtures.push(f);
    const h = { dir: f.dir, ledger: f.home.ledger, ownerVerifierKey: f.home.ownerVerifierKey };
    const secret = join(dir, 'secret');
    await exportEvidence({ ledger: h.ledger, verificationIndex: vIndex, ownerSignerKey: f.home.readOwnerSignerKey(), opening: f.opening, outDir: secret, trust: { owner: h.ownerVerifierKey } });
    const stmt = JSON.parse(Buffer.from(readEnvelope(JSON.parse(readFileSync(join(secret, 'evidence.json'), 'utf8')), 'x').payload, 'base64').toString('utf8')) as { predicate: { fingerprint: Record<string, unknown> } };
    expect(Object.keys(stmt.predicate.fingerprint).sort()).toEqual(['appearances', 'calibration', 'checkpoint', 'commitment', 'consistency']);
    expect(JSON.stringify(stmt)).not.toMatch(/targets/); // the set stays secret unless revealed
    const kept = await verifyEvidence(secret);
    // The p-value the verifier reports is its own: P[Binomial(40, 0.14) >= 30].
    expect(kept.fingerprint).toMatchObject({ commitmentIndex: fIndex, n: N, matches: AGREE, chanceRate: 0.14, revealed: false });
    expect(kept.fingerprint!.recomputedPValue / binomialTail(N, 0.14, AGREE)).toBeCloseTo(1, 12);
    expect(kept.checks.join('\n')).toMatch(/fingerprint sealed by checkpoint \d+ .*before verification entry/);
    expect(kept.checks.join('\n')).toMatch(/after-the-fact rule/);

    const revealed = join(dir, 'revealed');
    const fingerprintOpening = await revealFingerprintOpening(h, f.passphrase, fIndex);
    await exportEvidence({ ledger: h.ledger, verificationIndex: vIndex, ownerSignerKey: f.home.readOwnerSignerKey(), opening: f.opening, fingerprintOpening, outDir: revealed, trust: { owner: h.ownerVerifierKey } });
    const third = await verifyEvidence(revealed, { suspect, ownerKey: h.ownerVerifierKey, logKey: h.ledger.verifierKey });
    expect(third.fingerprint).toMatchObject({ revealed: true, requeried: { matches: AGREE } });
    expect(third.checks.join('\n')).toMatch(/revealed fingerprint set \(40 examples.*opens the commitment/);
    expect(third.checks.join('\n')).toMatch(/suspect re-queried with the revealed fingerprint .*30\/40 matches, as recorded/);

    // A swapped set in a bundle the owner re-signs: it no longer opens the commitment.
    const env = JSON.parse(readFileSync(join(revealed, 'evidence.json'), 'utf8')) as { payload: string };
    const body = JSON.parse(Buffer.from(env.payload, 'base64').toString('utf8')) as { predicate: { fingerprint: { opening: { targets: number[] } } } };
    body.predicate.fingerprint.opening.targets = body.predicate.fingerprint.opening.targets.map((t) => (t + 1) % 10);
    const owner = parseSignerKey(f.home.readOwnerSignerKey());
    writeFileSync(join(revealed, 'evidence.json'), formatBundleJson(signEnvelope(IN_TOTO_PAYLOAD_TYPE, canonicalJsonBytes(body as unknown as JsonObject), [{ keyid: dsseKeyId(owner), seed: owner.seed }])));
    await expect(verifyEvidence(revealed)).rejects.toMatchObject({ code: 'EVIDENCE_VERIFY_FAILED', message: expect.stringMatching(/revealed fingerprint set does not open the commitment/) });
  }, 900_000);

  it('after the fact: export refuses a fingerprint committed after the suspect appeared', async () => {
    const { f, fIndex, vIndex } = await setUp('fp2', { registerSuspectFirst: true });
    fixtures.push(f);
    const h = { ledger: f.home.ledger, ownerVerifierKey: f.home.ownerVerifierKey };
    await expect(exportEvidence({ ledger: h.ledger, verificationIndex: vIndex, ownerSignerKey: f.home.readOwnerSignerKey(), opening: f.opening, outDir: join(dir, 'late'), trust: { owner: h.ownerVerifierKey } }))
      .rejects.toMatchObject({ code: 'EVIDENCE_INVALID', message: expect.stringMatching(new RegExp(`the suspect appears at entry \\d+, before fingerprint entry ${fIndex}`)) });
  }, 900_000);
});
