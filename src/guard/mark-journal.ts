// The watermark sets, at rest: one append-only file <home>/guard/marks.journal, one line per
// altered answer, each line base64url(nonce || XChaCha20-Poly1305 ciphertext) of the canonical
// JSON of the mark, under the journal key (guard-key.ts) with the line's purpose as associated
// data. The set holds client data (their inputs), so it is never stored in the clear.
//
// A line is written and fsynced before the altered answer leaves the guard, so every mark a
// client has seen is on disk. A second kind of line, `declined`, holds the digest of a quantised
// input the keyed coin selected but the per-client cap on altered answers turned down: it is
// answered truthfully then and for ever after, so the same input never changes its answer. A kill -9 in the middle of a write leaves at most one torn last
// line, which the reader skips (that answer was never sent).
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, fdatasyncSync, mkdirSync, openSync, readFileSync, truncateSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { canonicalJson, toHex, type JsonValue } from '../../ledger/index.js';
import { GuardError } from './errors.js';

const AAD = new TextEncoder().encode('hallmark/guard/journal-line/v1');
const MAX_LINE = 16 * 1024 * 1024;

export interface Mark {
  readonly client: string;
  /** Position in the client's set, from 0. */
  readonly seq: number;
  readonly time: string;
  /** 16 random bytes (hex) so that the public commitment says nothing about the input. */
  readonly salt: string;
  /** Input dims without the batch axis. */
  readonly dims: readonly number[];
  /** The input as the client sent it (float32). */
  readonly input: Float32Array;
  /** The wrong label the guard answered. */
  readonly label: number;
  /** What the model answered (the true label). */
  readonly answer: number;
  readonly classes: number;
}

export function journalPath(homeDir: string): string {
  return join(homeDir, 'guard', 'marks.journal');
}

const f32ToB64 = (x: Float32Array) => Buffer.from(x.buffer, x.byteOffset, x.byteLength).toString('base64');
function b64ToF32(s: string): Float32Array {
  const b = Buffer.from(s, 'base64');
  const out = new Float32Array(b.byteLength / 4);
  new Uint8Array(out.buffer).set(b.subarray(0, out.length * 4));
  return out;
}

function markToJson(m: Mark) {
  return { v: 1, client: m.client, seq: m.seq, time: m.time, salt: m.salt, dims: [...m.dims], input: f32ToB64(m.input), label: m.label, answer: m.answer, classes: m.classes };
}

/** The bytes of a mark's leaf in the client's commitment (no input, only its digest). */
export function markLeafBytes(m: Mark): Uint8Array {
  const inputSha256 = toHex(sha256(new Uint8Array(m.input.buffer, m.input.byteOffset, m.input.byteLength)));
  return new TextEncoder().encode(canonicalJson({ v: 1, client: m.client, seq: m.seq, salt: m.salt, dims: [...m.dims], inputSha256, label: m.label, classes: m.classes }));
}

export function newSalt(): string {
  return randomBytes(16).toString('hex');
}

function parseMark(o: unknown): Mark {
  const r = o as Record<string, unknown>;
  const ints = (v: unknown) => Array.isArray(v) && v.every((d) => Number.isSafeInteger(d) && (d as number) > 0);
  if (typeof r !== 'object' || r === null || r.v !== 1 || typeof r.client !== 'string' || !Number.isSafeInteger(r.seq) || typeof r.time !== 'string' || typeof r.salt !== 'string'
    || !ints(r.dims) || typeof r.input !== 'string' || !Number.isSafeInteger(r.label) || !Number.isSafeInteger(r.answer) || !Number.isSafeInteger(r.classes)) {
    throw new GuardError('GUARD_TAMPERED', 'a journal line decrypts to something that is not a mark');
  }
  return { client: r.client, seq: r.seq as number, time: r.time, salt: r.salt, dims: r.dims as number[], input: b64ToF32(r.input), label: r.label as number, answer: r.answer as number, classes: r.classes as number };
}

/** A selection the cap turned down: the client and the digest of the quantised input. */
export interface Declined {
  readonly client: string;
  readonly qid: string;
}

