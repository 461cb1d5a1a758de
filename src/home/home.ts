// The home folder: the ledger database, the log's signing key and the owner's key. The CLI and
// the API both open the same layout through this module.
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import { generateNoteKey, HallmarkError, openLedger, openPostgresLedger, verifierKeyFor, type Clock, type Ledger } from '../../ledger/index.js';

export type HomeErrorCode = 'HOME_EXISTS' | 'HOME_NOT_FOUND' | 'HOME_CORRUPT';
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
  /** Reads the owner's signer key; kept out of the object so it is not logged by accident. */
  readOwnerSignerKey(): string;
  close(): void;
}

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

function writeSecret(path: string, text: string): void {
  writeFileSync(path, text, { mode: 0o600, flag: 'wx' });
  chmodSync(path, 0o600);
}

export interface InitResult {
  readonly paths: HomePaths;
  readonly origin: string;
  readonly logVerifierKey: string;
  readonly ownerVerifierKey: string;
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

/** Creates a home: refuses to touch one that already holds a key or a ledger. */
export function initHome(dir: string, options: { name?: string; database?: string } = {}): InitResult {
  const paths = homePaths(dir);
  for (const p of [paths.logKey, paths.ownerKey, paths.db]) {
    if (existsSync(p)) throw new HomeError('HOME_EXISTS', `${p} already exists; refusing to overwrite a key or a ledger (use another --home)`);
  }
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const id = randomBytes(4).toString('hex');
  const origin = `hallmark.local/${options.name ?? 'log'}/${id}`;
  const log = generateNoteKey(origin);
  const owner = generateNoteKey(`hallmark.local/owner/${id}`);
  writeSecret(paths.logKey, `${log.signerKey}\n`);
  writeSecret(paths.ownerKey, `${owner.signerKey}\n`);
  const url = databaseUrl(options.database);
  // With a database the ledger (and its migrations) go to PostgreSQL first: a failure leaves no config behind.
  const ledger = url ? openPostgresLedger(url, { signerKey: log.signerKey, create: true }) : openLedger(paths.db, { signerKey: log.signerKey, create: true });
  ledger.close();
  const store = url ? { ledgerStore: 'postgres' } : {};
  writeFileSync(paths.config, `${JSON.stringify({ version: 1, origin, logVerifierKey: log.verifierKey, ownerVerifierKey: owner.verifierKey, ...store }, null, 2)}\n`, { flag: 'wx' });
  return { paths, origin, logVerifierKey: log.verifierKey, ownerVerifierKey: owner.verifierKey };
}

function readKey(path: string, what: string): string {
  if (!existsSync(path)) throw new HomeError('HOME_NOT_FOUND', `no ${what} at ${path}; run "hallmark init" first (or pass --home)`);
  return readFileSync(path, 'utf8').trim();
}

/** Opens an existing home. */
export function openHome(dir: string, options: { clock?: Clock; database?: string } = {}): Home {
  const paths = homePaths(dir);
  if (!existsSync(paths.db) && !usesPostgres(paths)) throw new HomeError('HOME_NOT_FOUND', `no Hallmark home at ${dir}; run "hallmark init" first (or pass --home)`);
  const logKey = readKey(paths.logKey, 'log key');
  const ledger = openHomeLedger(dir, { signerKey: logKey, ...options });
  const ownerVerifierKey = verifierKeyFor(readKey(paths.ownerKey, 'owner key'));
  return {
    paths,
    ledger,
    ownerVerifierKey,
    readOwnerSignerKey: () => readKey(paths.ownerKey, 'owner key'),
    close: () => ledger.close(),
  };
}
