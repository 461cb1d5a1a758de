// C2SP signed notes (https://c2sp.org/signed-note), Ed25519 only, with key strings in the
// format of golang.org/x/mod/sumdb/note: "PRIVATE+KEY+name+keyid+base64(0x01||seed)" and
// "name+keyid+base64(0x01||publickey)".
import * as ed from '@noble/ed25519';
import { sha256, sha512 } from '@noble/hashes/sha2.js';
import { randomBytes } from 'node:crypto';
import { LedgerError } from './errors.js';
import { equalBytes, fromBase64, toBase64 } from './hash.js';

ed.hashes.sha512 = sha512;

const ALG_ED25519 = 0x01;
const MAX_SIGNATURES = 100;
const MAX_NOTE_BYTES = 1 << 20;

export interface NoteSigner {
  readonly name: string;
  readonly keyId: number;
  sign(msg: Uint8Array): Uint8Array;
}

export interface NoteVerifier {
  readonly name: string;
  readonly keyId: number;
  readonly publicKey: Uint8Array;
  verify(msg: Uint8Array, sig: Uint8Array): boolean;
}

export interface NoteSignature {
  readonly name: string;
  readonly keyId: number;
  readonly signature: Uint8Array;
}

export interface Note {
  readonly text: string;
  /** Signatures that verified with a known key. */
  readonly verified: NoteSignature[];
  /** Signatures from keys the caller did not supply; not checked. */
  readonly unverified: NoteSignature[];
}

const badKey = (m: string) => new LedgerError('LEDGER_BAD_KEY', m);
const badNote = (m: string) => new LedgerError('LEDGER_BAD_NOTE', m);

/** A key name is non-empty UTF-8 with no '+' and no white space or control characters. */
function isValidName(name: string): boolean {
  return name.length > 0 && name.length <= 256 && !/[+\s\p{Cc}]/u.test(name);
}

/** key id = first 4 bytes (big-endian) of SHA-256(name || "\n" || alg || public key). */
export function computeKeyId(name: string, publicKey: Uint8Array): number {
  const n = new TextEncoder().encode(name);
  const buf = new Uint8Array(n.length + 2 + publicKey.length);
  buf.set(n, 0);
  buf[n.length] = 0x0a;
  buf[n.length + 1] = ALG_ED25519;
  buf.set(publicKey, n.length + 2);
  const h = sha256(buf);
  return ((h[0]! << 24) | (h[1]! << 16) | (h[2]! << 8) | h[3]!) >>> 0;
}

const hex8 = (id: number) => id.toString(16).padStart(8, '0');

/** Splits "name+keyid+data"; the base64 data may itself contain '+'. */
function parseKeyParts(s: string, what: string): { name: string; keyId: number; key: Uint8Array } {
  const a = s.indexOf('+');
  const b = a < 0 ? -1 : s.indexOf('+', a + 1);
  if (a < 0 || b < 0) throw badKey(`malformed ${what} key: want name+keyid+base64`);
  const name = s.slice(0, a);
  const idHex = s.slice(a + 1, b);
  const data = s.slice(b + 1);
  if (!isValidName(name)) throw badKey(`malformed ${what} key: bad name`);
  if (!/^[0-9a-f]{8}$/.test(idHex)) throw badKey(`malformed ${what} key: key id must be 8 lower-case hex digits`);
  const raw = fromBase64(data);
  if (!raw || raw.length !== 33 || raw[0] !== ALG_ED25519) throw badKey(`malformed ${what} key: want an Ed25519 key`);
  return { name, keyId: parseInt(idHex, 16), key: raw.slice(1) };
}

function parseSignerKey(skey: string): { name: string; keyId: number; key: Uint8Array } {
  const prefix = 'PRIVATE+KEY+';
  if (typeof skey !== 'string' || !skey.trim().startsWith(prefix)) throw badKey('malformed signer key: want PRIVATE+KEY+name+keyid+base64');
  return parseKeyParts(skey.trim().slice(prefix.length), 'signer');
}

/** Parses a verifier key string "name+keyid+base64". */
export function newVerifier(vkey: string): NoteVerifier {
  if (typeof vkey !== 'string') throw badKey('a verifier key must be a string');
  const { name, keyId, key } = parseKeyParts(vkey.trim(), 'verifier');
  if (computeKeyId(name, key) !== keyId) throw badKey('malformed verifier key: key id does not match the key');
  return {
    name,
    keyId,
    publicKey: key,
    verify: (msg, sig) => {
      try {
        return sig.length === 64 && ed.verify(sig, msg, key);
      } catch {
        return false;
      }
    },
  };
}

