// Versioned migrations of the blob tables, in the ledger's scheme (ledger/pg-schema.ts): the same
// hallmark_migrations table, under component 'blobs', each migration once, in a transaction,
// under the same advisory lock (so a ledger and a blob migration never race either). A blob
// schema newer than this code refuses to open.
import type pg from 'pg';
import { quoteIdent } from '../../ledger/pg-schema.js';
import { BlobError } from './errors.js';

export const BLOB_SCHEMA_VERSION = 1;
const COMPONENT = 'blobs';
/** The ledger's migration lock ('hmmg'): one migration of any component at a time. */
const MIGRATION_LOCK = 0x686d6d67;

const MIGRATIONS: readonly { version: number; sql: string }[] = [
  {
    version: 1,
    sql: `
-- The key record (salt, KDF parameters, key id): one row, never secret.
CREATE TABLE blob_keys (one boolean PRIMARY KEY DEFAULT true CHECK (one), info jsonb NOT NULL);
-- One row per blob, written last in the transaction that wrote its chunks: a blob is whole or absent.
-- key: HMAC(naming key, plaintext SHA-256); header: format.ts's 40 bytes.
CREATE TABLE blob_objects (
  key bytea PRIMARY KEY CHECK (length(key) = 32),
  header bytea NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE blob_chunks (
  key bytea NOT NULL,
  idx integer NOT NULL CHECK (idx >= 0),
  data bytea NOT NULL,
  PRIMARY KEY (key, idx)
);
-- EXTERNAL: chunks are ciphertext, compressing them is wasted work.
ALTER TABLE blob_chunks ALTER COLUMN data SET STORAGE EXTERNAL;
-- Names (area/id/file) that point at blobs, by their plaintext digest.
CREATE TABLE blob_refs (
  name text PRIMARY KEY,
  sha256 text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
  size bigint NOT NULL CHECK (size >= 0),
  created_at timestamptz NOT NULL DEFAULT now()
);`,
  },
];

const LOG_TABLE = `CREATE TABLE IF NOT EXISTS hallmark_migrations (
  component text NOT NULL,
  version integer NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (component, version)
)`;

export async function blobSchemaVersion(client: pg.ClientBase): Promise<number> {
  const exists = await client.query(`SELECT to_regclass('hallmark_migrations') AS t`);
  if (exists.rows[0].t === null) return 0;
  const r = await client.query('SELECT coalesce(max(version), 0) AS v FROM hallmark_migrations WHERE component = $1', [COMPONENT]);
  return Number(r.rows[0].v);
}

function tooNew(found: number): BlobError {
  return new BlobError('BLOB_UNSUPPORTED_VERSION', `the database's blob schema is version ${found}, newer than this hallmark understands (${BLOB_SCHEMA_VERSION}); upgrade hallmark on every replica before starting it`);
}

/** Brings the blob tables to BLOB_SCHEMA_VERSION (when `create`), or checks they are there. */
export async function migrateBlobs(client: pg.ClientBase, schema: string, create: boolean): Promise<number> {
  const before = await blobSchemaVersion(client);
  if (before > BLOB_SCHEMA_VERSION) throw tooNew(before);
  if (before === BLOB_SCHEMA_VERSION) return before;
  if (!create) {
    throw new BlobError('BLOB_UNSUPPORTED_VERSION', before === 0
      ? `no blob tables in schema "${schema}" of this database; run "hallmark init --database ..." (or start "hallmark serve" once with it) first`
      : `the blob schema is version ${before}; start "hallmark serve --database ..." once to migrate it to ${BLOB_SCHEMA_VERSION}`);
  }
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}`);
    await client.query(LOG_TABLE);
    const now = await blobSchemaVersion(client);
    if (now > BLOB_SCHEMA_VERSION) throw tooNew(now);
    for (const m of MIGRATIONS) {
      if (m.version <= now) continue;
      await client.query(m.sql);
      await client.query('INSERT INTO hallmark_migrations (component, version) VALUES ($1, $2)', [COMPONENT, m.version]);
    }
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
  return before;
}
