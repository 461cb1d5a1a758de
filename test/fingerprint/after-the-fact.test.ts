// The known failure of fingerprinting, performed: an accuser who already holds a model crafts
// inputs that this model answers "their way" (here the strongest version: the targets ARE the
// suspect's own answers, 100% agreement) and commits to them afterwards. Without the rule the
// test would claim ownership at any alpha; the verifier must refuse because the commitment is
// later than the suspect's first appearance in the ledger (registration, derivation or an earlier
// verification). The control commits first and shows the same set WOULD be accepted, so the
// refusal comes from the ordering and nothing else. Unsealed commitments and a swapped secret
// set are refused too.
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VERIFICATION_SCHEMA } from '../../src/evidence/verification-record.js';
import { commitCrafted, commitFingerprint, encodeFingerprintOpening, fingerprintSecretId, openFingerprintTest, RECIPE_KIND, type FingerprintOpening } from './crafted.js';
import { loadLayersModel, saveLayersModel } from '../../src/formats/index.js';
import { loadMnist } from '../../src/formats/mnist.js';
import { initHome, openHome, ownerRecordSigner, type Home } from '../../src/home/index.js';
import { identifyModel, registerModel } from '../../src/lineage/index.js';
import { saveSecret } from '../../src/secrets/index.js';
import { selectBackend } from '../../src/train/backend.js';
import { predictClasses } from '../../src/train/evaluate.js';
import { buildMnistCnn } from '../../src/train/mnist-cnn.js';
import { verifySuspect } from '../../src/verify/verify-suspect.js';
import { hallmark } from '../helpers/cli.js';

const PASS = 'after the fact';
const N = 50;

