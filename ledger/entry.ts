// Ledger entries: the exact bytes that become leaves of the tree. An entry is canonical JSON
// (RFC 8785) of { v, index, type, time, actor, prev, payload }; `prev` is the hex leaf hash of
// the entry before it (null for the first), which chains the entries in storage order.
import { isCanonicalFast } from './canonical-check.js';
import { canonicalJsonAt, canonicalString, type JsonValue } from './canonical-json.js';
import { LedgerError } from './errors.js';

export const ENTRY_VERSION = 1;
/** Entries larger than this are refused: an entry records facts, not files. */
export const MAX_ENTRY_BYTES = 1 << 20;

export type JsonObject = { [k: string]: JsonValue };

export interface Entry {
  readonly v: 1;
  readonly index: number;
  readonly type: string;
  readonly time: string;
  readonly actor: string;
  readonly prev: string | null;
  readonly payload: JsonObject;
}

/** What a caller supplies; the ledger fills in v, index, time and prev. */
export interface EntryInput {
  readonly type: string;
  readonly actor?: string;
  readonly payload: JsonObject;
}

const TYPE_RE = /^[a-z][a-z0-9-]*(\.[a-z][a-z0-9-]*)+$/;
const TIME_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;
const HEX64_RE = /^[0-9a-f]{64}$/;
const ACTOR_RE = /^[\x21-\x7e]{1,200}$/;

const utf8 = new TextDecoder('utf-8', { fatal: true });

const bad = (msg: string) => new LedgerError('LEDGER_BAD_ENTRY', msg);

export function checkEntryInput(input: EntryInput): void {
  if (typeof input !== 'object' || input === null) throw bad('an entry must be an object');
  if (typeof input.type !== 'string' || !TYPE_RE.test(input.type) || input.type.length > 100) {
    throw bad(`entry type ${JSON.stringify(input.type)} is not a dotted lower-case name such as "model.registered"`);
  }
  if (input.actor !== undefined && (typeof input.actor !== 'string' || !ACTOR_RE.test(input.actor))) {
    throw bad('entry actor must be 1-200 printable ASCII characters without spaces');
  }
  const p = input.payload as unknown;
  if (typeof p !== 'object' || p === null || Array.isArray(p)) throw bad('entry payload must be a JSON object');
}

/** A top-level string field as JSON.stringify writes it (the ASCII fields skip the escaping scan). */
const quoted = (s: string): string => canonicalString(s) ?? JSON.stringify(s);

/**
 * The canonical JSON text of an entry. The seven top-level names are fixed and already in RFC 8785
 * order (actor, index, payload, prev, time, type, v), so only the payload goes through the
 * general serialiser; the result is byte-identical to canonicalJson(entry) (tested).
 */
export function entryText(e: Entry): string {
  let payload: string;
  try {
    payload = canonicalJsonAt(e.payload as JsonValue, '$.payload', 1);
  } catch (err) {
    throw bad(`entry ${e.index} payload is not plain JSON: ${(err as Error).message}`);
  }
  if (!Number.isSafeInteger(e.index)) throw bad(`entry index ${e.index} is not an integer`);
  const prev = e.prev === null ? 'null' : quoted(e.prev);
  const v = typeof e.v === 'number' ? String(e.v) : JSON.stringify(e.v);
  return `{"actor":${quoted(e.actor)},"index":${e.index},"payload":${payload},"prev":${prev},"time":${quoted(e.time)},"type":${quoted(e.type)},"v":${v}}`;
}

/** Serialises an entry to its canonical bytes. */
export function encodeEntry(e: Entry): Uint8Array {
  const prefixed = encodeEntryPrefixed(e);
  return new Uint8Array(prefixed.buffer, prefixed.byteOffset + 1, prefixed.byteLength - 1);
}

/**
 * The canonical bytes after one 0x00 byte: the RFC 9162 leaf-hash input, so the append path
 * hashes the entry without copying it (hashLeafPrefixed) and stores subarray(1).
 */
export function encodeEntryPrefixed(e: Entry): Buffer {
  const text = entryText(e);
  const length = Buffer.byteLength(text);
  checkEntryLength(length);
  const out = Buffer.allocUnsafe(length + 1);
  out[0] = 0x00;
  out.write(text, 1, 'utf8');
  return out;
}

/** Refuses an entry of more than MAX_ENTRY_BYTES bytes. */
export function checkEntryLength(bytes: number): void {
  if (bytes > MAX_ENTRY_BYTES) throw bad(`entry is ${bytes} bytes, over the limit of ${MAX_ENTRY_BYTES}`);
}

/**
 * Parses entry bytes and checks they are exactly the canonical form: bytes that parse but are
 * not canonical were not written by this ledger.
 */
export function decodeEntry(bytes: Uint8Array): Entry {
  checkEntryLength(bytes.length);
  let raw: unknown;
  const text = utf8.decode(bytes);
  try {
    raw = JSON.parse(text);
  } catch {
    throw bad('entry bytes are not JSON');
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw bad('entry is not a JSON object');
  const o = raw as Record<string, unknown>;
  if (o.v !== ENTRY_VERSION) {
    throw new LedgerError('LEDGER_UNSUPPORTED_VERSION', `entry version ${JSON.stringify(o.v)} is not supported (this reader knows version ${ENTRY_VERSION}); upgrade hallmark`);
  }
  const keys = Object.keys(o).sort().join(',');
  if (keys !== 'actor,index,payload,prev,time,type,v') throw bad(`entry has fields [${keys}], want actor,index,payload,prev,time,type,v`);
  if (!Number.isSafeInteger(o.index) || (o.index as number) < 0) throw bad('entry index is not a non-negative integer');
  if (typeof o.time !== 'string' || !TIME_RE.test(o.time)) throw bad('entry time is not an RFC 3339 UTC timestamp');
  if (o.prev !== null && (typeof o.prev !== 'string' || !HEX64_RE.test(o.prev))) throw bad('entry prev is not a hex SHA-256 or null');
  checkEntryInput(o as unknown as EntryInput);
  if (typeof o.actor !== 'string') throw bad('entry actor is missing');
  const entry = o as unknown as Entry;
  // The top-level entry is serialised at depth 0 (its payload at depth 1), as entryText does.
  if (!isCanonicalFast(entry, text) && entryText(entry) !== text) throw bad(`entry ${entry.index} is not in canonical form`);
  return entry;
}
