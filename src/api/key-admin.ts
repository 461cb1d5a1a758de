// Key management that leaves a trace: creating or revoking a key appends an entry to the ledger
// naming the key id, its role and who did it (never the secret). Used by the CLI and the API.
import type { Ledger } from '../../ledger/index.js';
import type { ApiKeyInfo, KeyStore } from './keys.js';
import type { Role } from './roles.js';
import { apiKeyCreated, apiKeyRevoked, appendRecord } from '../records/index.js';

export const KEY_CREATED = 'api.key-created';
export const KEY_REVOKED = 'api.key-revoked';

/** Creates a key and records it; if the ledger refuses the record, the key is removed again. */
export function createRecordedKey(keys: KeyStore, ledger: Ledger, input: { role: Role; name: string }, actor: string): { key: ApiKeyInfo; secret: string; index: number } {
  const created = keys.create(input);
  try {
    const e = appendRecord(ledger, apiKeyCreated, { schema: apiKeyCreated.schema, keyId: created.key.id, name: created.key.name, role: created.key.role }, undefined, actor);
    return { ...created, index: e.index };
  } catch (err) {
    keys.remove(created.key.id);
    throw err;
  }
}

/** Revokes a key and records it; revoking an already revoked key changes nothing and records nothing. */
export function revokeRecordedKey(keys: KeyStore, ledger: Ledger, id: string, actor: string): { key: ApiKeyInfo; index: number | null } {
  const before = keys.get(id);
  if (before.revokedAt !== null) return { key: before, index: null };
  const e = appendRecord(ledger, apiKeyRevoked, { schema: apiKeyRevoked.schema, keyId: id }, undefined, actor);
  return { key: keys.revoke(id), index: e.index };
}
