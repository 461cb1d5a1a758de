// The encrypted secret file, version 1 (JSON, one per secret, <home>/secrets/<id>.secret.json):
//
//   { "type": "hallmark.secret", "version": 1, "id": string,
//     "kdf":    { "name": "scrypt", "N": 32768, "r": 8, "p": 1, "salt": base64(16) },
//     "cipher": { "name": "xchacha20-poly1305", "nonce": base64(24) },
//     "check":  base64(16),
//     "ciphertext": base64(plaintext + 16-byte tag) }
//
//   master = scrypt(NFC(passphrase) as UTF-8, salt, N, r, p, 64 bytes)
//   key    = master[0:32]                   the AEAD key
//   check  = HMAC-SHA256(master[32:64], "hallmark/secret/v1/check")[0:16]
//   AAD    = RFC 8785 JSON of { type, version, id, kdf, cipher }
//
// The check value tells a wrong passphrase (check differs) from an altered file (check matches,
// tag fails); it gives an attacker nothing the tag would not (both only confirm a guess, and
// each guess costs one scrypt). The AAD binds the header, so neither the id nor the KDF
// parameters can be swapped without the tag failing.
import { canonicalJsonBytes, fromBase64, toBase64 } from '../../ledger/index.js';
import { SecretError } from './errors.js';

export const SECRET_TYPE = 'hallmark.secret';
export const SECRET_VERSION = 1;
export const MAX_SECRET_FILE_BYTES = 1 << 20;

export interface KdfParams {
  readonly N: number;
  readonly r: number;
  readonly p: number;
}

/** 32 MiB of memory; measured with noble scrypt on the 2-core build machine: 125 ms idle, about 500 ms under load. */
export const DEFAULT_KDF: KdfParams = { N: 2 ** 15, r: 8, p: 1 };

export interface SecretFile {
  readonly id: string;
  readonly kdf: KdfParams & { readonly salt: Uint8Array };
  readonly nonce: Uint8Array;
  readonly check: Uint8Array;
  readonly ciphertext: Uint8Array;
}

const corrupt = (path: string, why: string) => new SecretError('SECRET_CORRUPT', `${path} is not a readable Hallmark secret file (${why})`);

/** Bounds on what a file may ask for, so a crafted file cannot make us allocate gigabytes. */
export function checkKdf(k: KdfParams): string | undefined {
  if (!Number.isSafeInteger(k.N) || k.N < 2 ** 10 || k.N > 2 ** 20 || (k.N & (k.N - 1)) !== 0) return 'scrypt N must be a power of two in [2^10, 2^20]';
  if (!Number.isSafeInteger(k.r) || k.r < 1 || k.r > 32) return 'scrypt r must be in [1, 32]';
  if (!Number.isSafeInteger(k.p) || k.p < 1 || k.p > 16) return 'scrypt p must be in [1, 16]';
  if (128 * k.N * k.r > 2 ** 28) return 'scrypt memory must be at most 256 MiB';
  return undefined;
}

export function headerBytes(f: Pick<SecretFile, 'id' | 'kdf' | 'nonce'>): Uint8Array {
  return canonicalJsonBytes({
    type: SECRET_TYPE,
    version: SECRET_VERSION,
    id: f.id,
    kdf: { name: 'scrypt', N: f.kdf.N, r: f.kdf.r, p: f.kdf.p, salt: toBase64(f.kdf.salt) },
    cipher: { name: 'xchacha20-poly1305', nonce: toBase64(f.nonce) },
  });
}

export function encodeSecretFile(f: SecretFile): string {
  const header = JSON.parse(new TextDecoder().decode(headerBytes(f))) as Record<string, unknown>;
  return `${JSON.stringify({ ...header, check: toBase64(f.check), ciphertext: toBase64(f.ciphertext) }, null, 2)}\n`;
}

const obj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function bytes(v: unknown, path: string, what: string, length?: number): Uint8Array {
  const b = typeof v === 'string' ? fromBase64(v) : undefined;
  if (!b || (length !== undefined && b.length !== length)) throw corrupt(path, `${what} must be ${length ?? 'some'} bytes of base64`);
  return b;
}

/** Parses the file's text defensively; every failure is a SecretError. */
export function decodeSecretFile(text: string, path: string): SecretFile {
  let j: unknown;
  try {
    j = JSON.parse(text);
  } catch {
    throw corrupt(path, 'not JSON');
  }
  if (!obj(j) || j.type !== SECRET_TYPE) throw corrupt(path, `type is not "${SECRET_TYPE}"`);
  if (j.version !== SECRET_VERSION) {
    throw new SecretError('SECRET_UNSUPPORTED_VERSION', `${path} is secret file version ${String(j.version)}; this build reads version ${SECRET_VERSION}`);
  }
  if (typeof j.id !== 'string') throw corrupt(path, 'no id');
  const { kdf, cipher } = j;
  if (!obj(kdf) || kdf.name !== 'scrypt') throw corrupt(path, 'kdf must be scrypt');
  if (!obj(cipher) || cipher.name !== 'xchacha20-poly1305') throw corrupt(path, 'cipher must be xchacha20-poly1305');
  const params = { N: kdf.N as number, r: kdf.r as number, p: kdf.p as number };
  const bad = checkKdf(params);
  if (bad) throw corrupt(path, bad);
  const ciphertext = bytes(j.ciphertext, path, 'ciphertext');
  if (ciphertext.length < 16) throw corrupt(path, 'ciphertext shorter than its tag');
  return {
    id: j.id,
    kdf: { ...params, salt: bytes(kdf.salt, path, 'salt', 16) },
    nonce: bytes(cipher.nonce, path, 'nonce', 24),
    check: bytes(j.check, path, 'check', 16),
    ciphertext,
  };
}
