// The stores the ledger contract suite runs against: SQLite files and PostgreSQL schemas (one
// fresh schema per ledger, on the cluster the global setup started). Each gives a way to open a
// ledger, a raw SQL handle on its real rows (for the tamper tests), a copy, and the line a child
// process uses to open the same ledger.
import Database from 'better-sqlite3';
import { copyFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { inject } from 'vitest';
import { openLedger, openPostgresLedger, type Clock, type Ledger } from '../../ledger/index.js';
import { REPO } from '../helpers/paths.js';

export interface OpenOptions {
  readonly signerKey?: string;
  readonly create?: boolean;
  readonly clock?: Clock;
}

/** SQL on a store's real rows. Queries use SQLite spelling: tables entries / nodes / checkpoints, ? parameters, zeroblob(32). */
export interface RawDb {
  run(sql: string, ...params: unknown[]): Promise<void>;
  get<T>(sql: string, ...params: unknown[]): Promise<T | undefined>;
  close(): Promise<void>;
}

export interface StoreUnderTest {
  readonly name: 'sqlite' | 'postgres';
  /** A new, empty location: a file path or a schema name. */
  fresh(): string;
  open(loc: string, options?: OpenOptions): Ledger;
  raw(loc: string): Promise<RawDb>;
  copy(loc: string): Promise<string>;
  /** JavaScript (ESM) for a child process: defines `openAt(loc)` from the compiled dist/. */
  readonly childPrelude: string;
}

const dist = JSON.stringify(join(REPO, 'dist/ledger/index.js'));

export const sqliteStore: StoreUnderTest = {
  name: 'sqlite',
  fresh: () => join(mkdtempSync(join(tmpdir(), 'hm-store-')), 'ledger.db'),
  open: (loc, options = {}) => openLedger(loc, options),
  raw: async (loc) => {
    const db = new Database(loc);
    return {
      run: async (sql, ...params) => void db.prepare(sql).run(...params),
      get: async <T>(sql: string, ...params: unknown[]) => db.prepare(sql).get(...params) as T | undefined,
      close: async () => void db.close(),
    };
  },
  copy: async (loc) => {
    const to = sqliteStore.fresh();
    copyFileSync(loc, to);
    return to;
  },
  childPrelude: `const { openLedger } = await import(${dist}); const openAt = (loc) => openLedger(loc);`,
};

let schemas = 0;
const url = () => {
  const u = inject('postgresUrl');
  if (!u) throw new Error('no PostgreSQL for this run: the global setup starts one for contract-*, replicas* and *postgres* test files (or set HALLMARK_TEST_DATABASE_URL)');
  return u;
};

const TABLES = ['hallmark_migrations', 'ledger_meta', 'ledger_head', 'ledger_entries', 'ledger_nodes', 'ledger_checkpoints'];

async function pgClient(schema?: string): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: url(), ...(schema ? { options: `-c search_path=${schema}` } : {}) });
  await c.connect();
  return c;
}

/** SQLite spelling to PostgreSQL: table names, $n parameters, zeroblob. */
function toPg(sql: string): string {
  let n = 0;
  return sql
    .replace(/\b(entries|nodes|checkpoints)\b/g, 'ledger_$1')
    .replace(/zeroblob\(32\)/g, `decode(repeat('00', 32), 'hex')`)
    .replace(/\?/g, () => `$${++n}`);
}

export const postgresStore: StoreUnderTest = {
  name: 'postgres',
  fresh: () => `t_${process.pid}_${Date.now().toString(36)}_${schemas++}`,
  // Generous call timeout: on a loaded shared machine a worker can take tens of seconds to start.
  open: (loc, options = {}) => openPostgresLedger(url(), { timeoutMs: 300_000, ...options, schema: loc }),
  raw: async (loc) => {
    const c = await pgClient(loc);
    return {
      run: async (sql, ...params) => void (await c.query(toPg(sql), params)),
      get: async <T>(sql: string, ...params: unknown[]) => (await c.query(toPg(sql), params)).rows[0] as T | undefined,
      close: () => c.end(),
    };
  },
  copy: async (loc) => {
    const to = postgresStore.fresh();
    const c = await pgClient();
    try {
      await c.query(`CREATE SCHEMA ${to}`);
      for (const t of TABLES) {
        await c.query(`CREATE TABLE ${to}.${t} (LIKE ${loc}.${t} INCLUDING ALL)`);
        await c.query(`INSERT INTO ${to}.${t} SELECT * FROM ${loc}.${t}`);
      }
    } finally {
      await c.end();
    }
    return to;
  },
  get childPrelude() {
    return `const { openPostgresLedger } = await import(${dist}); const openAt = (loc) => openPostgresLedger(${JSON.stringify(url())}, { schema: loc, timeoutMs: 300_000 });`;
  },
};

export const STORES: StoreUnderTest[] = [sqliteStore, postgresStore];