/** Parses a signer key string "PRIVATE+KEY+name+keyid+base64". */
export function newSigner(skey: string): NoteSigner {
  const { name, keyId, key: seed } = parseSignerKey(skey);
  const pub = ed.getPublicKey(seed);
  if (computeKeyId(name, pub) !== keyId) throw badKey('malformed signer key: key id does not match the key');
  return { name, keyId, sign: (msg) => ed.sign(msg, seed) };
}

/** The verifier key string for a signer key string. */
export function verifierKeyFor(skey: string): string {
  const { name, key: seed } = parseSignerKey(skey);
  return encodeVerifierKey(name, ed.getPublicKey(seed));
}

export function encodeVerifierKey(name: string, publicKey: Uint8Array): string {
  const data = new Uint8Array(33);
  data[0] = ALG_ED25519;
  data.set(publicKey, 1);
  return `${name}+${hex8(computeKeyId(name, publicKey))}+${toBase64(data)}`;
}

/** Generates a fresh Ed25519 key pair from the OS RNG, as note key strings. */
export function generateNoteKey(name: string): { signerKey: string; verifierKey: string } {
  if (!isValidName(name)) throw new TypeError(`key name ${JSON.stringify(name)} must be non-empty, without '+' or spaces`);
  const seed = new Uint8Array(randomBytes(32));
  const pub = ed.getPublicKey(seed);
  const data = new Uint8Array(33);
  data[0] = ALG_ED25519;
  data.set(seed, 1);
  const signerKey = `PRIVATE+KEY+${name}+${hex8(computeKeyId(name, pub))}+${toBase64(data)}`;
  seed.fill(0);
  return { signerKey, verifierKey: encodeVerifierKey(name, pub) };
}

function checkText(text: string): void {
  if (!text.endsWith('\n')) throw badNote('note text must end in a newline');
  if (/[\x00-\x09\x0b-\x1f\x7f]/.test(text)) throw badNote('note text must not contain control characters other than newline');
  if (text.includes('\n\n')) throw badNote('note text must not contain a blank line');
}

/** Signs text with each signer; returns the signed note. */
export function signNote(text: string, ...signers: NoteSigner[]): string {
  checkText(text);
  const msg = new TextEncoder().encode(text);
  let out = `${text}\n`;
  for (const s of signers) {
    const sig = s.sign(msg);
    const blob = new Uint8Array(4 + sig.length);
    new DataView(blob.buffer).setUint32(0, s.keyId);
    blob.set(sig, 4);
    out += `\u2014 ${s.name} ${toBase64(blob)}\n`;
  }
  return out;
}

/**
 * Opens a signed note: parses it, checks signatures from known verifiers, and requires at least
 * one of them to verify. A bad signature from a known key is an error, not a skipped line.
 */
export function openNote(signed: string, verifiers: NoteVerifier[]): Note {
  if (typeof signed !== 'string') throw badNote('a signed note must be a string');
  if (Buffer.byteLength(signed) > MAX_NOTE_BYTES) throw badNote('signed note is too large');
  const split = signed.lastIndexOf('\n\n');
  if (split < 0) throw badNote('malformed note: no blank line before the signatures');
  const text = signed.slice(0, split + 1);
  checkText(text);
  const sigBlock = signed.slice(split + 2);
  if (!sigBlock.endsWith('\n')) throw badNote('malformed note: signature block must end in a newline');
  const lines = sigBlock.slice(0, -1).split('\n');
  if (lines.length > MAX_SIGNATURES) throw badNote('too many signatures');
  const msg = new TextEncoder().encode(text);
  const verified: NoteSignature[] = [];
  const unverified: NoteSignature[] = [];
  for (const line of lines) {
    const m = /^\u2014 ([^ ]+) ([A-Za-z0-9+/=]+)$/.exec(line);
    if (!m) throw badNote('malformed signature line');
    const name = m[1]!;
    const blob = fromBase64(m[2]!);
    if (!isValidName(name) || !blob || blob.length < 5) throw badNote('malformed signature line');
    const keyId = new DataView(blob.buffer, blob.byteOffset).getUint32(0);
    const sig: NoteSignature = { name, keyId, signature: blob.slice(4) };
    const v = verifiers.find((x) => x.name === name && x.keyId === keyId);
    if (!v) {
      unverified.push(sig);
      continue;
    }
    if (verified.some((x) => x.name === name && x.keyId === keyId)) throw badNote(`duplicate signature from ${name}`);
    if (!v.verify(msg, sig.signature)) throw new LedgerError('LEDGER_BAD_SIGNATURE', `signature by ${name}+${hex8(keyId)} does not verify`);
    verified.push(sig);
  }
  if (verified.length === 0) throw new LedgerError('LEDGER_BAD_SIGNATURE', 'note has no signature from a known key');
  return { text, verified, unverified };
}

export function publicKeysEqual(a: NoteVerifier, b: NoteVerifier): boolean {
  return a.name === b.name && a.keyId === b.keyId && equalBytes(a.publicKey, b.publicKey);
}
