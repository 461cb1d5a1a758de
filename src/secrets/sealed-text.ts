// The home's own keys (owner.key, log.key) sealed under the home's passphrase, in exactly the
// secret-file format of store.ts (format.ts: scrypt -> 64 bytes, XChaCha20-Poly1305, check value,
// header as AAD), so `loadSecret` opens these files and these functions open its files. They are
// synchronous because opening a home is: the scrypt is Node's native one (RFC 7914, the same
// function noble's scryptAsync computes), which also makes it several times faster.
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { createHash, randomBytes, scryptSync } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { equalBytes } from '../../ledger/index.js';
import { SecretError } from './errors.js';
import { checkKdf, decodeSecretFile, DEFAULT_KDF, encodeSecretFile, headerBytes, MAX_SECRET_FILE_BYTES, SECRET_TYPE, type KdfParams } from './format.js';

const CHECK_LABEL = new TextEncoder().encode('hallmark/secret/v1/check');

// One scrypt per (passphrase, salt, parameters) per process: a server opens the home in every job.
const derived = new Map<string, { key: Uint8Array; check: Uint8Array }>();

function deriveSync(passphrase: string, salt: Uint8Array, kdf: KdfParams): { key: Uint8Array; check: Uint8Array } {
  if (typeof passphrase !== 'string' || passphrase.length === 0) throw new TypeError('passphrase must be a non-empty string');
  const pw = Buffer.from(passphrase.normalize('NFC'), 'utf8');
  const id = createHash('sha256').update(pw).update(salt).update(`${kdf.N}/${kdf.r}/${kdf.p}`).digest('hex');
  const hit = derived.get(id);
  if (hit) return { key: hit.key.slice(), check: hit.check.slice() };
  const master = new Uint8Array(scryptSync(pw, salt, 64, { N: kdf.N, r: kdf.r, p: kdf.p, maxmem: 2 ** 28 + 2 ** 20 }));
  const out = { key: master.slice(0, 32), check: hmac(sha256, master.subarray(32), CHECK_LABEL).slice(0, 16) };
  master.fill(0);
  pw.fill(0);
  if (derived.size > 64) derived.clear();
  derived.set(id, { key: out.key.slice(), check: out.check.slice() });
  return out;
}

/** Whether a file's text is a sealed secret file (as opposed to a plaintext key). */
export function isSealedText(text: string): boolean {
  return /^\s*\{/.test(text) && text.includes(`"${SECRET_TYPE}"`);
}

/**
 * Seals `plaintext` under the passphrase as a secret file with this id; returns the file's text.
 * Files sealed together may share a salt (so opening them costs one scrypt): the AEAD nonce is
 * random per file (192 bits), which is what XChaCha20-Poly1305 needs under one key.
 */
export function sealText(id: string, plaintext: string, passphrase: string, options: { kdf?: KdfParams; salt?: Uint8Array } = {}): string {
  const kdf = options.kdf ?? DEFAULT_KDF;
  const bad = checkKdf(kdf);
  if (bad) throw new RangeError(bad);
  if (options.salt !== undefined && options.salt.length !== 16) throw new RangeError('salt must be 16 bytes');
  const salt = options.salt ?? new Uint8Array(randomBytes(16));
  const nonce = new Uint8Array(randomBytes(24));
  const header = { id, kdf: { ...kdf, salt }, nonce };
  const { key, check } = deriveSync(passphrase, salt, kdf);
  const material = new TextEncoder().encode(plaintext);
  const ciphertext = xchacha20poly1305(key, nonce, headerBytes(header)).encrypt(material);
  key.fill(0);
  material.fill(0);
  return encodeSecretFile({ ...header, check, ciphertext });
}

/** A fresh 16-byte salt for files sealed together. */
export function newSalt(): Uint8Array {
  return new Uint8Array(randomBytes(16));
}

/** Opens a sealed file's text; SECRET_BAD_PASSPHRASE / SECRET_TAMPERED / SECRET_CORRUPT on failure. */
export function openSealedText(text: string, id: string, passphrase: string, where: string): string {
  const file = decodeSecretFile(text, where);
  if (file.id !== id) throw new SecretError('SECRET_TAMPERED', `${where} holds "${file.id}", not "${id}"`);
  const { key, check } = deriveSync(passphrase, file.kdf.salt, file.kdf);
  try {
    if (!equalBytes(check, file.check)) {
      throw new SecretError('SECRET_BAD_PASSPHRASE', `wrong passphrase for ${where} (set HALLMARK_PASSPHRASE, or answer the prompt, with the passphrase the home was created with)`);
    }
    let plain: Uint8Array;
    try {
      plain = xchacha20poly1305(key, file.nonce, headerBytes(file)).decrypt(file.ciphertext);
    } catch {
      throw new SecretError('SECRET_TAMPERED', `${where} was altered: its ciphertext or header fails authentication`);
    }
    return new TextDecoder().decode(plain);
  } finally {
    key.fill(0);
  }
}

/**
 * Refuses a passphrase that does not open the home's stored watermark secrets (one scrypt, on
 * the first secret file, its check value only). A server started with a wrong passphrase would
 * otherwise start, then fail every job.
 */
export function checkPassphraseSync(homeDir: string, passphrase: string): void {
  const dir = join(homeDir, 'secrets');
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => n.endsWith('.secret.json')).sort();
  } catch {
    return;
  }
  const first = names[0];
  if (!first) return;
  const path = join(dir, first);
  if (statSync(path).size > MAX_SECRET_FILE_BYTES) throw new SecretError('SECRET_CORRUPT', `${first} is larger than any Hallmark secret file`);
  const file = decodeSecretFile(readFileSync(path, 'utf8'), first);
  const { key, check } = deriveSync(passphrase, file.kdf.salt, file.kdf);
  key.fill(0);
  if (!equalBytes(check, file.check)) {
    throw new SecretError('SECRET_BAD_PASSPHRASE', `the passphrase does not open the home's watermark secrets (${first}); give the passphrase they were saved with`);
  }
}
