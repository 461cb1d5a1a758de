// C2SP tlog-cosignature, Ed25519 "cosignature/v1": a note signature line
// "— <name> base64(keyID(4) || timestamp(u64 BE) || ed25519 signature(64))" over
// "cosignature/v1\ntime <T>\n" followed by the checkpoint body. The key ID is
// SHA-256(name || "\n" || 0x04 || public key)[:4]; vkeys are name+keyid+base64(0x04 || public key).
import * as ed from '@noble/ed25519';
import { sha256, sha512 } from '@noble/hashes/sha2.js';
import { randomBytes } from 'node:crypto';
import { fromBase64, toBase64 } from '../../ledger/index.js';
import { WitnessError } from './errors.js';

ed.hashes.sha512 = sha512;

export const ALG_COSIGNATURE_V1 = 0x04;
const MAX_TIMESTAMP = (1n << 63n) - 1n;

export interface Cosigner {
  readonly name: string;
  readonly keyId: number;
  readonly publicKey: Uint8Array;
  /** Cosigns a checkpoint body at the given POSIX time; returns the signature line (with newline). */
  cosign(checkpointBody: string, timestamp: number): string;
}

export interface CosignatureVerifier {
  readonly name: string;
  readonly keyId: number;
  readonly publicKey: Uint8Array;
  readonly vkey: string;
}

export interface Cosignature {
  readonly name: string;
  readonly keyId: number;
  readonly timestamp: number;
  readonly signature: Uint8Array;
}

const bad = (m: string) => new WitnessError('WITNESS_BAD_KEY', m);
const hex8 = (id: number) => id.toString(16).padStart(8, '0');

function validName(name: string): boolean {
  return name.length > 0 && name.length <= 256 && !/[+\s\p{Cc}]/u.test(name);
}

export function cosignatureKeyId(name: string, publicKey: Uint8Array): number {
  const n = new TextEncoder().encode(name);
  const h = sha256(new Uint8Array([...n, 0x0a, ALG_COSIGNATURE_V1, ...publicKey]));
  return ((h[0]! << 24) | (h[1]! << 16) | (h[2]! << 8) | h[3]!) >>> 0;
}

/** The message a v1 cosignature signs. */
export function cosignedMessage(checkpointBody: string, timestamp: number): Uint8Array {
  if (!Number.isSafeInteger(timestamp) || timestamp < 0) throw new RangeError('timestamp must be a non-negative integer');
  return new TextEncoder().encode(`cosignature/v1\ntime ${timestamp}\n${checkpointBody}`);
}

function splitKey(s: string, what: string): { name: string; keyId: number; data: Uint8Array } {
  const a = s.indexOf('+');
  const b = a < 0 ? -1 : s.indexOf('+', a + 1);
  if (a < 0 || b < 0) throw bad(`malformed ${what}: want name+keyid+base64`);
  const name = s.slice(0, a);
  const id = s.slice(a + 1, b);
  const data = fromBase64(s.slice(b + 1));
  if (!validName(name) || !/^[0-9a-f]{8}$/.test(id) || !data) throw bad(`malformed ${what}`);
  return { name, keyId: parseInt(id, 16), data };
}

export function parseCosignatureVkey(vkey: string): CosignatureVerifier {
  const { name, keyId, data } = splitKey(vkey.trim(), 'witness vkey');
  if (data.length !== 33 || data[0] !== ALG_COSIGNATURE_V1) throw bad(`witness vkey for ${name} is not an Ed25519 cosignature/v1 key (type 0x04)`);
  const publicKey = data.slice(1);
  if (cosignatureKeyId(name, publicKey) !== keyId) throw bad(`witness vkey for ${name}: key id does not match the key`);
  return { name, keyId, publicKey, vkey: vkey.trim() };
}

export function encodeCosignatureVkey(name: string, publicKey: Uint8Array): string {
  return `${name}+${hex8(cosignatureKeyId(name, publicKey))}+${toBase64(Uint8Array.of(ALG_COSIGNATURE_V1, ...publicKey))}`;
}

/** A witness key: "PRIVATE+KEY+name+keyid+base64(0x04 || seed)". */
export function generateCosignerKey(name: string): { signerKey: string; vkey: string } {
  if (!validName(name)) throw new TypeError(`witness name ${JSON.stringify(name)} must be non-empty, without '+' or spaces`);
  const seed = new Uint8Array(randomBytes(32));
  const pub = ed.getPublicKey(seed);
  const signerKey = `PRIVATE+KEY+${name}+${hex8(cosignatureKeyId(name, pub))}+${toBase64(Uint8Array.of(ALG_COSIGNATURE_V1, ...seed))}`;
  return { signerKey, vkey: encodeCosignatureVkey(name, pub) };
}

export function newCosigner(signerKey: string): Cosigner {
  const s = signerKey.trim();
  if (!s.startsWith('PRIVATE+KEY+')) throw bad('malformed witness key: want PRIVATE+KEY+name+keyid+base64');
  const { name, keyId, data } = splitKey(s.slice('PRIVATE+KEY+'.length), 'witness key');
  if (data.length !== 33 || data[0] !== ALG_COSIGNATURE_V1) throw bad('witness key is not an Ed25519 cosignature/v1 key (type 0x04)');
  const seed = data.slice(1);
  const publicKey = ed.getPublicKey(seed);
  if (cosignatureKeyId(name, publicKey) !== keyId) throw bad('witness key: key id does not match the key');
  return {
    name,
    keyId,
    publicKey,
    cosign(body, timestamp) {
      const sig = ed.sign(cosignedMessage(body, timestamp), seed);
      const blob = new Uint8Array(4 + 8 + 64);
      const dv = new DataView(blob.buffer);
      dv.setUint32(0, keyId);
      dv.setBigUint64(4, BigInt(timestamp));
      blob.set(sig, 12);
      return `\u2014 ${name} ${toBase64(blob)}\n`;
    },
  };
}

/** Parses one signature line as a v1 cosignature (76 bytes after the name). */
export function parseCosignatureLine(line: string): Cosignature | undefined {
  const m = /^\u2014 (\S+) ([A-Za-z0-9+/=]+)\n?$/.exec(line);
  if (!m) return undefined;
  const blob = fromBase64(m[2]!);
  if (!blob || blob.length !== 76) return undefined;
  const dv = new DataView(blob.buffer, blob.byteOffset);
  const ts = dv.getBigUint64(4);
  if (ts > MAX_TIMESTAMP || ts > BigInt(Number.MAX_SAFE_INTEGER)) return undefined;
  return { name: m[1]!, keyId: dv.getUint32(0), timestamp: Number(ts), signature: blob.slice(12) };
}

/** Verifies a cosignature by a known witness over a checkpoint body. */
export function verifyCosignature(v: CosignatureVerifier, checkpointBody: string, c: Cosignature): boolean {
  if (c.name !== v.name || c.keyId !== v.keyId) return false;
  try {
    return ed.verify(c.signature, cosignedMessage(checkpointBody, c.timestamp), v.publicKey);
  } catch {
    return false;
  }
}

/** Splits a signed note into its body and its signature lines. */
export function splitNote(note: string): { body: string; lines: string[] } {
  const i = note.lastIndexOf('\n\n');
  if (i < 0) throw new WitnessError('WITNESS_BAD_COSIGNATURE', 'not a signed note: no blank line before the signatures');
  return { body: note.slice(0, i + 1), lines: note.slice(i + 2).split('\n').filter((l) => l !== '') };
}
