// The home folder: the ledger database, the log's signing key and the owner's key. The CLI and
// the API both open the same layout through this module.
//
// At rest: the folder is 0700 and every file in it 0600. owner.key and log.key are sealed under
// the home's passphrase in the secret-file format of src/secrets (scrypt + XChaCha20-Poly1305),
// so a copy of the folder without the passphrase signs nothing. Homes made before that keep
// plaintext keys until `hallmark home encrypt-keys` seals them; `hallmark serve` refuses them.
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import { generateNoteKey, HallmarkError, openLedger, openPostgresLedger, verifierKeyFor, type Clock, type Ledger } from '../../ledger/index.js';
import { isSealedText, newSalt, openSealedText, PASSPHRASE_ENV, sealText, SecretError } from '../secrets/index.js';
import { makeHomePrivate, makePrivate, PRIVATE_DIR, PRIVATE_FILE } from './private-files.js';

export type HomeErrorCode = 'HOME_EXISTS' | 'HOME_NOT_FOUND' | 'HOME_CORRUPT' | 'HOME_KEYS_PLAINTEXT' | 'HOME_KEYS_ENCRYPTED';
export class HomeError extends HallmarkError<HomeErrorCode> {}

export interface HomePaths {
  readonly dir: string;
  readonly db: string;
  readonly logKey: string;
  readonly ownerKey: string;
  readonly config: string;
}

export interface Home {
  readonly paths: HomePaths;
  readonly ledger: Ledger;
  /** The owner's verifier key string (name+keyid+base64). */
  readonly ownerVerifierKey: string;
  /** Whether owner.key and log.key are sealed under the passphrase (false: a home from before). */
  readonly keysEncrypted: boolean;
  /** Reads the owner's signer key; kept out of the object so it is not logged by accident. */
  readOwnerSignerKey(): string;
  close(): void;
}

/** Secret-file ids of the two keys (inside their sealed files; bound into the AEAD header). */
const KEY_IDS = { logKey: 'log-key', ownerKey: 'owner-key' } as const;

/** The home folder: --home, else $HALLMARK_HOME, else ./.hallmark. */
export function resolveHomeDir(flag?: string, env: NodeJS.ProcessEnv = process.env): string {
  return resolve(flag ?? env.HALLMARK_HOME ?? '.hallmark');
}

export function homePaths(dir: string): HomePaths {
  return {
    dir,
    db: join(dir, 'ledger.db'),
    logKey: join(dir, 'log.key'),
    ownerKey: join(dir, 'owner.key'),
    config: join(dir, 'config.json'),
  };
}

