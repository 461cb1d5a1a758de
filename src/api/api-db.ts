// api.db: the server's own state (API keys, jobs), kept apart from ledger.db so that the ledger
// stays a pure append-only log.
import Database from 'better-sqlite3';
import { chmodSync, closeSync, mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';

export function apiDbPath(homeDir: string): string {
  return join(homeDir, 'api.db');
}

/** Opens (creating if needed) the API database in a home folder. */
export function openApiDb(homeDir: string): Database.Database {
  mkdirSync(homeDir, { recursive: true, mode: 0o700 });
  // SQLite gives -wal and -shm the mode of the database file: make it 0600 before it opens.
  const path = apiDbPath(homeDir);
  closeSync(openSync(path, 'a', 0o600)); // creates it 0600 if missing, changes nothing if present
  chmodSync(path, 0o600);
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('busy_timeout = 10000');
  return db;
}
