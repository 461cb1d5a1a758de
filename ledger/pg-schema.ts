// Versioned migrations of the PostgreSQL ledger schema. Each migration runs once, in its own
// transaction, under an advisory lock so that replicas starting together do not race; the
// applied versions are recorded in hallmark_migrations. A database whose ledger schema is newer
// than this code refuses to open: an older replica must never write rows it does not understand.
import type pg from 'pg';
import { LedgerError } from './errors.js';

export const PG_SCHEMA_VERSION = 1;
const COMPONENT = 'ledger';
/** pg_advisory_xact_lock key for migrations: 'hmmg' as a 32-bit integer. */
const MIGRATION_LOCK = 0x686d6d67;

const MIGRATIONS: readonly { version: number; sql: string }[] = [
  {
    version: 1,
    sql: `
CREATE TABLE ledger_meta (key text PRIMARY KEY, value text NOT NULL);
-- One row: the log's size and last leaf hash. Appends and checkpoint signing lock it (FOR UPDATE),
-- which serialises every writer of every replica on one row.
CREATE TABLE ledger_head (
  one boolean PRIMARY KEY DEFAULT true CHECK (one),
  size bigint NOT NULL CHECK (size >= 0),
  last_leaf bytea
);
INSERT INTO ledger_head (size, last_leaf) VALUES (0, NULL);
CREATE TABLE ledger_entries (
  idx bigint PRIMARY KEY,
  leaf_hash bytea NOT NULL,
  type text NOT NULL,
  data bytea NOT NULL
);
CREATE INDEX ledger_entries_by_type ON ledger_entries (type, idx);
-- Perfect subtrees of 2^level leaves (level >= 1); level 0 is ledger_entries.leaf_hash.
CREATE TABLE ledger_nodes (
  level integer NOT NULL,
  idx bigint NOT NULL,
  hash bytea NOT NULL,
  PRIMARY KEY (level, idx)
);
CREATE TABLE ledger_checkpoints (
  size bigint PRIMARY KEY,
  root bytea NOT NULL,
  note text NOT NULL,
  time timestamptz NOT NULL
);`,
  },
];

const LOG_TABLE = `CREATE TABLE IF NOT EXISTS hallmark_migrations (
  component text NOT NULL,
  version integer NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (component, version)
)`;

/** The ledger schema version recorded in the database (0 when none). */
export async function schemaVersion(client: pg.ClientBase): Promise<number> {
  return componentVersion(client, COMPONENT);
}

function tooNew(found: number): LedgerError {
  return new LedgerError(
    'LEDGER_UNSUPPORTED_VERSION',
    `the database's ledger schema is version ${found}, newer than this hallmark understands (${PG_SCHEMA_VERSION}); upgrade hallmark on every replica before starting it`,
  );
}

/**
 * Brings the schema to PG_SCHEMA_VERSION (when `create`), or checks that it is there. Returns
 * the version found before migrating.
 */
export async function migrate(client: pg.ClientBase, schema: string, create: boolean): Promise<number> {
  return migrateComponent(client, schema, create, {
    component: COMPONENT,
    migrations: MIGRATIONS,
    fail: (code, message) => new LedgerError(code, message),
    tooNew: (found) => tooNew(found),
    missing: (before) => (before === 0 ? `no ledger in schema "${schema}" of this database; run "hallmark init --database ..." first` : `the ledger schema is version ${before}; run "hallmark init --database ..." to migrate it to ${PG_SCHEMA_VERSION}`),
  });
}

/** One component's migrations (the ledger's, the API's): versions 1..n, each SQL run once. */
export interface ComponentMigrations {
  readonly component: string;
  readonly migrations: readonly { version: number; sql: string }[];
  /** The error for a missing or older schema opened without `create`. */
  readonly fail: (code: 'LEDGER_NOT_FOUND' | 'LEDGER_UNSUPPORTED_VERSION', message: string) => Error;
  /** The error for a schema newer than this code. */
  readonly tooNew: (found: number) => Error;
  readonly missing: (before: number) => string;
}

/** The version a component's schema is at in the database (0: none). */
export async function componentVersion(client: pg.ClientBase, component: string): Promise<number> {
  const exists = await client.query(`SELECT to_regclass('hallmark_migrations') AS t`);
  if (exists.rows[0].t === null) return 0;
  const r = await client.query('SELECT coalesce(max(version), 0) AS v FROM hallmark_migrations WHERE component = $1', [component]);
  return Number(r.rows[0].v);
}

/**
 * The versioned scheme every component shares: hallmark_migrations (component, version); each
 * migration once, in one transaction, under one advisory lock (replicas starting together do not
 * race); a schema newer than the code refuses.
 */
export async function migrateComponent(client: pg.ClientBase, schema: string, create: boolean, c: ComponentMigrations): Promise<number> {
  const latest = c.migrations[c.migrations.length - 1]!.version;
  const before = await componentVersion(client, c.component);
  if (before > latest) throw c.tooNew(before);
  if (before === latest) return before;
  if (!create) throw c.fail(before === 0 ? 'LEDGER_NOT_FOUND' : 'LEDGER_UNSUPPORTED_VERSION', c.missing(before));
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}`);
    await client.query(LOG_TABLE);
    const now = await componentVersion(client, c.component);
    if (now > latest) throw c.tooNew(now);
    for (const m of c.migrations) {
      if (m.version <= now) continue;
      await client.query(m.sql);
      await client.query('INSERT INTO hallmark_migrations (component, version) VALUES ($1, $2)', [c.component, m.version]);
    }
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
  return before;
}

/** A PostgreSQL identifier for a schema name we were given: letters, digits and _ only. */
export function quoteIdent(name: string): string {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) throw new RangeError(`schema name ${JSON.stringify(name)} must be lower-case letters, digits and _ (at most 63)`);
  return `"${name}"`;
}
