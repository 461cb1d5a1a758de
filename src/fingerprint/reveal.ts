// Revealing a fingerprint for a dispute: the decrypted opening (parameters, recipes, set, salt) as
// the JSON object `evidence export --reveal-fingerprint` puts in the bundle. Anyone holding it
// recomputes the commitment and queries the suspect with the set (evidence verify --suspect).
// Once revealed, the set is public: it is evidence against this suspect, not a secret any more.
import { encodeFingerprintOpening } from './fingerprint-set.js';
import { loadFingerprint, type FingerprintHome } from './verify-fingerprint.js';

export async function revealFingerprintOpening(home: FingerprintHome, passphrase: string, index: number): Promise<unknown> {
  const fp = await loadFingerprint(home, passphrase, index);
  return JSON.parse(new TextDecoder().decode(encodeFingerprintOpening(fp.opening))) as unknown;
}
