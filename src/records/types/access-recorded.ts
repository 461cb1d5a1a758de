// `access.recorded` (writer: server): who downloaded what, when. Compliance asks "who accessed
// this model / this evidence?"; the answer is in the log, appended by the API server as it
// serves the file (the actor is the calling key, the time is the entry's). Like the api.* audit
// entries it is protected (the generic append refuses it) but unsigned: the server may run
// without a key it may sign with. Written by src/api/record-access.ts.
//   { schema: "hallmark/access.recorded/v1",
//     resource: { kind: "model" | "evidence" | "provenance", id, file, size },
//     route: e.g. "GET /v1/evidence/{jobId}/files/{name}" }
import { RecordError } from '../errors.js';
import { isObj, type RecordType } from '../record-type.js';

export const ACCESS_RECORDED = 'access.recorded';
export const ACCESS_RECORDED_SCHEMA = 'hallmark/access.recorded/v1';

export type AccessKind = 'model' | 'evidence' | 'provenance';
const KINDS: readonly AccessKind[] = ['model', 'evidence', 'provenance'];

export interface AccessRecord {
  readonly schema: typeof ACCESS_RECORDED_SCHEMA;
  /** What was read: a marked model of an embed job, an evidence file, a provenance bundle. */
  readonly resource: { readonly kind: AccessKind; readonly id: string; readonly file: string; readonly size: number };
  /** The route that served it, e.g. "GET /v1/evidence/{jobId}/files/{name}". */
  readonly route: string;
}

const bad = (why: string) => new RecordError('RECORD_INVALID', `access.recorded payload is invalid: ${why}`);
const keysExactly = (o: Record<string, unknown>, keys: readonly string[], what: string) => {
  for (const k of Object.keys(o)) if (!keys.includes(k)) throw bad(`${what} has an unknown field "${k.slice(0, 40)}"`);
  for (const k of keys) if (!(k in o)) throw bad(`${what} has no field "${k}"`);
};
const text = (v: unknown, what: string, re: RegExp) => {
  if (typeof v !== 'string' || !re.test(v)) throw bad(`${what} must match ${re}`);
  return v;
};

/** Strict decoder: exactly the fields above, bounded strings, a known kind. */
export function readAccessRecord(payload: unknown): AccessRecord {
  if (!isObj(payload)) throw bad('not an object');
  if (typeof payload.schema === 'string' && payload.schema !== ACCESS_RECORDED_SCHEMA && payload.schema.startsWith('hallmark/access.recorded/')) {
    throw new RecordError('RECORD_UNSUPPORTED_VERSION', `access.recorded has schema "${payload.schema.slice(0, 80)}"; this reader knows only "${ACCESS_RECORDED_SCHEMA}" (upgrade hallmark)`);
  }
  keysExactly(payload, ['schema', 'resource', 'route'], 'payload');
  if (payload.schema !== ACCESS_RECORDED_SCHEMA) throw bad(`schema must be "${ACCESS_RECORDED_SCHEMA}"`);
  const r = payload.resource;
  if (!isObj(r)) throw bad('resource is not an object');
  keysExactly(r, ['kind', 'id', 'file', 'size'], 'resource');
  if (!KINDS.includes(r.kind as AccessKind)) throw bad(`resource.kind must be one of ${KINDS.join(', ')}`);
  if (typeof r.size !== 'number' || !Number.isSafeInteger(r.size) || r.size < 0) throw bad('resource.size must be a non-negative integer');
  return {
    schema: ACCESS_RECORDED_SCHEMA,
    resource: { kind: r.kind as AccessKind, id: text(r.id, 'resource.id', /^[0-9a-f][0-9a-f-]{7,63}$/), file: text(r.file, 'resource.file', /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/), size: r.size },
    route: text(payload.route, 'route', /^(GET|HEAD) \/(v1|console)\/[A-Za-z0-9/{}._-]{1,200}$/), // console downloads too
  };
}

export const accessRecorded: RecordType<AccessRecord> = {
  type: ACCESS_RECORDED,
  schema: ACCESS_RECORDED_SCHEMA,
  writer: 'server',
  decode: (p) => readAccessRecord(p),
};
