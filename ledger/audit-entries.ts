// The entry pass of the audit over one range of rows: recompute each leaf hash from the stored
// bytes, parse and check the entry, and check the prev chain inside the range. Shared by the
// in-thread audit and the worker threads that split a large ledger between cores.
import type Database from 'better-sqlite3';
import { decodeEntry } from './entry.js';
import { equalBytes, hashLeaf, toHex } from './hash.js';

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

const MAX_PROBLEMS = 1000;

export function auditEntryRange(db: Database.Database, from: number, to: number): EntryRangeResult {
  const problems: EntryProblem[] = [];
  let found = 0;
  const report = (index: number, message: string) => {
    found++;
    if (problems.length < MAX_PROBLEMS) problems.push({ kind: 'entry', index, message });
  };
  const leaves = new Uint8Array((to - from) * 32);
  let expected = from;
  let prevLeaf: Uint8Array | null = null;
  let firstPrev: string | null | undefined;
  const rows = db.prepare('SELECT idx, leaf_hash, type, data FROM entries WHERE idx >= ? AND idx < ? ORDER BY idx').iterate(from, to) as Iterable<{ idx: number; leaf_hash: Buffer; type: string; data: Buffer }>;
  for (const row of rows) {
    for (; expected < row.idx; expected++) {
      report(expected, `entry ${expected} is missing`);
      prevLeaf = null;
    }
    expected = row.idx + 1;
    const bytes = new Uint8Array(row.data.buffer, row.data.byteOffset, row.data.byteLength);
    const leaf = hashLeaf(bytes);
    leaves.set(leaf, (row.idx - from) * 32);
    if (!equalBytes(leaf, row.leaf_hash)) report(row.idx, `entry ${row.idx}: stored leaf hash does not match the entry bytes`);
    try {
      const e = decodeEntry(bytes);
      if (row.idx === from) firstPrev = e.prev;
      if (e.index !== row.idx) report(row.idx, `entry ${row.idx}: the entry says it is index ${e.index} (rows moved or reordered)`);
      if (e.type !== row.type) report(row.idx, `entry ${row.idx}: type column "${row.type}" differs from the entry's type "${e.type}"`);
      if (row.idx === 0 && e.prev !== null) report(0, 'entry 0: prev must be null');
      if (row.idx > from && prevLeaf && e.prev !== toHex(prevLeaf)) report(row.idx, `entry ${row.idx}: chain broken, prev does not match the leaf hash of entry ${row.idx - 1}`);
    } catch (err) {
      report(row.idx, `entry ${row.idx}: ${(err as Error).message}`);
    }
    prevLeaf = leaf;
  }
  for (; expected < to; expected++) report(expected, `entry ${expected} is missing`);
  return { leaves, firstPrev, problems, found };
}
