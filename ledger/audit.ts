// The full audit: recompute everything the store claims from the entry bytes alone. Every leaf
// hash, the prev chain, every stored perfect-subtree hash, and every checkpoint (signature and
// root) is checked; each problem is reported with the index it concerns.
import type Database from 'better-sqlite3';
import { openCheckpoint } from './checkpoint.js';
import { decodeEntry } from './entry.js';
import { equalBytes, hashChildren, hashLeaf, toHex } from './hash.js';
import { rootNodes } from './nodes.js';
import type { NoteVerifier } from './note.js';

export interface AuditProblem {
  /** What the problem is about: an entry, a tree node or a checkpoint. */
  readonly kind: 'entry' | 'node' | 'checkpoint';
  /** Entry index, node index (at `level`), or checkpoint tree size. */
  readonly index: number;
  readonly level?: number;
  readonly message: string;
}

export interface AuditReport {
  readonly ok: boolean;
  readonly size: number;
  readonly checkpoints: number;
  /** Entries past the latest checkpoint: only the chain and the tree protect them. */
  readonly uncheckpointed: number;
  readonly problems: AuditProblem[];
  /** True when more problems were found than are listed. */
  readonly truncated: boolean;
}

const MAX_PROBLEMS = 1000;

export function auditLedger(db: Database.Database, verifier: NoteVerifier, origin: string): AuditReport {
  const problems: AuditProblem[] = [];
  let found = 0;
  const report = (p: AuditProblem) => {
    found++;
    if (problems.length < MAX_PROBLEMS) problems.push(p);
  };

  // Pass 1: entries, in index order. Computed leaf hashes are kept (32 bytes each) for the tree.
  const maxRow = db.prepare('SELECT max(idx) AS m, count(*) AS c FROM entries').get() as { m: number | null; c: number };
  const size = maxRow.m === null ? 0 : maxRow.m + 1;
  if (maxRow.c !== size) report({ kind: 'entry', index: size, message: `${size - maxRow.c} entries are missing (indices are not contiguous)` });
  let level = new Uint8Array(size * 32);
  let expected = 0;
  let prevHash: Uint8Array | null = null;
  for (const row of db.prepare('SELECT idx, leaf_hash, type, data FROM entries ORDER BY idx').iterate() as Iterable<{ idx: number; leaf_hash: Buffer; type: string; data: Buffer }>) {
    while (expected < row.idx) {
      report({ kind: 'entry', index: expected, message: `entry ${expected} is missing` });
      prevHash = null;
      expected++;
    }
    expected = row.idx + 1;
    const bytes = new Uint8Array(row.data);
    const leaf = hashLeaf(bytes);
    level.set(leaf, row.idx * 32);
    if (!equalBytes(leaf, row.leaf_hash)) report({ kind: 'entry', index: row.idx, message: `entry ${row.idx}: stored leaf hash does not match the entry bytes` });
    try {
      const e = decodeEntry(bytes);
      if (e.index !== row.idx) report({ kind: 'entry', index: row.idx, message: `entry ${row.idx}: the entry says it is index ${e.index} (rows moved or reordered)` });
      if (e.type !== row.type) report({ kind: 'entry', index: row.idx, message: `entry ${row.idx}: type column "${row.type}" differs from the entry's type "${e.type}"` });
      const wantPrev = row.idx === 0 ? null : prevHash ? toHex(prevHash) : undefined;
      if (wantPrev !== undefined && e.prev !== wantPrev) report({ kind: 'entry', index: row.idx, message: `entry ${row.idx}: chain broken, prev does not match the leaf hash of entry ${row.idx - 1}` });
    } catch (err) {
      report({ kind: 'entry', index: row.idx, message: `entry ${row.idx}: ${(err as Error).message}` });
    }
    prevHash = leaf;
  }

  // Pass 2: every level of perfect subtrees, recomputed from the level below.
  const levels: Uint8Array[] = [level];
  const nodeRows = db.prepare('SELECT idx, hash FROM nodes WHERE level = ? ORDER BY idx');
  let lv = 1;
  for (let count = Math.floor(size / 2); count > 0; count = Math.floor(count / 2), lv++) {
    const below = level;
    const cur = new Uint8Array(count * 32);
    for (let i = 0; i < count; i++) cur.set(hashChildren(below.subarray(64 * i, 64 * i + 32), below.subarray(64 * i + 32, 64 * i + 64)), 32 * i);
    let next = 0;
    for (const r of nodeRows.iterate(lv) as Iterable<{ idx: number; hash: Buffer }>) {
      if (r.idx >= count) break;
      for (; next < r.idx; next++) report({ kind: 'node', level: lv, index: next, message: `tree node (level ${lv}, index ${next}) is missing` });
      next = r.idx + 1;
      if (!equalBytes(cur.subarray(32 * r.idx, 32 * r.idx + 32), r.hash)) {
        report({ kind: 'node', level: lv, index: r.idx, message: `tree node (level ${lv}, index ${r.idx}) does not match its children (covers entries ${r.idx * 2 ** lv}..${(r.idx + 1) * 2 ** lv - 1})` });
      }
    }
    for (; next < count; next++) report({ kind: 'node', level: lv, index: next, message: `tree node (level ${lv}, index ${next}) is missing` });
    levels.push(cur);
    level = cur;
  }
  // Rows that no tree of this size has: inserted nodes.
  for (const r of db.prepare('SELECT level, idx FROM nodes WHERE level < 1 OR level >= ? LIMIT 100').all(levels.length) as { level: number; idx: number }[]) {
    report({ kind: 'node', level: r.level, index: r.idx, message: `tree node (level ${r.level}, index ${r.idx}) does not belong to a tree of ${size} entries` });
  }
  for (let l = 1; l < levels.length; l++) {
    const count = levels[l]!.length / 32;
    const extra = db.prepare('SELECT idx FROM nodes WHERE level = ? AND idx >= ? LIMIT 100').pluck().all(l, count) as number[];
    for (const i of extra) report({ kind: 'node', level: l, index: i, message: `tree node (level ${l}, index ${i}) does not belong to a tree of ${size} entries` });
  }

  // Pass 3: checkpoints, each against the root recomputed at its size.
  const rootAt = (n: number): Uint8Array => {
    const ids = rootNodes(n);
    const hs = ids.map((id) => levels[id.level]!.subarray(32 * id.index, 32 * id.index + 32));
    let h = hs[hs.length - 1]!;
    for (let i = hs.length - 2; i >= 0; i--) h = hashChildren(hs[i]!, h);
    return h;
  };
  let checkpoints = 0;
  let latest = 0;
  for (const r of db.prepare('SELECT size, root, note FROM checkpoints ORDER BY size').iterate() as Iterable<{ size: number; root: Buffer; note: string }>) {
    checkpoints++;
    latest = Math.max(latest, r.size);
    try {
      const cp = openCheckpoint(r.note, verifier, origin);
      if (cp.size !== r.size) report({ kind: 'checkpoint', index: r.size, message: `checkpoint row ${r.size} holds a note for size ${cp.size}` });
      if (!equalBytes(cp.root, r.root)) report({ kind: 'checkpoint', index: r.size, message: `checkpoint ${r.size}: stored root differs from the signed root` });
      if (cp.size > size) report({ kind: 'checkpoint', index: cp.size, message: `checkpoint for size ${cp.size} but the ledger has only ${size} entries (entries were deleted)` });
      else if (cp.size > 0 && !equalBytes(rootAt(cp.size), cp.root)) report({ kind: 'checkpoint', index: cp.size, message: `checkpoint ${cp.size}: signed root does not match the entries (entries before ${cp.size} were changed)` });
    } catch (err) {
      report({ kind: 'checkpoint', index: r.size, message: `checkpoint ${r.size}: ${(err as Error).message}` });
    }
  }
  return { ok: found === 0, size, checkpoints, uncheckpointed: Math.max(0, size - latest), problems, truncated: found > problems.length };
}
