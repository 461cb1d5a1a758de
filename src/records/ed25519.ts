// Ed25519 through node:crypto (OpenSSL): about 15x faster than the pure-JS verifier, which
// matters when a bundle holds many signatures or a test flips every byte of one.
import { createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';

const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

function privateKey(seed: Uint8Array): KeyObject {
  if (!(seed instanceof Uint8Array) || seed.length !== 32) throw new TypeError('an Ed25519 seed must be a 32-byte Uint8Array');
  return createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' });
}

function publicKeyObject(pub: Uint8Array): KeyObject {
  if (!(pub instanceof Uint8Array) || pub.length !== 32) throw new TypeError('an Ed25519 public key must be a 32-byte Uint8Array');
  return createPublicKey({ key: Buffer.concat([SPKI_PREFIX, pub]), format: 'der', type: 'spki' });
}

export function ed25519PublicKey(seed: Uint8Array): Uint8Array {
  const der = createPublicKey(privateKey(seed)).export({ format: 'der', type: 'spki' });
  return new Uint8Array(der.subarray(der.length - 32));
}

export function ed25519Sign(msg: Uint8Array, seed: Uint8Array): Uint8Array {
  return new Uint8Array(sign(null, msg, privateKey(seed)));
}

/** False for any malformed key or signature; never throws on attacker bytes. */
export function ed25519Verify(sig: Uint8Array, msg: Uint8Array, pub: Uint8Array): boolean {
  if (sig.length !== 64 || pub.length !== 32) return false;
  try {
    return verify(null, msg, publicKeyObject(pub), sig);
  } catch {
    return false;
  }
}