/** Writes a private file atomically (temporary file 0600, rename). */
function writePrivate(path: string, text: string, exclusive: boolean): void {
  if (exclusive && existsSync(path)) throw new HomeError('HOME_EXISTS', `${path} already exists; refusing to overwrite it`);
  const tmp = `${path}.tmp-${randomBytes(6).toString('hex')}`;
  writeFileSync(tmp, text, { mode: PRIVATE_FILE, flag: 'wx' });
  try {
    makePrivate(tmp);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

/** The home passphrase: the option, else $HALLMARK_PASSPHRASE; undefined when neither is set. */
function passphraseFrom(given: string | undefined): string | undefined {
  if (given !== undefined && given.length > 0) return given;
  const env = process.env[PASSPHRASE_ENV];
  return env !== undefined && env.length > 0 ? env : undefined;
}

export interface InitResult {
  readonly paths: HomePaths;
  readonly origin: string;
  readonly logVerifierKey: string;
  readonly ownerVerifierKey: string;
  readonly keysEncrypted: boolean;
}

export interface InitOptions {
  readonly name?: string;
  /** Seals owner.key and log.key under it. Without one the keys are written in plaintext (tests,
   *  benchmarks); `hallmark init` always passes one, and `hallmark serve` refuses plaintext keys. */
  readonly passphrase?: string;
  /** The PostgreSQL ledger's URL (else $HALLMARK_DATABASE_URL); the SQLite file otherwise. */
  readonly database?: string;
}

/** The PostgreSQL ledger's connection string: --database, else $HALLMARK_DATABASE_URL. Never stored in the home. */
export const DATABASE_ENV = 'HALLMARK_DATABASE_URL';

function databaseUrl(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const url = flag ?? env[DATABASE_ENV];
  return url ? url : undefined;
}

/** Whether this home's config says its ledger lives in PostgreSQL. */
function usesPostgres(paths: HomePaths): boolean {
  if (!existsSync(paths.config)) return false;
  try {
    return (JSON.parse(readFileSync(paths.config, 'utf8')) as { ledgerStore?: string }).ledgerStore === 'postgres';
  } catch {
    return false;
  }
}

/**
 * Opens the home's ledger: PostgreSQL when a database URL is given (flag or environment) or the
 * home was created with one, else the SQLite file.
 */
export function openHomeLedger(dir: string, options: { signerKey?: string; clock?: Clock; database?: string } = {}): Ledger {
  const paths = homePaths(dir);
  const url = databaseUrl(options.database);
  const opts = { ...(options.signerKey ? { signerKey: options.signerKey } : {}), ...(options.clock ? { clock: options.clock } : {}) };
  if (url) return openPostgresLedger(url, opts);
  if (usesPostgres(paths)) throw new HomeError('HOME_NOT_FOUND', `the ledger of ${dir} is in PostgreSQL; set ${DATABASE_ENV} (or pass --database)`);
  return openLedger(paths.db, opts);
}

/**
 * The PostgreSQL URL a home's state lives at (flag, else $HALLMARK_DATABASE_URL), or undefined
 * for a home kept in SQLite files; a PostgreSQL home opened without a URL is an error.
 */
export function homeDatabaseUrl(dir: string, flag?: string): string | undefined {
  const url = databaseUrl(flag);
  if (!url && usesPostgres(homePaths(dir))) throw new HomeError('HOME_NOT_FOUND', `the ledger of ${dir} is in PostgreSQL; set ${DATABASE_ENV} (or pass --database)`);
  return url;
}

/** Creates a home: refuses to touch one that already holds a key or a ledger. */
export function initHome(dir: string, options: InitOptions = {}): InitResult {
  const paths = homePaths(dir);
  for (const p of [paths.logKey, paths.ownerKey, paths.db]) {
    if (existsSync(p)) throw new HomeError('HOME_EXISTS', `${p} already exists; refusing to overwrite a key or a ledger (use another --home)`);
  }
  mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR });
  makeHomePrivate(dir);
  const id = randomBytes(4).toString('hex');
  const origin = `hallmark.local/${options.name ?? 'log'}/${id}`;
  const log = generateNoteKey(origin);
  const owner = generateNoteKey(`hallmark.local/owner/${id}`);
  const pass = options.passphrase;
  const salt = newSalt(); // both keys under one scrypt: opening the home costs one derivation
  const seal = (which: keyof typeof KEY_IDS, key: string) => (pass ? sealText(KEY_IDS[which], `${key}\n`, pass, { salt }) : `${key}\n`);
  writePrivate(paths.logKey, seal('logKey', log.signerKey), true);
  writePrivate(paths.ownerKey, seal('ownerKey', owner.signerKey), true);
  const url = databaseUrl(options.database);
  // With a database the ledger (and its migrations) go to PostgreSQL first: a failure leaves no config behind.
  if (!url) closeSync(openSync(paths.db, 'wx', PRIVATE_FILE)); // SQLite gives -wal and -shm the mode of the database file: create it 0600 first.
  const ledger = url ? openPostgresLedger(url, { signerKey: log.signerKey, create: true }) : openLedger(paths.db, { signerKey: log.signerKey, create: true });
  ledger.close();
  const store = url ? { ledgerStore: 'postgres' } : {};
  writePrivate(paths.config, `${JSON.stringify({ version: 1, origin, logVerifierKey: log.verifierKey, ownerVerifierKey: owner.verifierKey, ...store }, null, 2)}\n`, true);
  makeHomePrivate(dir);
  return { paths, origin, logVerifierKey: log.verifierKey, ownerVerifierKey: owner.verifierKey, keysEncrypted: pass !== undefined };
}