function parseDeclined(r: Record<string, unknown>): Declined {
  if (typeof r.client !== 'string' || typeof r.qid !== 'string' || !/^[0-9a-f]{64}$/.test(r.qid)) throw new GuardError('GUARD_TAMPERED', 'a journal line decrypts to a declined selection without a client or input digest');
  return { client: r.client, qid: r.qid };
}

export interface JournalReport {
  /** Marks per client, in seq order. */
  readonly marks: Map<string, Mark[]>;
  /** Digests of the selections the cap declined, per client. */
  readonly declined: Map<string, Set<string>>;
  /** Lines skipped: a torn last line after a crash. */
  readonly torn: number;
}

/** Reads and decrypts every mark; a line that fails authentication is GUARD_TAMPERED. */
export function readJournal(homeDir: string, key: Uint8Array): JournalReport {
  const path = journalPath(homeDir);
  const marks = new Map<string, Mark[]>();
  const declined = new Map<string, Set<string>>();
  if (!existsSync(path)) return { marks, declined, torn: 0 };
  const text = readFileSync(path, 'utf8');
  const lines = text.split('\n');
  const last = lines.pop();
  let torn = last ? 1 : 0; // text after the last newline was never completed
  lines.forEach((line, i) => {
    if (line.length === 0) return;
    if (line.length > MAX_LINE) throw new GuardError('GUARD_TAMPERED', `journal line ${i + 1} is too long`);
    const raw = Buffer.from(line, 'base64url');
    let plain: Uint8Array;
    try {
      plain = xchacha20poly1305(key, raw.subarray(0, 24), AAD).decrypt(raw.subarray(24));
    } catch {
      throw new GuardError('GUARD_TAMPERED', `journal line ${i + 1} of ${path} fails authentication (altered, or written under another guard key)`);
    }
    let m: Mark;
    try {
      const o = JSON.parse(new TextDecoder().decode(plain)) as Record<string, unknown>;
      if (o !== null && typeof o === 'object' && o.v === 1 && o.kind === 'declined') {
        const d = parseDeclined(o);
        declined.set(d.client, (declined.get(d.client) ?? new Set()).add(d.qid));
        return;
      }
      m = parseMark(o);
    } catch (err) {
      if (err instanceof GuardError) throw err;
      throw new GuardError('GUARD_TAMPERED', `journal line ${i + 1} is not JSON`);
    }
    const list = marks.get(m.client) ?? [];
    if (m.seq !== list.length) {
      // A line written twice (a retry after a crash) or out of order is not a new mark.
      if (m.seq < list.length) return;
      torn++;
      return;
    }
    list.push(m);
    marks.set(m.client, list);
  });
  return { marks, declined, torn };
}

/** The append side: one fsynced line per mark. */
export class MarkJournal {
  private fd: number | undefined;
  constructor(private readonly homeDir: string, private readonly key: Uint8Array) {}

  append(m: Mark): void {
    this.write(markToJson(m));
  }

  /** Records a selection the cap declined (the input's digest only), fsynced like a mark. */
  appendDeclined(d: Declined): void {
    this.write({ v: 1, kind: 'declined', client: d.client, qid: d.qid });
  }

  private write(o: JsonValue): void {
    if (this.fd === undefined) {
      const path = journalPath(this.homeDir);
      mkdirSync(join(this.homeDir, 'guard'), { recursive: true, mode: 0o700 });
      // A torn last line from a crash (never acknowledged) is cut off, so the next line starts clean.
      if (existsSync(path)) {
        const bytes = readFileSync(path);
        const end = bytes.lastIndexOf(0x0a) + 1;
        if (end < bytes.byteLength) truncateSync(path, end);
      }
      this.fd = openSync(path, 'a', 0o600);
    }
    const nonce = new Uint8Array(randomBytes(24));
    const plain = new TextEncoder().encode(canonicalJson(o));
    const sealed = xchacha20poly1305(this.key, nonce, AAD).encrypt(plain);
    const line = Buffer.concat([nonce, sealed]).toString('base64url');
    writeSync(this.fd, `${line}\n`);
    fdatasyncSync(this.fd);
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}
