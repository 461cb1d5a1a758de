// Console sessions: an API key is exchanged once for a random session id held in an HttpOnly,
// SameSite=Strict cookie. The store lives in the server's memory and keeps the key's id, never
// the key: every request re-reads the key (keys.get), so revoking it ends its sessions at once,
// and a server restart ends them all. Sessions are short-lived (idle and absolute limits).
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { Clock } from '../../ledger/index.js';
import type { Role } from '../api/roles.js';

export const SESSION_COOKIE = 'hallmark_console';
/** Idle limit: a session unused this long is gone. */
export const DEFAULT_IDLE_MS = 15 * 60_000;
/** Absolute limit from sign-in, used or not. */
export const DEFAULT_MAX_MS = 8 * 3600_000;
const MAX_SESSIONS = 10_000;

export interface Session {
  readonly id: string;
  readonly keyId: string;
  readonly role: Role;
  /** Sent with every state-changing form; compared in constant time. */
  readonly csrf: string;
  readonly createdAt: number;
  lastSeen: number;
}

export interface SessionStore {
  create(keyId: string, role: Role): Session;
  /** The live session for a cookie value, refreshed; undefined when unknown or expired. */
  get(id: string | undefined): Session | undefined;
  /** Like get, but tells an expired session (ended just now) from an unknown one. */
  lookup(id: string | undefined): Session | 'expired' | undefined;
  end(id: string): void;
  readonly idleMs: number;
}

const token = () => randomBytes(32).toString('base64url');

export function createSessionStore(clock: Clock, options: { idleMs?: number; maxMs?: number } = {}): SessionStore {
  const idleMs = options.idleMs ?? DEFAULT_IDLE_MS;
  const maxMs = options.maxMs ?? DEFAULT_MAX_MS;
  const sessions = new Map<string, Session>();
  const now = () => clock().getTime();
  const expired = (s: Session, t: number) => t - s.lastSeen > idleMs || t - s.createdAt > maxMs || t < s.createdAt;
  const sweep = () => {
    const t = now();
    for (const [id, s] of sessions) if (expired(s, t)) sessions.delete(id);
  };
  const lookup = (id: string | undefined): Session | 'expired' | undefined => {
    if (!id || !/^[A-Za-z0-9_-]{43}$/.test(id)) return undefined;
    const s = sessions.get(id);
    if (!s) return undefined;
    const t = now();
    if (expired(s, t)) {
      sessions.delete(id);
      return 'expired';
    }
    s.lastSeen = t;
    return s;
  };
  return {
    idleMs,
    create(keyId, role) {
      if (sessions.size >= MAX_SESSIONS) sweep();
      if (sessions.size >= MAX_SESSIONS) sessions.delete(sessions.keys().next().value!);
      const t = now();
      const s: Session = { id: token(), keyId, role, csrf: token(), createdAt: t, lastSeen: t };
      sessions.set(s.id, s);
      return s;
    },
    get(id) {
      const s = lookup(id);
      return s === 'expired' ? undefined : s;
    },
    lookup,
    end(id) {
      sessions.delete(id);
    },
  };
}

/** Constant-time comparison of a submitted CSRF token with the session's. */
export function csrfMatches(session: Session, submitted: unknown): boolean {
  if (typeof submitted !== 'string') return false;
  const a = Buffer.from(session.csrf);
  const b = Buffer.from(submitted);
  return a.length === b.length && timingSafeEqual(a, b);
}
