// api.db: the server's own state (API keys, jobs), kept apart from ledger.db so that the ledger
// stays a pure append-only log.
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

export function apiDbPath(homeDir: string): string {
  return join(homeDir, 'api.db');
}

/** Opens (creating if needed) the API database in a home folder. */
export function openApiDb(homeDir: string): Database.Database {
  mkdirSync(homeDir, { recursive: true, mode: 0o700 });
  const db = new Database(apiDbPath(homeDir));
  db.pragma('journal_mode = WAL');
  db.pragma('busy_timeout = 10000');
  return db;
}
