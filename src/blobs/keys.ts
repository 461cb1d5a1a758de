// The blob store's keys. One 32-byte master comes from the home's passphrase (the same scrypt,
// with the same parameters, as the home's sealed keys, but under the blob store's own salt, so
// it is never the key that seals owner.key) or from a key file of 32 random bytes. HKDF-SHA256
// splits it into an encryption key (XChaCha20-Poly1305 of every chunk), a naming key (the
// storage address is HMAC(naming key, plaintext SHA-256)) and a 16-byte key id kept beside the
// salt, so a wrong passphrase is told apart from a damaged blob.
import { hkdf } from '@noble/hashes/hkdf.js';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { randomBytes, scrypt as scryptCb, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { DEFAULT_KDF, type KdfParams } from '../secrets/index.js';
import { BlobError } from './errors.js';

const scrypt = promisify(scryptCb) as (pw: Buffer, salt: Uint8Array, len: number, opts: object) => Promise<Buffer>;
const te = new TextEncoder();

/** What is stored beside the blobs (never secret): how to derive, and how to recognise the key. */
export interface KeyInfo {
  readonly version: 1;
  readonly source: 'passphrase' | 'key-file';
  readonly kdf: KdfParams;
  /** 16 random bytes, hex. */
  readonly salt: string;
  /** HKDF(master, "key id"), 16 bytes hex. */
  readonly keyId: string;
}

export interface BlobKeys {
  readonly enc: Uint8Array;
  readonly naming: Uint8Array;
  readonly keyId: string;
}

/** Where the master key comes from. */
export type KeySource = { readonly passphrase: string } | { readonly keyFile: string };

export function newKeyInfo(source: KeySource): Omit<KeyInfo, 'keyId'> {
  return { version: 1, source: 'passphrase' in source ? 'passphrase' : 'key-file', kdf: DEFAULT_KDF, salt: randomBytes(16).toString('hex') };
}

/** A key file holds 32 random bytes as 64 hex digits (whitespace around them is ignored). */
export function readKeyFile(path: string): Uint8Array {
  let text: string;
  try {
    text = readFileSync(path, 'utf8').trim();
  } catch (err) {
    throw new BlobError('BLOB_NO_KEY', `cannot read the blob key file ${path}: ${(err as NodeJS.ErrnoException).code ?? 'unreadable'}`);
  }
  if (!/^[0-9a-f]{64}$/i.test(text)) throw new BlobError('BLOB_BAD_KEY', `the blob key file ${path} must hold 32 bytes as 64 hex digits`);
  return new Uint8Array(Buffer.from(text, 'hex'));
}

const cache = new Map<string, Uint8Array>();

async function master(source: KeySource, info: Omit<KeyInfo, 'keyId'>): Promise<Uint8Array> {
  const salt = Buffer.from(info.salt, 'hex');
  if ('keyFile' in source) return hkdf(sha256, readKeyFile(source.keyFile), salt, te.encode('hallmark/blobs/v1/key-file'), 32);
  if (typeof source.passphrase !== 'string' || source.passphrase.length === 0) throw new BlobError('BLOB_NO_KEY', 'the blob store needs a passphrase or a key file');
  const pw = Buffer.from(source.passphrase.normalize('NFC'), 'utf8');
  const id = Buffer.from(sha256(Buffer.concat([pw, salt, Buffer.from(`${info.kdf.N}/${info.kdf.r}/${info.kdf.p}`)]))).toString('hex');
  const hit = cache.get(id);
  if (hit) return hit.slice();
  const out = new Uint8Array(await scrypt(pw, salt, 32, { N: info.kdf.N, r: info.kdf.r, p: info.kdf.p, maxmem: 2 ** 28 + 2 ** 20 }));
  pw.fill(0);
  if (cache.size > 16) cache.clear();
  cache.set(id, out.slice());
  return out;
}

/** Derives the keys; `info.keyId`, when given, must match (else BLOB_BAD_KEY). */
export async function deriveBlobKeys(source: KeySource, info: Omit<KeyInfo, 'keyId'> & { keyId?: string }): Promise<BlobKeys> {
  if (info.source !== ('passphrase' in source ? 'passphrase' : 'key-file')) {
    throw new BlobError('BLOB_BAD_KEY', `this blob store was created with a ${info.source === 'key-file' ? 'key file' : 'passphrase'}; open it with one (set ${info.source === 'key-file' ? 'HALLMARK_BLOB_KEY_FILE' : 'HALLMARK_PASSPHRASE'})`);
  }
  const m = await master(source, info);
  const split = (label: string, n: number) => hkdf(sha256, m, undefined, te.encode(`hallmark/blobs/v1/${label}`), n);
  const keys = { enc: split('encrypt', 32), naming: split('naming', 32), keyId: Buffer.from(split('key id', 16)).toString('hex') };
  m.fill(0);
  if (info.keyId !== undefined && !timingSafeEqual(Buffer.from(info.keyId, 'hex'), Buffer.from(keys.keyId, 'hex'))) {
    throw new BlobError('BLOB_BAD_KEY', `the ${info.source === 'key-file' ? 'key file' : 'passphrase'} does not open this blob store (its key id differs); use the one it was created with`);
  }
  return keys;
}

/** The storage address of a plaintext digest: HMAC-SHA256(naming key, digest), hex. */
export function storageKey(keys: BlobKeys, sha256Hex: string): string {
  return Buffer.from(hmac(sha256, keys.naming, Buffer.from(sha256Hex, 'hex'))).toString('hex');
}

export function checkKeyInfo(raw: unknown): KeyInfo {
  const k = raw as KeyInfo;
  const ok = k && k.version === 1 && (k.source === 'passphrase' || k.source === 'key-file') && typeof k.salt === 'string' && /^[0-9a-f]{32}$/.test(k.salt)
    && typeof k.keyId === 'string' && /^[0-9a-f]{32}$/.test(k.keyId) && k.kdf && Number.isSafeInteger(k.kdf.N) && Number.isSafeInteger(k.kdf.r) && Number.isSafeInteger(k.kdf.p)
    // The same bounds as the home's secret files: a stored record cannot make us scrypt forever.
    && k.kdf.N >= 2 ** 10 && k.kdf.N <= 2 ** 20 && (k.kdf.N & (k.kdf.N - 1)) === 0 && k.kdf.r >= 1 && k.kdf.r <= 32 && k.kdf.p >= 1 && k.kdf.p <= 16 && 128 * k.kdf.N * k.kdf.r <= 2 ** 28;
  if (!ok) throw new BlobError('BLOB_UNSUPPORTED_VERSION', 'the blob store\'s key record is not one this hallmark understands');
  return k;
}
