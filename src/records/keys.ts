// Record and evidence signing keys. The owner's key is stored as a signed-note signer key, "PRIVATE+KEY+name+keyid+base64(0x01||seed)".
// DSSE needs the raw Ed25519 seed, so this parses that string; the ledger's own parser keeps the
// seed private to the note signer.
import { computeKeyId, encodeVerifierKey, fromBase64, newVerifier } from '../../ledger/index.js';
import { ed25519PublicKey } from './ed25519.js';
import { RecordError } from './errors.js';

export interface OwnerSigningKey {
  readonly name: string;
  readonly keyId: number;
  /** 32-byte Ed25519 seed (RFC 8032 private key). */
  readonly seed: Uint8Array;
  readonly publicKey: Uint8Array;
  /** The matching verifier key string, name+keyid+base64(0x01||public key). */
  readonly verifierKey: string;
}

export interface OwnerVerifyingKey {
  readonly name: string;
  readonly keyId: number;
  readonly publicKey: Uint8Array;
  readonly verifierKey: string;
}

const badKey = (m: string) => new RecordError('RECORD_BAD_KEY', m);

/** Parses "PRIVATE+KEY+name+keyid+base64"; the base64 may contain '+', so only the first 4 split. */
export function parseSignerKey(skey: string): OwnerSigningKey {
  if (typeof skey !== 'string') throw new TypeError('a signer key must be a string');
  const s = skey.trim();
  const cuts: number[] = [];
  for (let i = 0; i < s.length && cuts.length < 4; i++) if (s[i] === '+') cuts.push(i);
  if (cuts.length < 4 || !s.startsWith('PRIVATE+KEY+')) throw badKey('malformed signer key: want PRIVATE+KEY+name+keyid+base64');
  const name = s.slice(cuts[1]! + 1, cuts[2]);
  const idHex = s.slice(cuts[2]! + 1, cuts[3]);
  const raw = fromBase64(s.slice(cuts[3]! + 1));
  if (!name || /[\s+]/.test(name)) throw badKey('malformed signer key: bad name');
  if (!/^[0-9a-f]{8}$/.test(idHex)) throw badKey('malformed signer key: key id must be 8 lower-case hex digits');
  if (!raw || raw.length !== 33 || raw[0] !== 0x01) throw badKey('malformed signer key: want an Ed25519 key');
  const seed = raw.slice(1);
  const publicKey = ed25519PublicKey(seed);
  const keyId = parseInt(idHex, 16);
  if (computeKeyId(name, publicKey) !== keyId) throw badKey('malformed signer key: key id does not match the key');
  return { name, keyId, seed, publicKey, verifierKey: encodeVerifierKey(name, publicKey) };
}

/** Parses a verifier key string "name+keyid+base64", checking the key id. */
export function parseVerifierKey(vkey: string): OwnerVerifyingKey {
  try {
    const v = newVerifier(vkey);
    return { name: v.name, keyId: v.keyId, publicKey: v.publicKey, verifierKey: encodeVerifierKey(v.name, v.publicKey) };
  } catch (err) {
    throw badKey(`not a verifier key (want name+keyid+base64): ${(err as Error).message}`);
  }
}

/** The DSSE keyid we write: the note key's "name+keyid" (hex), which names one Ed25519 key. */
export function dsseKeyId(k: { name: string; keyId: number }): string {
  return `${k.name}+${k.keyId.toString(16).padStart(8, '0')}`;
}
