// Encrypted-at-rest storage of watermark secrets in the home folder (scrypt + XChaCha20-Poly1305).
export { SecretError, type SecretErrorCode } from './errors.js';
export { DEFAULT_KDF, type KdfParams } from './format.js';
export { hasSecret, loadSecret, saveSecret, secretPath, secretsDir, type SaveSecretOptions } from './store.js';
export { PASSPHRASE_ENV, resolvePassphrase, type PassphraseSource } from './passphrase.js';
export { ownerPublicKeyFromVerifierKey, ownerSeedFromSignerKey } from './owner-key.js';
export { checkPassphraseSync, isSealedText, newSalt, openSealedText, sealText } from './sealed-text.js';
