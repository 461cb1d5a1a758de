// `extraction.suspected` (writer: service): the guard's monitor saw a client's query stream that
// looks like a synthetic extraction attack (PRADA: the minimum distances of its queries are far
// from normal). Written by src/guard/monitor-record.ts.
//   { schema: "hallmark/extraction.suspected/v1", client: API key id, queries: how many so far,
//     test: { name: "shapiro-wilk", n, w, threshold }, rate: queries per minute (recent),
//     action: "alert" | "throttle" | "block" }
// Signed like guard.committed: the guard's service key or the owner's key.
import { invalid } from '../errors.js';
import { checkSchema, isObj, only, type RecordType } from '../record-type.js';
import { CLIENT_ID } from './guard-committed.js';

export const EXTRACTION_SUSPECTED = 'extraction.suspected';
export const EXTRACTION_SUSPECTED_SCHEMA = 'hallmark/extraction.suspected/v1';
export const SUSPECT_ACTIONS = ['alert', 'throttle', 'block'] as const;
export type SuspectAction = (typeof SUSPECT_ACTIONS)[number];

export interface ExtractionSuspectedRecord {
  readonly schema: typeof EXTRACTION_SUSPECTED_SCHEMA;
  readonly client: string;
  readonly queries: number;
  readonly test: { readonly name: 'shapiro-wilk'; readonly n: number; readonly w: number; readonly threshold: number };
  readonly rate: number;
  readonly action: SuspectAction;
}

const num = (v: unknown, lo: number, hi: number): v is number => typeof v === 'number' && Number.isFinite(v) && v >= lo && v <= hi;

export function readExtractionSuspected(payload: unknown, where = EXTRACTION_SUSPECTED): ExtractionSuspectedRecord {
  const p = checkSchema(payload, EXTRACTION_SUSPECTED, EXTRACTION_SUSPECTED_SCHEMA, where);
  only(p, ['schema', 'client', 'queries', 'test', 'rate', 'action'], where);
  if (typeof p.client !== 'string' || !CLIENT_ID.test(p.client)) throw invalid(`${where}: client must be an API key id`);
  if (!Number.isSafeInteger(p.queries) || (p.queries as number) < 1) throw invalid(`${where}: queries must be a positive integer`);
  if (!num(p.rate, 0, 1e12)) throw invalid(`${where}: rate must be a non-negative number`);
  if (!(SUSPECT_ACTIONS as readonly unknown[]).includes(p.action)) throw invalid(`${where}: action must be one of ${SUSPECT_ACTIONS.join(', ')}`);
  const t = p.test;
  if (!isObj(t) || Object.keys(t).sort().join() !== 'n,name,threshold,w' || t.name !== 'shapiro-wilk' || !Number.isSafeInteger(t.n) || !num(t.w, 0, 1) || !num(t.threshold, 0, 1)) {
    throw invalid(`${where}: test must be { name: "shapiro-wilk", n, w, threshold }`);
  }
  return { schema: EXTRACTION_SUSPECTED_SCHEMA, client: p.client, queries: p.queries as number, test: { name: 'shapiro-wilk', n: t.n as number, w: t.w, threshold: t.threshold }, rate: p.rate, action: p.action as SuspectAction };
}

export const extractionSuspected: RecordType<ExtractionSuspectedRecord> = {
  type: EXTRACTION_SUSPECTED,
  schema: EXTRACTION_SUSPECTED_SCHEMA,
  writer: 'service',
  decode: (p) => readExtractionSuspected(p),
};