describe('after-the-fact accusation', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hallmark-fp-late-'));
  const suspect = join(dir, 'suspect');
  let crafted: FingerprintOpening;
  let suspectInfo: Awaited<ReturnType<typeof identifyModel>>;
  const homes: Home[] = [];

  function newHome(name: string): { home: Home; h: { dir: string; ledger: Home['ledger']; ownerVerifierKey: string } } {
    const d = join(dir, name);
    initHome(d);
    const home = openHome(d);
    homes.push(home);
    return { home, h: { dir: d, ledger: home.ledger, ownerVerifierKey: home.ownerVerifierKey } };
  }

  /** What an accuser can always do: commit (and seal, and calibrate) a set after the fact. */
  async function commitCraftedIn(h: { dir: string; ledger: Home['ledger']; ownerVerifierKey: string }, opening: FingerprintOpening, seal = true): Promise<number> {
    const home = homes.find((x) => x.ledger === h.ledger)!;
    return commitCrafted(h, ownerRecordSigner(home), opening, PASS, { seal });
  }

  beforeAll(async () => {
    await selectBackend('wasm');
    const model = buildMnistCnn(4242);
    await saveLayersModel(model, suspect);
    const mnist = await loadMnist({ seed: 0 });
    const images = mnist.test.images.subarray(0, N * 784);
    const answers = predictClasses(await loadLayersModel(suspect), { images, count: N, shape: [N, 28, 28, 1] });
    model.dispose();
    crafted = {
      parameters: { n: N, classes: 10, height: 28, width: 28, channels: 1, norm: 'linf', epsilon: 0.25, steps: 1, candidates: N, dataset: { name: 'mnist', sha256: 'cd'.repeat(32) } },
      recipes: {
        surrogates: [{ kind: RECIPE_KIND, role: 'surrogate', architecture: 'mnist-cnn', input: [28, 28, 1], classes: 10, teacher: 'x', data: { dataset: 'cd'.repeat(32), from: 0, count: 1 }, epochs: 1, batchSize: 1, learningRate: 0.001, seed: 1 }],
        references: [{ kind: RECIPE_KIND, role: 'reference', architecture: 'mnist-cnn', input: [28, 28, 1], classes: 10, data: { dataset: 'cd'.repeat(32), from: 0, count: 1 }, epochs: 1, batchSize: 1, learningRate: 0.001, seed: 2 }],
      },
      // Quantised exactly as the verifier will query them.
      set: { images: Uint8Array.from(images, (v) => Math.round(v * 255)), targets: [] },
      salt: new Uint8Array(randomBytes(32)),
    };
    const q = Float32Array.from(crafted.set.images, (v) => v / 255);
    const m = await loadLayersModel(suspect);
    crafted = { ...crafted, set: { ...crafted.set, targets: Array.from(predictClasses(m, { images: q, count: N, shape: [N, 28, 28, 1] })) } };
    m.dispose();
    expect(answers.length).toBe(N);
    suspectInfo = await identifyModel(suspect);
  }, 120_000);
  afterAll(() => homes.forEach((h) => h.close()));

  it('control: a set committed BEFORE the suspect appears is tested, and this crafted one would claim it', async () => {
    const { h, home } = newHome('control');
    const index = await commitCraftedIn(h, crafted);
    const test = await openFingerprintTest(h, PASS, index);
    const r = await verifySuspect({ home: h, passphrase: PASS, suspect: { path: suspect }, fingerprint: test, signer: ownerRecordSigner(home) });
    expect(r.fingerprint!.matches).toBe(N);
    expect(r.decision.owned).toBe(true);
    expect(r.record.fingerprint).toMatchObject({ commitment: { index }, n: N, matches: N, chanceRate: 0.14, calibration: index + 1 });
    expect(r.mark).toBeUndefined();
  });

  it('refused when the suspect was registered before the commitment (library and CLI, exit 1)', async () => {
    const { h, home } = newHome('registered');
    const reg = registerModel(h.ledger, { model: suspectInfo.descriptor, format: suspectInfo.format, tensors: suspectInfo.tensors }).index;
    const index = await commitCraftedIn(h, crafted);
    expect(reg).toBeLessThan(index);
    const test = await openFingerprintTest(h, PASS, index);
    const size = h.ledger.size();
    await expect(verifySuspect({ home: h, passphrase: PASS, suspect: { path: suspect }, fingerprint: test, signer: ownerRecordSigner(homes[homes.length - 1]!) })).rejects.toMatchObject({ code: 'FINGERPRINT_AFTER_SUSPECT' });
    expect(h.ledger.size()).toBe(size); // nothing recorded
    home.close();
    homes.splice(homes.indexOf(home), 1);
    const cli = hallmark(['verify', suspect, '--fingerprint', String(index)], { home: h.dir, env: { HALLMARK_PASSPHRASE: PASS } });
    expect(cli.status).toBe(1);
    expect(cli.stderr).toMatch(/^hallmark: FINGERPRINT_AFTER_SUSPECT: the suspect first appears in the ledger at entry \d+, before fingerprint.committed #\d+/);
  });

  it('refused when the accuser had verified the suspect (verification.recorded) before committing', async () => {
    const { h } = newHome('verified-first');
    h.ledger.append({
      type: 'verification.recorded', actor: 'test',
      payload: { schema: VERIFICATION_SCHEMA, model: `model:sha256:${'aa'.repeat(32)}`, suspect: { kind: 'file', descriptor: { name: 'renamed', digest: { sha256: suspectInfo.descriptor.digest.sha256 } } }, method: 'black-box', commitment: { index: 0, commitment: '00'.repeat(32) }, ownerKey: 'k', trigger: { n: 1, matches: 0, classes: 10, chanceRate: 0.1, nullSource: 'uniform', pValue: 1 }, alpha: 1e-6, owned: false },
    });
    const index = await commitCraftedIn(h, crafted);
    const test = await openFingerprintTest(h, PASS, index);
    await expect(verifySuspect({ home: h, passphrase: PASS, suspect: { path: suspect }, fingerprint: test, signer: ownerRecordSigner(homes[homes.length - 1]!) })).rejects.toMatchObject({ code: 'FINGERPRINT_AFTER_SUSPECT' });
  });

  it('refused when the commitment is not sealed by a signed checkpoint, or the stored set was swapped', async () => {
    const { h } = newHome('unsealed');
    const index = await commitCraftedIn(h, crafted, false);
    await expect(openFingerprintTest(h, PASS, index)).rejects.toMatchObject({ code: 'FINGERPRINT_UNSEALED' });
    h.ledger.checkpoint();
    const swapped = { ...crafted, set: { ...crafted.set, targets: crafted.set.targets.map((t) => (t + 1) % 10) } };
    await saveSecret(h.dir, fingerprintSecretId(commitFingerprint(crafted)), encodeFingerprintOpening(swapped), PASS, { overwrite: true });
    await expect(openFingerprintTest(h, PASS, index)).rejects.toMatchObject({ code: 'FINGERPRINT_TAMPERED' });
  });
});
