// The API's own state (keys, jobs): api.db in the home (SQLite, default) or PostgreSQL when the
// home's ledger is there (--database / $HALLMARK_DATABASE_URL). One interface (rows.ts).
import { homeDatabaseUrl } from '../../home/index.js';
import { openApiDb } from '../api-db.js';
import { openPgApiStore } from './pg-api.js';
import type { JobRows, KeyRows } from './rows.js';
import { sqliteJobRows, sqliteKeyRows } from './sqlite.js';

export type { JobClaim, JobEnd, JobFilter, JobRow, JobRows, KeyRow, KeyRows } from './rows.js';
export { sqliteJobRows, sqliteKeyRows } from './sqlite.js';
export { openPgApiStore, type PgApiStore } from './pg-api.js';
export { migrateApi, API_SCHEMA_VERSION } from './pg-schema.js';

export interface ApiStore {
  readonly engine: 'sqlite' | 'postgres';
  readonly keys: KeyRows;
  readonly jobs: JobRows;
  close(): void;
}

export interface OpenApiStoreOptions {
  /** PostgreSQL URL; default $HALLMARK_DATABASE_URL (required when the home's ledger is in PostgreSQL). */
  readonly database?: string;
  /** PostgreSQL schema (default "hallmark", beside the ledger's tables). */
  readonly schema?: string;
}

/**
 * Opens the home's API state. In PostgreSQL the tables are created or migrated on open: they are
 * the server's own state, versioned like the ledger's, and a newer schema refuses to start.
 */
export function openApiStore(homeDir: string, options: OpenApiStoreOptions = {}): ApiStore {
  const url = homeDatabaseUrl(homeDir, options.database);
  if (url) {
    const pg = openPgApiStore({ url, create: true, ...(options.schema ? { schema: options.schema } : {}) });
    return { engine: 'postgres', keys: pg.keys, jobs: pg.jobs, close: () => pg.close() };
  }
  const db = openApiDb(homeDir);
  return { engine: 'sqlite', keys: sqliteKeyRows(db), jobs: sqliteJobRows(db), close: () => db.close() };
}
