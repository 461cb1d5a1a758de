// extraction.suspected: the guard's monitor saw a client's query stream that looks like a
// synthetic extraction attack (PRADA: the minimum distances of its queries are far from normal).
//   { schema: "hallmark/extraction.suspected/v1", client: API key id, queries: how many so far,
//     test: { name: "shapiro-wilk", n, w, threshold }, rate: queries per minute (recent),
//     action: "alert" | "throttle" | "block" }
// Signed by: the owner's key (or a service key of the guard) once src/records lands.
import { GuardError } from './errors.js';

export const TYPE = 'extraction.suspected';
export const SCHEMA = 'hallmark/extraction.suspected/v1';
export const ACTIONS = ['alert', 'throttle', 'block'] as const;
export type SuspectAction = (typeof ACTIONS)[number];

export interface ExtractionSuspected {
  readonly schema: typeof SCHEMA;
  readonly client: string;
  readonly queries: number;
  readonly test: { readonly name: 'shapiro-wilk'; readonly n: number; readonly w: number; readonly threshold: number };
  readonly rate: number;
  readonly action: SuspectAction;
}

const bad = (m: string) => new GuardError('GUARD_RECORD_INVALID', `extraction.suspected: ${m}`);
const num = (v: unknown, lo: number, hi: number) => typeof v === 'number' && Number.isFinite(v) && v >= lo && v <= hi;

export function decodeExtractionSuspected(payload: unknown): ExtractionSuspected {
  const p = payload as Record<string, unknown>;
  if (typeof p !== 'object' || p === null || Array.isArray(p)) throw bad('payload is not an object');
  const keys = Object.keys(p).sort().join(',');
  if (keys !== 'action,client,queries,rate,schema,test') throw bad(`unexpected fields (${keys.slice(0, 80)})`);
  if (p.schema !== SCHEMA) throw bad(`schema must be ${SCHEMA}`);
  if (typeof p.client !== 'string' || !/^[0-9a-f]{12}$/.test(p.client)) throw bad('client must be an API key id');
  if (!Number.isSafeInteger(p.queries) || (p.queries as number) < 1) throw bad('queries must be a positive integer');
  if (!num(p.rate, 0, 1e12)) throw bad('rate must be a non-negative number');
  if (!(ACTIONS as readonly unknown[]).includes(p.action)) throw bad(`action must be one of ${ACTIONS.join(', ')}`);
  const t = p.test as Record<string, unknown>;
  if (typeof t !== 'object' || t === null || t.name !== 'shapiro-wilk' || !Number.isSafeInteger(t.n) || !num(t.w, 0, 1) || !num(t.threshold, 0, 1) || Object.keys(t).length !== 4) {
    throw bad('test must be { name: "shapiro-wilk", n, w, threshold }');
  }
  return { schema: SCHEMA, client: p.client, queries: p.queries as number, test: { name: 'shapiro-wilk', n: t.n as number, w: t.w as number, threshold: t.threshold as number }, rate: p.rate as number, action: p.action as SuspectAction };
}
