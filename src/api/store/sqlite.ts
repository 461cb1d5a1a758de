// The API's rows in api.db (SQLite): one server per home, so a job is claimed by flipping it to
// running and there is no lease; a job left running by a server that stopped is failed at start.
import type Database from 'better-sqlite3';
import type { JobClaim, JobEnd, JobRow, JobRows, KeyRow, KeyRows } from './rows.js';

const KEY_SCHEMA = `
CREATE TABLE IF NOT EXISTS api_keys (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  role TEXT NOT NULL,
  hash BLOB NOT NULL,
  created_at TEXT NOT NULL,
  revoked_at TEXT
);
`;

const JOB_SCHEMA = `
CREATE TABLE IF NOT EXISTS jobs (
  id TEXT PRIMARY KEY,
  kind TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed')),
  actor TEXT NOT NULL,
  params TEXT NOT NULL,
  progress TEXT,
  result TEXT,
  error_code TEXT,
  error_message TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS jobs_by_status ON jobs (status, created_at);
`;

/** Columns added with the PostgreSQL store; older api.db files get them on open. */
const ADDED_COLUMNS: readonly [string, string][] = [
  ['attempts', 'INTEGER NOT NULL DEFAULT 0'],
  ['claimed_by', 'TEXT'],
  ['taken_over_from', "TEXT NOT NULL DEFAULT '[]'"],
];

export function sqliteKeyRows(db: Database.Database): KeyRows {
  db.exec(KEY_SCHEMA);
  const byId = db.prepare<[string], KeyRow>('SELECT * FROM api_keys WHERE id = ?');
  const all = db.prepare<[], KeyRow>('SELECT * FROM api_keys ORDER BY created_at, id');
  const insert = db.prepare('INSERT INTO api_keys (id, name, role, hash, created_at, revoked_at) VALUES (?, ?, ?, ?, ?, NULL)');
  const revoke = db.prepare('UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL');
  const del = db.prepare('DELETE FROM api_keys WHERE id = ?');
  return {
    byId: (id) => byId.get(id),
    all: () => all.all(),
    insert: (r) => void insert.run(r.id, r.name, r.role, r.hash, r.created_at),
    revoke: (id, at) => void revoke.run(at, id),
    remove: (id) => void del.run(id),
  };
}

type SqliteJobRow = Omit<JobRow, 'taken_over_from'> & { taken_over_from: string };
const toRow = (r: SqliteJobRow | undefined): JobRow | undefined => (r ? { ...r, taken_over_from: JSON.parse(r.taken_over_from) as string[] } : undefined);

export function sqliteJobRows(db: Database.Database): JobRows {
  db.exec(JOB_SCHEMA);
  const have = new Set((db.prepare('PRAGMA table_info(jobs)').all() as { name: string }[]).map((c) => c.name));
  for (const [name, type] of ADDED_COLUMNS) if (!have.has(name)) db.exec(`ALTER TABLE jobs ADD COLUMN ${name} ${type}`);
  const st = {
    insert: db.prepare("INSERT INTO jobs (id, kind, status, actor, params, created_at, updated_at) VALUES (?, ?, 'queued', ?, ?, ?, ?)"),
    get: db.prepare<[string], SqliteJobRow>('SELECT * FROM jobs WHERE id = ?'),
    // Alone, every queued job is this server's: one of an unknown kind is claimed and failed.
    next: db.prepare<[], SqliteJobRow>("SELECT * FROM jobs WHERE status = 'queued' ORDER BY created_at, rowid LIMIT 1"),
    start: db.prepare("UPDATE jobs SET status = 'running', claimed_by = ?, attempts = attempts + 1, updated_at = ? WHERE id = ? AND status = 'queued'"),
    progress: db.prepare("UPDATE jobs SET progress = ?, updated_at = ? WHERE id = ? AND claimed_by = ? AND attempts = ? AND status = 'running'"),
    succeed: db.prepare("UPDATE jobs SET status = 'succeeded', result = ?, claimed_by = NULL, updated_at = ? WHERE id = ? AND claimed_by = ? AND attempts = ? AND status = 'running'"),
    fail: db.prepare("UPDATE jobs SET status = 'failed', error_code = ?, error_message = ?, claimed_by = NULL, updated_at = ? WHERE id = ? AND claimed_by = ? AND attempts = ? AND status = 'running'"),
    failAny: db.prepare("UPDATE jobs SET status = 'failed', error_code = ?, error_message = ?, claimed_by = NULL, updated_at = ? WHERE id = ? AND status IN ('queued', 'running')"),
    running: db.prepare<[], { id: string }>("SELECT id FROM jobs WHERE status = 'running'"),
  };
  const claimArgs = (c: JobClaim) => [c.id, c.replica, c.attempt] as const;
  return {
    shared: false,
    insert: (r) => void st.insert.run(r.id, r.kind, r.actor, r.params, r.at, r.at),
    get: (id) => toRow(st.get.get(id)),
    list({ status, kind, limit }) {
      const where: string[] = [];
      const args: (string | number)[] = [];
      if (status) { where.push('status = ?'); args.push(status); }
      if (kind) { where.push('kind = ?'); args.push(kind); }
      const sql = `SELECT * FROM jobs ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at DESC, rowid DESC LIMIT ?`;
      return (db.prepare(sql).all(...args, limit) as SqliteJobRow[]).map((r) => toRow(r)!);
    },
    claimNext(replica, _kinds, at) {
      const row = st.next.get();
      if (!row) return undefined;
      st.start.run(replica, at, row.id);
      return toRow(st.get.get(row.id));
    },
    progress: (c, p, at) => st.progress.run(p, at, ...claimArgs(c)).changes === 1,
    finish(c, end: JobEnd, at) {
      const r = end.status === 'succeeded' ? st.succeed.run(end.result, at, ...claimArgs(c)) : st.fail.run(end.code, end.message, at, ...claimArgs(c));
      return r.changes === 1;
    },
    failUnclaimed: (id, code, message, at) => void st.failAny.run(code, message, at, id),
    heartbeat: (_replica, ids) => [...ids],
    release: () => false,
    running: () => st.running.all().map((r) => r.id),
  };
}
