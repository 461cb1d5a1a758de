// What a ledger entry type is: its name, its versioned schema, who may write it and a strict
// decoder. One file per type under types/ exports one of these; registry.ts lists them all.
//
//   writer 'owner'    only the owner's key signs it (the home's owner.key)
//   writer 'service'  the owner's key or a service key listed in the home's config.json
//   writer 'server'   only the API server's own code path (api.* audit entries); not signed,
//                     since a server without the passphrase holds no key it may use
//   writer 'open'     anyone with append rights; no signature (registrations, notes)
//
// Every type but 'open' is PROTECTED: the generic append refuses it. For 'owner' and 'service'
// readers accept only entries whose signature verifies under a key entitled to write them.
import type { JsonObject } from '../../ledger/index.js';
import { RecordError } from './errors.js';

export type RecordWriter = 'owner' | 'service' | 'server' | 'open';

export interface RecordType<T> {
  readonly type: string;
  readonly schema: string;
  readonly writer: RecordWriter;
  /** Strict: throws RecordError RECORD_INVALID or RECORD_UNSUPPORTED_VERSION. Never sees `signature`. */
  decode(payload: unknown): T;
}

export function isProtected(t: RecordType<unknown>): boolean {
  return t.writer !== 'open';
}

/** Whether readers require a signature by an entitled key. */
export function isSigned(t: RecordType<unknown>): boolean {
  return t.writer === 'owner' || t.writer === 'service';
}

type O = Record<string, unknown>;

export const isObj = (v: unknown): v is O => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Checks `schema` first: a later version of the same type is RECORD_UNSUPPORTED_VERSION. */
export function checkSchema(p: unknown, type: string, schema: string, where = type): JsonObject {
  if (!isObj(p)) throw new RecordError('RECORD_INVALID', `${where} payload is not an object`);
  if (p.schema !== schema) {
    if (typeof p.schema === 'string' && p.schema.startsWith(`hallmark/${type}/`)) {
      throw new RecordError('RECORD_UNSUPPORTED_VERSION', `${where} has schema "${p.schema.slice(0, 80)}"; this reader knows only "${schema}" (upgrade hallmark)`);
    }
    throw new RecordError('RECORD_INVALID', `${where} has no schema "${schema}"`);
  }
  return p as JsonObject;
}

export function only(o: O, allowed: readonly string[], where: string): void {
  for (const k of Object.keys(o)) if (!allowed.includes(k)) throw new RecordError('RECORD_INVALID', `${where} has an unknown field "${k.slice(0, 40)}"`);
}

export const MAX_COUNT = 1 << 24;
export const HEX64 = /^[0-9a-f]{64}$/;
export const isCount = (v: unknown, max = MAX_COUNT): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 && v <= max;
export const isProb = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0 && v <= 1;
export const isHex64 = (v: unknown): v is string => typeof v === 'string' && HEX64.test(v);
export const isShortString = (v: unknown, max = 500): v is string => typeof v === 'string' && v.length > 0 && v.length <= max;
