// What the tests use of src/fingerprint, in one place, and a crafted commitment written the way
// `hallmark fingerprint` writes one (signed by the owner, secret encrypted, calibrated, sealed).
import type { Ledger } from '../../ledger/index.js';
import { recipeDigests } from '../../src/fingerprint/fingerprint-set.js';
import { appendFingerprintCommitted, commitFingerprint, encodeFingerprintOpening, fingerprintSecretId, type FingerprintOpening } from '../../src/fingerprint/index.js';
import { appendRecord, calibrationRecorded, type RecordSigner } from '../../src/records/index.js';
import { saveSecret } from '../../src/secrets/index.js';
import { CALIBRATION_RULE, CALIBRATION_SCHEMA } from '../../src/verify/calibration.js';
export { appendFingerprintCommitted, commitFingerprint, encodeFingerprintOpening, fingerprintSecretId, openFingerprintTest, RECIPE_KIND, type FingerprintOpening } from '../../src/fingerprint/index.js';

export const recipeDigestsFor = (o: FingerprintOpening) => recipeDigests(o.recipes);

/** A calibration.recorded payload of a fingerprint (rates: the fresh references' agreement). */
export function fingerprintCalibration(index: number, commitment: string, n: number, rates: number[]) {
  return {
    schema: CALIBRATION_SCHEMA, commitment: { index, commitment },
    task: { dataset: 'mnist', architecture: 'mnist-cnn', epochs: 2, trainSamples: 3000, batchSize: 64, learningRate: 1e-3 },
    backend: 'test', models: rates.length, seeds: rates.map((_, k) => 1000 + k), cleanAccuracy: rates.map(() => 0.9),
    fingerprint: { n, classes: 10, agreement: rates, max: Math.max(...rates), mean: rates.reduce((s, r) => s + r, 0) / rates.length, recipes: rates.map((_, k) => ({ sha256: k.toString(16).padStart(64, '0') })) },
    rule: CALIBRATION_RULE,
  };
}

/** Commits `opening` as the home's owner would; returns the fingerprint.committed index. */
export async function commitCrafted(h: { dir: string; ledger: Ledger; ownerVerifierKey: string }, signer: RecordSigner, opening: FingerprintOpening, passphrase: string, o: { seal?: boolean; rates?: number[]; model?: string } = {}): Promise<number> {
  const commitment = commitFingerprint(opening);
  await saveSecret(h.dir, fingerprintSecretId(commitment), encodeFingerprintOpening(opening), passphrase, { overwrite: true });
  const index = appendFingerprintCommitted(h.ledger, { model: (o.model ?? `model:sha256:${'aa'.repeat(32)}`) as never, commitment, parameters: opening.parameters, recipes: recipeDigests(opening.recipes), ownerKey: h.ownerVerifierKey }, signer);
  appendRecord(h.ledger, calibrationRecorded, fingerprintCalibration(index, commitment, opening.parameters.n, o.rates ?? [0.1, 0.12, 0.08, 0.1, 0.14]), signer, 'test');
  if (o.seal ?? true) h.ledger.checkpoint();
  return index;
}
