// Fingerprints (Lukas, Zhang & Kerschbaum, ICLR 2021): ownership evidence that needs no change to
// the model and survives distillation. Before release the owner commits to inputs that models
// derived from theirs answer their way and independently trained models do not.
//   createFingerprint          the whole `hallmark fingerprint` job                   create-fingerprint.ts
//   generateConferrable        the ensemble objective over surrogates and references  generate.ts
//   trainFromRecipe            surrogate / reference models, recorded by digest        recipes.ts
//   commitFingerprint          the commitment to the secret set                       fingerprint-set.ts
//   appendFingerprintCommitted the one writer of fingerprint.committed                record-committed.ts
//   runFingerprintCalibration  the null on fresh reference models                     calibrate-fingerprint.ts
//   openFingerprintTest        what `verify` runs; refuses after-the-fact fingerprints verify-fingerprint.ts
export { FingerprintError, type FingerprintErrorCode } from './errors.js';
export { createFingerprint, DEFAULT_BUDGETS, type FingerprintOptions, type FingerprintSummary, type TrainingBudget } from './create-fingerprint.js';
export { generateConferrable, type GeneratedSet, type GenerateOptions } from './generate.js';
export { architectureFor, buildModel, decodeRecipe, digestRecipe, RECIPE_KIND, trainFromRecipe, type Recipe } from './recipes.js';
export { commitFingerprint, decodeFingerprintOpening, encodeFingerprintOpening, setDigest, setImages, type FingerprintOpening, type FingerprintSet } from './fingerprint-set.js';
export { appendFingerprintCommitted, decodeFingerprintCommitted, readFingerprintCommitments, readFingerprintCommittedAt, SCHEMA as FINGERPRINT_SCHEMA, TYPE as FINGERPRINT_COMMITTED, type FingerprintCommitted, type FingerprintParameters } from './record-committed.js';
export { calibrationBudgets, findFingerprintCalibration, measureFingerprintNull, runFingerprintCalibration, type FingerprintCalibrationOptions } from './calibrate-fingerprint.js';
export { admitSuspect, assessFingerprint, classifyFingerprint, findFingerprintCommitted, fingerprintTrust, firstAppearance, loadFingerprint, openFingerprintTest, type FingerprintHome, type LoadedFingerprint } from './verify-fingerprint.js';
export { checkFingerprintPassphrase, fingerprintSecretId } from './secret-file.js';
export { revealFingerprintOpening } from './reveal.js';
