// The guard's one secret: 32 random bytes kept encrypted in the home by the secrets store
// (scrypt + XChaCha20-Poly1305), created on the first start. Two keys derive from it by HKDF:
// the watermark key (per-client selections and wrong labels) and the journal key (the stored
// watermark sets), and a third, the guard's record-signing key (guard-signer.ts). None is ever
// written, logged or sent anywhere (the signing key's public half is listed in config.json).
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { randomBytes } from 'node:crypto';
import { deriveGuardSigner } from './guard-signer.js';
import type { RecordSigner } from '../records/index.js';
import { hasSecret, loadSecret, saveSecret, type KdfParams } from '../secrets/index.js';

export const GUARD_SECRET_ID = 'guard-key';

export interface GuardKeys {
  readonly watermark: Uint8Array;
  readonly journal: Uint8Array;
  /** Signs guard.committed and extraction.suspected (a service key, guard-signer.ts). */
  readonly signer: RecordSigner;
}

export function deriveGuardKeys(secret: Uint8Array): GuardKeys {
  const enc = new TextEncoder();
  return {
    watermark: hkdf(sha256, secret, undefined, enc.encode('hallmark/guard/watermark/v1'), 32),
    journal: hkdf(sha256, secret, undefined, enc.encode('hallmark/guard/journal/v1'), 32),
    signer: deriveGuardSigner(secret),
  };
}

/** Loads the guard key from the home, creating it on first use. */
export async function openGuardKeys(homeDir: string, passphrase: string, options: { kdf?: KdfParams } = {}): Promise<GuardKeys> {
  if (!hasSecret(homeDir, GUARD_SECRET_ID)) {
    await saveSecret(homeDir, GUARD_SECRET_ID, new Uint8Array(randomBytes(32)), passphrase, options.kdf ? { kdf: options.kdf } : {});
  }
  const secret = await loadSecret(homeDir, GUARD_SECRET_ID, passphrase);
  try {
    return deriveGuardKeys(secret);
  } finally {
    secret.fill(0);
  }
}
