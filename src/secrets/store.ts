// Secret material at rest in the home folder, encrypted under a passphrase (format.ts has the
// layout). Files are written atomically (temporary file, fsync, rename) with mode 0600 in a
// 0700 folder, and no message ever carries the passphrase or the material.
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { hmac } from '@noble/hashes/hmac.js';
import { scryptAsync } from '@noble/hashes/scrypt.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { randomBytes } from 'node:crypto';
import { chmodSync, closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { equalBytes } from '../../ledger/index.js';
import { SecretError } from './errors.js';
import { checkKdf, decodeSecretFile, DEFAULT_KDF, encodeSecretFile, headerBytes, MAX_SECRET_FILE_BYTES, type KdfParams } from './format.js';

const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const CHECK_LABEL = new TextEncoder().encode('hallmark/secret/v1/check');

export function secretsDir(homeDir: string): string {
  return join(homeDir, 'secrets');
}

/** Where a secret lives; ids are file-name safe ([A-Za-z0-9._-], at most 128, not starting with '.'). */
export function secretPath(homeDir: string, id: string): string {
  if (typeof id !== 'string' || !ID_PATTERN.test(id)) throw new RangeError(`secret id ${JSON.stringify(id)} must match ${ID_PATTERN}`);
  return join(secretsDir(homeDir), `${id}.secret.json`);
}

export function hasSecret(homeDir: string, id: string): boolean {
  return existsSync(secretPath(homeDir, id));
}

function passphraseBytes(passphrase: string): Uint8Array {
  if (typeof passphrase !== 'string' || passphrase.length === 0) throw new TypeError('passphrase must be a non-empty string');
  return new TextEncoder().encode(passphrase.normalize('NFC'));
}

async function deriveKeys(passphrase: string, salt: Uint8Array, kdf: KdfParams): Promise<{ key: Uint8Array; check: Uint8Array }> {
  const pw = passphraseBytes(passphrase);
  const master = await scryptAsync(pw, salt, { ...kdf, dkLen: 64, maxmem: 2 ** 28 + 2 ** 20 });
  const key = master.slice(0, 32);
  const check = hmac(sha256, master.subarray(32), CHECK_LABEL).slice(0, 16);
  master.fill(0);
  pw.fill(0);
  return { key, check };
}

function writeAtomically(path: string, dir: string, text: string): void {
  const tmp = join(dir, `.tmp-${randomBytes(8).toString('hex')}`);
  const fd = openSync(tmp, 'wx', 0o600);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    chmodSync(tmp, 0o600);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
  try {
    const dfd = openSync(dir, 'r');
    fsyncSync(dfd); // make the rename durable; not possible on every platform
    closeSync(dfd);
  } catch {
    /* best effort */
  }
}

export interface SaveSecretOptions {
  /** Replace an existing secret of this id (default: refuse with SECRET_EXISTS). */
  readonly overwrite?: boolean;
  /** scrypt cost; defaults to DEFAULT_KDF. */
  readonly kdf?: KdfParams;
}

/** Encrypts `material` under the passphrase into <home>/secrets/<id>.secret.json; returns the path. */
export async function saveSecret(homeDir: string, id: string, material: Uint8Array, passphrase: string, options: SaveSecretOptions = {}): Promise<string> {
  const path = secretPath(homeDir, id);
  if (!(material instanceof Uint8Array)) throw new TypeError('secret material must be a Uint8Array');
  if (material.length > MAX_SECRET_FILE_BYTES / 2) throw new RangeError('secret material is too large');
  const kdfParams = options.kdf ?? DEFAULT_KDF;
  const bad = checkKdf(kdfParams);
  if (bad) throw new RangeError(bad);
  if (!options.overwrite && existsSync(path)) {
    throw new SecretError('SECRET_EXISTS', `a secret "${id}" already exists at ${path}; refusing to overwrite it`);
  }
  const dir = secretsDir(homeDir);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const salt = new Uint8Array(randomBytes(16));
  const nonce = new Uint8Array(randomBytes(24));
  const kdf = { ...kdfParams, salt };
  const { key, check } = await deriveKeys(passphrase, salt, kdfParams);
  const ciphertext = xchacha20poly1305(key, nonce, headerBytes({ id, kdf, nonce })).encrypt(material);
  key.fill(0);
  writeAtomically(path, dir, encodeSecretFile({ id, kdf, nonce, check, ciphertext }));
  return path;
}

/** Decrypts the secret `id`; SECRET_BAD_PASSPHRASE, SECRET_TAMPERED, SECRET_NOT_FOUND, SECRET_CORRUPT on failure. */
export async function loadSecret(homeDir: string, id: string, passphrase: string): Promise<Uint8Array> {
  const path = secretPath(homeDir, id);
  if (!existsSync(path)) throw new SecretError('SECRET_NOT_FOUND', `no secret "${id}" at ${path}; was the model embedded with this --home?`);
  if (statSync(path).size > MAX_SECRET_FILE_BYTES) throw new SecretError('SECRET_CORRUPT', `${path} is larger than any Hallmark secret file`);
  const file = decodeSecretFile(readFileSync(path, 'utf8'), path);
  if (file.id !== id) throw new SecretError('SECRET_TAMPERED', `${path} holds the secret "${file.id}", not "${id}"`);
  const { key, check } = await deriveKeys(passphrase, file.kdf.salt, file.kdf);
  if (!equalBytes(check, file.check)) {
    key.fill(0);
    throw new SecretError('SECRET_BAD_PASSPHRASE', `wrong passphrase for secret "${id}" (set HALLMARK_PASSPHRASE or answer the prompt with the passphrase used when it was saved)`);
  }
  try {
    return xchacha20poly1305(key, file.nonce, headerBytes(file)).decrypt(file.ciphertext);
  } catch {
    throw new SecretError('SECRET_TAMPERED', `${path} was altered: its ciphertext or header fails authentication`);
  } finally {
    key.fill(0);
  }
}