function readKeyFile(path: string, what: string): string {
  if (!existsSync(path)) throw new HomeError('HOME_NOT_FOUND', `no ${what} at ${path}; run "hallmark init" first (or pass --home)`);
  return readFileSync(path, 'utf8');
}

/** Whether the home's keys are sealed (both must agree). */
export function homeKeysEncrypted(dir: string): boolean {
  const paths = homePaths(dir);
  const log = isSealedText(readKeyFile(paths.logKey, 'log key'));
  const owner = isSealedText(readKeyFile(paths.ownerKey, 'owner key'));
  if (log !== owner) throw new HomeError('HOME_CORRUPT', `one of ${paths.logKey} and ${paths.ownerKey} is encrypted and the other is not; restore both from a backup`);
  return log;
}

/** Reads one of the home's keys, opening it with the passphrase when it is sealed. */
export function readHomeKey(dir: string, which: keyof typeof KEY_IDS, passphrase?: string): string {
  const path = homePaths(dir)[which];
  const what = which === 'logKey' ? 'log key' : 'owner key';
  const text = readKeyFile(path, what);
  if (!isSealedText(text)) return text.trim();
  const pass = passphraseFrom(passphrase);
  if (!pass) throw new SecretError('SECRET_NO_PASSPHRASE', `the home's keys are encrypted: set ${PASSPHRASE_ENV} or run in a terminal to be asked for the passphrase`);
  return openSealedText(text, KEY_IDS[which], pass, `${which === 'logKey' ? 'log.key' : 'owner.key'}`).trim();
}

export interface OpenHomeOptions {
  readonly clock?: Clock;
  /** Opens sealed keys; default $HALLMARK_PASSPHRASE. Unused for a home with plaintext keys. */
  readonly passphrase?: string;
  /** The PostgreSQL ledger (default $HALLMARK_DATABASE_URL, or the home's config). */
  readonly database?: string;
}

/** Opens an existing home (SECRET_NO_PASSPHRASE / SECRET_BAD_PASSPHRASE when its keys stay sealed). */
export function openHome(dir: string, options: OpenHomeOptions = {}): Home {
  const paths = homePaths(dir);
  if (!existsSync(paths.db) && !usesPostgres(paths)) throw new HomeError('HOME_NOT_FOUND', `no Hallmark home at ${dir}; run "hallmark init" first (or pass --home)`);
  const keysEncrypted = homeKeysEncrypted(dir);
  const logKey = readHomeKey(dir, 'logKey', options.passphrase);
  const ownerKey = readHomeKey(dir, 'ownerKey', options.passphrase);
  // Older homes: tighten the modes of what sits at the top (databases, config, folders).
  makeHomePrivate(dir);
  const ledger = openHomeLedger(dir, { signerKey: logKey, ...(options.clock ? { clock: options.clock } : {}), ...(options.database ? { database: options.database } : {}) });
  const ownerVerifierKey = verifierKeyFor(ownerKey);
  return {
    paths,
    ledger,
    ownerVerifierKey,
    keysEncrypted,
    readOwnerSignerKey: () => ownerKey,
    close: () => ledger.close(),
  };
}

/**
 * Migration for homes made before keys were sealed: seals owner.key and log.key under the
 * passphrase (each written atomically) and makes every file in the home private.
 */
export function encryptHomeKeys(dir: string, passphrase: string): { sealed: string[] } {
  const paths = homePaths(dir);
  if (!existsSync(paths.db) && !usesPostgres(paths)) throw new HomeError('HOME_NOT_FOUND', `no Hallmark home at ${dir}; run "hallmark init" first (or pass --home)`);
  if (homeKeysEncrypted(dir)) throw new HomeError('HOME_KEYS_ENCRYPTED', `the keys of ${dir} are already encrypted`);
  const sealed: string[] = [];
  const salt = newSalt();
  for (const which of ['logKey', 'ownerKey'] as const) {
    const plain = readHomeKey(dir, which);
    verifierKeyFor(plain); // a malformed key is not sealed silently
    writePrivate(paths[which], sealText(KEY_IDS[which], `${plain}\n`, passphrase, { salt }), false);
    sealed.push(paths[which]);
  }
  makeHomePrivate(dir, { recursive: true });
  return { sealed };
}
