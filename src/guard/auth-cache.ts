// Key checks on the guard's hot path. Every inference request carries a client key; looking it up
// in api.db costs a SQLite read transaction (about 0.02 ms, a tenth of a small model's request).
// A successful check is therefore remembered for a short time (default 1 s), under the SHA-256
// of the token, never the token itself. A revoked key (`hallmark keys revoke`, from any process)
// stops working within that time; a key never used, or refused, is looked up on every request
// (failures are never remembered).
import { createHash, hash } from 'node:crypto';
import type { AuthResult, KeyStore } from '../api/keys.js';

export const AUTH_CACHE_MS = 1000;

/** SHA-256 of the token (base64): node:crypto's one-shot hash where this Node has it (20.12+). */
const tokenId: (token: string) => string = typeof hash === 'function'
  ? (token) => hash('sha256', token, 'base64')
  : (token) => createHash('sha256').update(token, 'utf8').digest('base64');
const MAX_ENTRIES = 10_000;

export class AuthCache {
  private readonly hits = new Map<string, { result: Extract<AuthResult, { ok: true }>; until: number }>();

  constructor(
    private readonly keys: KeyStore,
    private readonly ttlMs = AUTH_CACHE_MS,
    private readonly now: () => number = () => performance.now(),
  ) {}

  authenticate(token: string): AuthResult {
    const id = tokenId(token);
    const t = this.now();
    const hit = this.hits.get(id);
    if (hit && hit.until > t) return hit.result;
    const r = this.keys.authenticate(token);
    if (!r.ok) {
      this.hits.delete(id);
      return r;
    }
    if (this.ttlMs > 0) {
      if (this.hits.size >= MAX_ENTRIES) this.hits.clear(); // bounded: a flood of keys only costs lookups
      this.hits.set(id, { result: r, until: t + this.ttlMs });
    }
    return r;
  }

  /** Forgets every remembered check (after a revocation through this process). */
  clear(): void {
    this.hits.clear();
  }
}
