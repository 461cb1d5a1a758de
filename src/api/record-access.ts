// access.recorded: who downloaded what, when. Compliance asks "who accessed this model / this
// evidence?"; the answer is in the log, appended by the server as it serves the file (the actor
// is the calling key, the time is the entry's). Written only by appendAccess below; the lead
// moves this schema into src/records (writer: the server's service key).
import type { JsonObject, Ledger, StoredEntry } from '../../ledger/index.js';
import { ApiError } from './errors.js';

export const TYPE = 'access.recorded';
export const SCHEMA = 'hallmark/access.recorded/v1';

export type AccessKind = 'model' | 'evidence' | 'provenance';
const KINDS: readonly AccessKind[] = ['model', 'evidence', 'provenance'];

export interface AccessRecord {
  readonly schema: typeof SCHEMA;
  /** What was read: a marked model of an embed job, an evidence file, a provenance bundle. */
  readonly resource: { readonly kind: AccessKind; readonly id: string; readonly file: string; readonly size: number };
  /** The route that served it, e.g. "GET /v1/evidence/{jobId}/files/{name}". */
  readonly route: string;
}

const bad = (why: string) => new ApiError('API_INVALID_REQUEST', `access.recorded payload is invalid: ${why}`);
const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const keysExactly = (o: Record<string, unknown>, keys: readonly string[], what: string) => {
  for (const k of Object.keys(o)) if (!keys.includes(k)) throw bad(`${what} has an unknown field "${k.slice(0, 40)}"`);
  for (const k of keys) if (!(k in o)) throw bad(`${what} has no field "${k}"`);
};
const text = (v: unknown, what: string, re: RegExp) => {
  if (typeof v !== 'string' || !re.test(v)) throw bad(`${what} must match ${re}`);
  return v;
};

/** Strict decoder: exactly the fields above, bounded strings, a known kind. */
export function decode(payload: unknown): AccessRecord {
  if (!isObj(payload)) throw bad('not an object');
  keysExactly(payload, ['schema', 'resource', 'route'], 'payload');
  if (payload.schema !== SCHEMA) throw bad(`schema must be "${SCHEMA}"`);
  const r = payload.resource;
  if (!isObj(r)) throw bad('resource is not an object');
  keysExactly(r, ['kind', 'id', 'file', 'size'], 'resource');
  if (!KINDS.includes(r.kind as AccessKind)) throw bad(`resource.kind must be one of ${KINDS.join(', ')}`);
  if (typeof r.size !== 'number' || !Number.isSafeInteger(r.size) || r.size < 0) throw bad('resource.size must be a non-negative integer');
  return {
    schema: SCHEMA,
    resource: { kind: r.kind as AccessKind, id: text(r.id, 'resource.id', /^[0-9a-f][0-9a-f-]{7,63}$/), file: text(r.file, 'resource.file', /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/), size: r.size },
    route: text(payload.route, 'route', /^(GET|HEAD) \/(v1|console)\/[A-Za-z0-9/{}._-]{1,200}$/), // console downloads too
  };
}

/** Appends one access entry as `actor` (the calling key); the record is decoded before it is written. */
export function appendAccess(ledger: Ledger, actor: string, record: Omit<AccessRecord, 'schema'>): StoredEntry {
  const payload = decode({ schema: SCHEMA, ...record });
  return ledger.append({ type: TYPE, actor, payload: payload as unknown as JsonObject });
}
