// What the tests use of src/fingerprint, in one place.
export { appendFingerprintCommitted, commitFingerprint, encodeFingerprintOpening, fingerprintSecretId, openFingerprintTest, RECIPE_KIND, type FingerprintOpening } from '../../src/fingerprint/index.js';
import { recipeDigests } from '../../src/fingerprint/fingerprint-set.js';
import type { FingerprintOpening } from '../../src/fingerprint/index.js';

export const recipeDigestsFor = (o: FingerprintOpening) => recipeDigests(o.recipes);
