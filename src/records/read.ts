// Reading records back: schema, signature and the signer's entitlement checked per entry. One bad
// entry never stops the rest: readRecords returns it as a problem with its index.
import type { Entry, Ledger, StoredEntry } from '../../ledger/index.js';
import { isHallmarkError } from '../../ledger/index.js';
import { RecordError, type RecordErrorCode } from './errors.js';
import { isObj, isSigned, type RecordType } from './record-type.js';
import { checkRecordSignature, splitSignature } from './signature.js';
import { entitled, type TrustedKeys } from './trust.js';

export interface Verified<T> {
  readonly index: number;
  readonly time: string;
  readonly actor: string;
  /** The key that signed it, and as whom; null for unsigned (open) types. */
  readonly signer: { readonly key: string; readonly as: 'owner' | 'service' } | null;
  readonly record: T;
}

export interface RecordProblem {
  readonly index: number;
  readonly type: string;
  readonly code: RecordErrorCode | string;
  readonly message: string;
}

export interface ReadResult<T> {
  readonly records: Verified<T>[];
  readonly problems: RecordProblem[];
}

/**
 * Checks one entry as a record of type rt: its type, the strict schema, and for signed types
 * the signature (over type, actor and payload) by a key entitled in `trust`. A record that
 * names an owner key (ownerKey) must name the trusted owner. Throws RecordError.
 */
export function verifyRecordEntry<T>(entry: Entry, rt: RecordType<T>, trust: TrustedKeys): Verified<T> {
  const where = `entry ${entry.index}`;
  if (entry.type !== rt.type) throw new RecordError('RECORD_NOT_FOUND', `${where} is a ${entry.type.slice(0, 100)}, not a ${rt.type}`);
  const { body, signature } = splitSignature(entry.payload);
  let record: T;
  try {
    record = rt.decode(body);
  } catch (err) {
    if (err instanceof RecordError) throw new RecordError(err.code, `${where}: ${err.message}`, { cause: err });
    throw err;
  }
  if (!isSigned(rt)) return { index: entry.index, time: entry.time, actor: entry.actor, signer: null, record };
  if (!signature) throw new RecordError('RECORD_UNSIGNED', `${where}: ${rt.type} carries no signature (it was not written by hallmark's own ${rt.type.split('.')[0]} code)`);
  let key: string;
  let as: 'owner' | 'service';
  try {
    key = checkRecordSignature(rt.type, entry.actor, body, signature);
    as = entitled(rt, key, trust);
  } catch (err) {
    if (err instanceof RecordError) throw new RecordError(err.code, `${where}: ${err.message}`, { cause: err });
    throw err;
  }
  const named = isObj(record) ? (record as Record<string, unknown>).ownerKey : undefined;
  if (named !== undefined && named !== trust.owner) throw new RecordError('RECORD_UNTRUSTED_SIGNER', `${where}: ${rt.type} names another owner key than this home's`);
  return { index: entry.index, time: entry.time, actor: entry.actor, signer: { key, as }, record };
}

const PAGE = 1000;

/** Every entry of the type, in index order; each good one a record, each bad one a problem. */
export function readRecords<T>(ledger: Ledger, rt: RecordType<T>, options: { trust: TrustedKeys; from?: number; before?: number }): ReadResult<T> {
  const records: Verified<T>[] = [];
  const problems: RecordProblem[] = [];
  const before = options.before ?? Number.POSITIVE_INFINITY;
  for (let from = options.from ?? 0; ; ) {
    const page = ledger.list({ type: rt.type, from, limit: PAGE });
    for (const e of page) {
      if (e.index >= before) return { records, problems };
      const r = tryRecord(e, rt, options.trust);
      if ('problem' in r) problems.push(r.problem);
      else records.push(r.ok);
    }
    if (page.length < PAGE) return { records, problems };
    from = page[page.length - 1]!.index + 1;
  }
}

function tryRecord<T>(e: StoredEntry, rt: RecordType<T>, trust: TrustedKeys): { ok: Verified<T> } | { problem: RecordProblem } {
  try {
    return { ok: verifyRecordEntry(e.entry, rt, trust) };
  } catch (err) {
    if (!isHallmarkError(err)) throw err;
    return { problem: { index: e.index, type: rt.type, code: err.code, message: err.message } };
  }
}

/** The record at one index, or RecordError naming what is wrong with it. */
export function readRecordAt<T>(ledger: Ledger, index: number, rt: RecordType<T>, trust: TrustedKeys): Verified<T> {
  if (!Number.isSafeInteger(index) || index < 0 || index >= ledger.size()) throw new RecordError('RECORD_NOT_FOUND', `the ledger has no entry ${index}`);
  return verifyRecordEntry(ledger.get(index).entry, rt, trust);
}

export function formatProblem(p: RecordProblem): string {
  return `${p.code}: ${p.message}`;
}
