// API keys: 32 random bytes shown once at creation, stored only as a SHA-256 hash (api.db or
// PostgreSQL: store/) and
// compared in constant time. A key reads `hm_<id>_<secret>`: the id (public, 12 hex digits) finds
// the row, the hash of the whole key must then match.
import type Database from 'better-sqlite3';
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../../ledger/index.js';
import { ApiError } from './errors.js';
import { isRole, ROLES, type Role } from './roles.js';
import { sqliteKeyRows } from './store/sqlite.js';
import type { KeyRow, KeyRows } from './store/rows.js';

export interface ApiKeyInfo {
  readonly id: string;
  readonly name: string;
  readonly role: Role;
  readonly createdAt: string;
  readonly revokedAt: string | null;
}

export type AuthResult = { ok: true; key: ApiKeyInfo } | { ok: false; reason: 'malformed' | 'unknown' | 'revoked' };

export interface KeyStore {
  /** Creates a key; `secret` is the only copy of the key and is never stored. */
  create(input: { role: Role; name: string }): { key: ApiKeyInfo; secret: string };
  list(): ApiKeyInfo[];
  get(id: string): ApiKeyInfo;
  revoke(id: string): ApiKeyInfo;
  /** Deletes a key outright; only to undo a creation whose ledger record failed. */
  remove(id: string): void;
  authenticate(token: string): AuthResult;
}

const PREFIX = 'hm_';
const TOKEN_RE = /^hm_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$/;
const ID_RE = /^[0-9a-f]{12}$/;
const NAME_RE = /^[\x20-\x7e]{1,100}$/;
// Compared against when the id is unknown, so that both paths hash and compare.
const DUMMY_HASH = Buffer.alloc(32);

type Row = KeyRow;

function hashToken(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

function toInfo(r: Row): ApiKeyInfo {
  // Only a hand-edited api.db gets here: a server fault, not the caller's.
  if (!isRole(r.role)) throw new Error(`api.db holds key ${r.id} with unknown role "${r.role}"`);
  return { id: r.id, name: r.name, role: r.role, createdAt: r.created_at, revokedAt: r.revoked_at };
}

export function checkKeyName(name: unknown): string {
  if (typeof name !== 'string' || !NAME_RE.test(name)) throw new ApiError('API_INVALID_REQUEST', 'key name must be 1-100 printable ASCII characters');
  return name;
}

export function checkRole(role: unknown): Role {
  if (!isRole(role)) throw new ApiError('API_INVALID_REQUEST', `role must be one of: ${ROLES.join(', ')}`);
  return role;
}

/** Key storage on an open api.db (see openApiDb), or on the rows of another store (PostgreSQL: store/). */
export function openKeyStore(db: Database.Database | KeyRows, options: { clock?: Clock } = {}): KeyStore {
  const clock = options.clock ?? (() => new Date());
  const rows = 'prepare' in db ? sqliteKeyRows(db) : db;
  const byId = { get: (id: string) => rows.byId(id) };

  const get = (id: string): ApiKeyInfo => {
    const row = ID_RE.test(id) ? byId.get(id) : undefined;
    if (!row) throw new ApiError('API_KEY_NOT_FOUND', `no API key with id "${id.slice(0, 40)}"; "hallmark keys list" shows the ids`);
    return toInfo(row);
  };

  return {
    create({ role, name }) {
      checkRole(role);
      checkKeyName(name);
      const id = randomBytes(6).toString('hex');
      const secret = `${PREFIX}${id}_${randomBytes(32).toString('base64url')}`;
      rows.insert({ id, name, role, hash: hashToken(secret), created_at: clock().toISOString() });
      return { key: get(id), secret };
    },
    list: () => rows.all().map(toInfo),
    get,
    revoke(id) {
      get(id);
      rows.revoke(id, clock().toISOString());
      return get(id);
    },
    remove(id) {
      rows.remove(id);
    },
    authenticate(token) {
      const m = TOKEN_RE.exec(token);
      if (!m) return { ok: false, reason: 'malformed' };
      const row = byId.get(m[1]!);
      const match = timingSafeEqual(hashToken(token), row ? row.hash : DUMMY_HASH);
      if (!row || !match) return { ok: false, reason: 'unknown' };
      if (row.revoked_at !== null) return { ok: false, reason: 'revoked' };
      return { ok: true, key: toInfo(row) };
    },
  };
}
