// Which key signs the guard's records (guard.committed, extraction.suspected): the guard's own
// service key, not the owner's. The guard is a long-running network service; its key signs only
// these two writer-'service' types, so a compromised guard cannot sign watermark.committed,
// evidence.exported or anything else the owner's key signs, and the owner can see at a glance
// which entries the guard wrote.
//
// The key is an Ed25519 seed derived by HKDF from the guard secret (guard-key.ts), so it is sealed
// by the home's passphrase like the rest and needs no file of its own. Its verifier key
// ("hallmark-guard+<keyid>+<base64>") is entitled through the home's config.json "serviceKeys":
// the guard adds it there at its first start (it was started with the passphrase, i.e. by the
// owner). Readers check records with homeTrust(home), which includes that list; evidence bundles
// name it in predicate.serviceKeys under the owner's signature.
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { encodeVerifierKey } from '../../ledger/index.js';
import { addServiceKey } from '../home/index.js';
import { ed25519PublicKey, type RecordSigner } from '../records/index.js';

export const GUARD_SIGNER_NAME = 'hallmark-guard';

export function deriveGuardSigner(secret: Uint8Array): RecordSigner {
  const seed = hkdf(sha256, secret, undefined, new TextEncoder().encode('hallmark/guard/record-signing/v1'), 32);
  return { seed, verifierKey: encodeVerifierKey(GUARD_SIGNER_NAME, ed25519PublicKey(seed)) };
}

/** Lists the guard's verifier key in the home's config.json serviceKeys; true when it was added now. */
export function enrolGuardSigner(homeDir: string, signer: RecordSigner): boolean {
  return addServiceKey(homeDir, signer.verifierKey);
}
