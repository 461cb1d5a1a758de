// The entry pass of the audit over one range of rows: recompute each leaf hash from the stored
// bytes, parse and check the entry, and check the prev chain inside the range. Shared by the
// in-thread audit, the worker threads that split a large SQLite ledger between cores, and the
// PostgreSQL store (which feeds it pages of rows).
import type Database from 'better-sqlite3';
import { decodeEntry } from './entry.js';
import { hashLeafHex } from './hash.js';

export interface EntryProblem {
  readonly kind: 'entry';
  readonly index: number;
  readonly message: string;
}

export interface EntryRangeResult {
  /** Leaf hashes recomputed from the bytes, 32 bytes per index in [from, to). */
  readonly leaves: Uint8Array;
  /** The `prev` field of entry `from` (checked by the caller against entry from - 1). */
  readonly firstPrev: string | null | undefined;
  readonly problems: EntryProblem[];
  readonly found: number;
}

/**
 * One stored entry row: index, stored leaf hash (bytes, or lower-case hex as SQLite's
 * lower(hex(...)) gives it: a string costs less to hand to JavaScript than a Buffer), type
 * column, canonical bytes.
 */
export type EntryRowTuple = readonly [idx: number, leafHash: Uint8Array | string, type: string, data: Uint8Array];

const MAX_PROBLEMS = 1000;

/** Checks the rows of [from, to) fed to it in index order. */
export class EntryRangeChecker {
  private readonly problems: EntryProblem[] = [];
  private found = 0;
  private readonly leaves: Buffer;
  private expected: number;
  /** The previous entry's leaf hash in hex, null when that entry is missing. */
  private prevLeaf: string | null = null;
  private firstPrev: string | null | undefined;

  constructor(private readonly from: number, private readonly to: number) {
    this.leaves = Buffer.alloc((to - from) * 32);
    this.expected = from;
  }

  private report(index: number, message: string): void {
    this.found++;
    if (this.problems.length < MAX_PROBLEMS) this.problems.push({ kind: 'entry', index, message });
  }

  add([idx, leafHash, type, data]: EntryRowTuple): void {
    if (idx < this.from || idx >= this.to) return;
    for (; this.expected < idx; this.expected++) {
      this.report(this.expected, `entry ${this.expected} is missing`);
      this.prevLeaf = null;
    }
    this.expected = idx + 1;
    const off = (idx - this.from) * 32;
    const leaf = hashLeafHex(data);
    this.leaves.write(leaf, off, 32, 'hex');
    const same = typeof leafHash === 'string' ? leafHash === leaf : this.leaves.compare(leafHash, 0, leafHash.length, off, off + 32) === 0;
    if (!same) this.report(idx, `entry ${idx}: stored leaf hash does not match the entry bytes`);
    try {
      const e = decodeEntry(data);
      if (idx === this.from) this.firstPrev = e.prev;
      if (e.index !== idx) this.report(idx, `entry ${idx}: the entry says it is index ${e.index} (rows moved or reordered)`);
      if (e.type !== type) this.report(idx, `entry ${idx}: type column "${type}" differs from the entry's type "${e.type}"`);
      if (idx === 0 && e.prev !== null) this.report(0, 'entry 0: prev must be null');
      if (idx > this.from && this.prevLeaf !== null && e.prev !== this.prevLeaf) this.report(idx, `entry ${idx}: chain broken, prev does not match the leaf hash of entry ${idx - 1}`);
    } catch (err) {
      this.report(idx, `entry ${idx}: ${(err as Error).message}`);
    }
    this.prevLeaf = leaf;
  }

  finish(): EntryRangeResult {
    for (; this.expected < this.to; this.expected++) this.report(this.expected, `entry ${this.expected} is missing`);
    return { leaves: this.leaves, firstPrev: this.firstPrev, problems: this.problems, found: this.found };
  }
}

export function auditEntryRange(db: Database.Database, from: number, to: number): EntryRangeResult {
  const checker = new EntryRangeChecker(from, to);
  // Raw rows (arrays, not objects) and pages of rows: the row loop is the audit's hot path.
  const page = db.prepare('SELECT idx, lower(hex(leaf_hash)), type, data FROM entries WHERE idx >= ? AND idx < ? ORDER BY idx LIMIT 4096').raw();
  for (let next = from; next < to; ) {
    const rows = page.all(next, to) as unknown as EntryRowTuple[];
    if (rows.length === 0) break;
    for (const r of rows) checker.add(r);
    next = rows[rows.length - 1]![0] + 1;
  }
  return checker.finish();
}
