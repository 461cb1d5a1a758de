// Bridges the home folder's owner key strings (signed-note format, ledger/note.ts) to the raw
// bytes the core derives watermark roots from.
import { fromBase64, newSigner, newVerifier } from '../../ledger/index.js';

/** The 32-byte Ed25519 seed inside "PRIVATE+KEY+name+keyid+base64(0x01 || seed)".
 *  Malformed keys throw LEDGER_BAD_KEY (from the ledger's own parser). */
export function ownerSeedFromSignerKey(signerKey: string): Uint8Array {
  newSigner(signerKey); // validates the shape and that the key id matches the key
  const data = signerKey.trim().split('+').slice(4).join('+');
  const raw = fromBase64(data);
  if (!raw || raw.length !== 33) throw new TypeError('unreachable: newSigner accepted a key without a 33-byte payload');
  return raw.slice(1);
}

/** The 32-byte Ed25519 public key inside a verifier key string "name+keyid+base64(0x01 || key)". */
export function ownerPublicKeyFromVerifierKey(verifierKey: string): Uint8Array {
  return Uint8Array.from(newVerifier(verifierKey).publicKey);
}
