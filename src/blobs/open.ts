// Which blob store a home uses, and with which key. The store: --blobs / $HALLMARK_BLOBS
// ("local" or "postgres"); unset, PostgreSQL when the server has a database URL (--database /
// $HALLMARK_DATABASE_URL), else the folder <home>/blobs. The key: a key file (--blob-key-file /
// $HALLMARK_BLOB_KEY_FILE), else the home's passphrase; a home whose own keys are in plaintext
// (tests, benchmarks: no passphrase anywhere) gets <home>/blob.key, generated once, which is as
// protected as those keys are.
import { randomBytes } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DATABASE_ENV, homeKeysEncrypted } from '../home/index.js';
import { LocalBackend } from './local.js';
import type { KeySource } from './keys.js';
import { PgBackend } from './postgres.js';
import { SealedBlobStore, type BlobStore } from './sealed-store.js';

export const BLOBS_ENV = 'HALLMARK_BLOBS';
export const BLOB_KEY_FILE_ENV = 'HALLMARK_BLOB_KEY_FILE';
export type BlobStoreKind = 'local' | 'postgres';

export interface BlobConfig {
  readonly kind: BlobStoreKind;
  /** local: the folder. */
  readonly dir: string;
  /** postgres: the connection string and schema. */
  readonly url?: string;
  readonly schema?: string;
  readonly key?: KeySource;
}

export interface BlobConfigOptions {
  readonly passphrase?: string;
  readonly database?: string;
  readonly blobs?: string;
  readonly keyFile?: string;
  readonly env?: NodeJS.ProcessEnv;
}

export function blobsDir(homeDir: string): string {
  return join(homeDir, 'blobs');
}

function homeKeyFile(homeDir: string): KeySource | undefined {
  let plaintext: boolean;
  try {
    plaintext = !homeKeysEncrypted(homeDir);
  } catch {
    return undefined;
  }
  if (!plaintext) return undefined;
  const path = join(homeDir, 'blob.key');
  if (!existsSync(path)) {
    try {
      writeFileSync(path, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  return { keyFile: path };
}

export function blobConfigFor(homeDir: string, options: BlobConfigOptions = {}): BlobConfig {
  const env = options.env ?? process.env;
  const url = options.database ?? (env[DATABASE_ENV] || undefined);
  const asked = options.blobs ?? (env[BLOBS_ENV] || undefined);
  if (asked !== undefined && asked !== 'local' && asked !== 'postgres') throw new RangeError(`--blobs must be "local" or "postgres", got ${JSON.stringify(asked)}`);
  const kind: BlobStoreKind = asked ?? (url ? 'postgres' : 'local');
  if (kind === 'postgres' && !url) throw new RangeError(`--blobs postgres needs a database: pass --database or set ${DATABASE_ENV}`);
  const keyFile = options.keyFile ?? (env[BLOB_KEY_FILE_ENV] || undefined);
  const key: KeySource | undefined = keyFile ? { keyFile } : options.passphrase ? { passphrase: options.passphrase } : homeKeyFile(homeDir);
  return { kind, dir: blobsDir(homeDir), ...(kind === 'postgres' ? { url } : {}), ...(key ? { key } : {}) };
}

/** Opens the store; `create` makes (or migrates) PostgreSQL tables, as a server does at startup. */
export async function openBlobStore(config: BlobConfig, options: { create?: boolean; chunkSize?: number } = {}): Promise<BlobStore> {
  const backend = config.kind === 'postgres'
    ? await PgBackend.open({ url: config.url!, ...(config.schema ? { schema: config.schema } : {}), create: options.create ?? false })
    : new LocalBackend(config.dir);
  return new SealedBlobStore(backend, config.key, options.chunkSize);
}
