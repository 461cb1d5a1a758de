// The full audit: recompute everything the store claims from the entry bytes alone. Every leaf
// hash, the prev chain, every stored perfect-subtree hash, and every checkpoint (signature and
// root) is checked; each problem is reported with the index it concerns.
import type Database from 'better-sqlite3';
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { auditEntryRange, type EntryRangeResult } from './audit-entries.js';
import { openCheckpoint } from './checkpoint.js';
import { equalBytes, hashChildren, hashChildrenInto, toHex } from './hash.js';
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
/** Below this many entries the audit stays on the calling thread. */
const PARALLEL_THRESHOLD = 50_000;

export interface AuditOptions {
  /** Database file path; without it (or for :memory:) the entry pass runs on this thread. */
  readonly path?: string;
  /** Worker threads for the entry pass (default: available cores, at most 8). */
  readonly workers?: number;
  /** Smallest ledger audited in parallel (tests lower it). */
  readonly parallelThreshold?: number;
  /** Called as the audit moves on: entries checked (by range), tree levels, checkpoints. */
  readonly onProgress?: (p: AuditProgress) => void;
}

export interface AuditProgress {
  readonly phase: 'entries' | 'tree' | 'checkpoints';
  readonly done: number;
  readonly total: number;
}

const workerUrl = new URL('./audit-worker.js', import.meta.url);

function runWorker(path: string, from: number, to: number): Promise<EntryRangeResult> {
  return new Promise((resolve, reject) => {
    const w = new Worker(workerUrl, { workerData: { path, from, to } });
    w.once('message', (r: EntryRangeResult) => resolve(r));
    w.once('error', reject);
    w.once('exit', (code) => code !== 0 && reject(new Error(`audit worker exited with ${code}`)));
  });
}

/** The entry pass, split between worker threads when the ledger is large and on disk. */
async function auditEntries(db: Database.Database, size: number, options: AuditOptions): Promise<EntryRangeResult[]> {
  const workers = Math.max(1, Math.min(8, options.workers ?? availableParallelism()));
  const parallel = options.path && options.path !== ':memory:' && workers > 1 && size >= (options.parallelThreshold ?? PARALLEL_THRESHOLD) && existsSync(fileURLToPath(workerUrl));
  if (!parallel) {
    const r = auditEntryRange(db, 0, size);
    options.onProgress?.({ phase: 'entries', done: size, total: size });
    return [r];
  }
  let done = 0;
  const chunk = Math.ceil(size / workers);
  const ranges = Array.from({ length: workers }, (_, i) => [i * chunk, Math.min(size, (i + 1) * chunk)] as const).filter(([a, b]) => a < b);
  return Promise.all(ranges.map(([a, b]) => runWorker(options.path!, a, b).then((r) => {
    done += b - a;
    options.onProgress?.({ phase: 'entries', done, total: size });
    return r;
  })));
}

/** What the audit reads from a store. Both stores implement it over their own rows. */
export interface AuditSource {
  /**
   * The lowest tree level the store keeps rows for (default 1). Subtrees below it are rehashed
   * from the leaves when read, so the audit expects no rows there and reports any it finds.
   */
  readonly storedFrom?: number;
  /** The largest entry index (null when empty) and the number of entry rows. */
  entryStats(): Promise<{ max: number | null; count: number }>;
  /** Pass 1 over [0, size), in one or more contiguous ranges, in order. */
  entryPass(size: number): Promise<EntryRangeResult[]>;
  /** The stored perfect-subtree rows of one level, in index order; hash as bytes or lower-case hex. */
  nodeLevel(level: number): Promise<Iterable<{ idx: number; hash: Uint8Array | string }>>;
  /** Up to 100 node rows outside levels [storedFrom, levels) and, for each level l >= storedFrom, rows with idx >= counts[l]. */
  strayNodes(levels: number, counts: number[]): Promise<{ level: number; idx: number }[]>;
  checkpointRows(): Promise<Iterable<{ size: number; root: Uint8Array; note: string }>>;
}

/** The SQLite audit source. */
function sqliteSource(db: Database.Database, options: AuditOptions, storedFrom: number): AuditSource {
  return {
    storedFrom,
    entryStats: async () => {
      const r = db.prepare('SELECT max(idx) AS m, count(*) AS c FROM entries').get() as { m: number | null; c: number };
      return { max: r.m, count: r.c };
    },
    entryPass: (size) => auditEntries(db, size, options),
    nodeLevel: async (level) => nodePages(db, level),
    strayNodes: async (levels, counts) => {
      const out = db.prepare('SELECT level, idx FROM nodes WHERE level < ? OR level >= ? LIMIT 100').all(storedFrom, levels) as { level: number; idx: number }[];
      const extra = db.prepare('SELECT idx FROM nodes WHERE level = ? AND idx >= ? LIMIT 100').pluck();
      for (let l = storedFrom; l < levels; l++) for (const idx of extra.all(l, counts[l]) as number[]) out.push({ level: l, idx });
      return out;
    },
    checkpointRows: async () => db.prepare('SELECT size, root, note FROM checkpoints ORDER BY size').iterate() as Iterable<{ size: number; root: Buffer; note: string }>,
  };
}

/** One level's node rows in pages of raw rows, the hash as hex text (cheaper to read than a Buffer). */
function* nodePages(db: Database.Database, level: number): Generator<{ idx: number; hash: string }> {
  const page = db.prepare('SELECT idx, lower(hex(hash)) FROM nodes WHERE level = ? AND idx >= ? ORDER BY idx LIMIT 4096').raw();
  for (let next = 0; ; ) {
    const rows = page.all(level, next) as [number, string][];
    if (rows.length === 0) return;
    for (const [idx, hash] of rows) yield { idx, hash };
    next = rows[rows.length - 1]![0] + 1;
  }
}

/** Compares one recomputed level with the store's rows of that level: modified and missing rows. */
function checkLevel(lv: number, cur: Buffer, count: number, rows: Iterable<{ idx: number; hash: Uint8Array | string }>, report: (p: AuditProblem) => void): void {
  let next = 0;
  for (const r of rows) {
    if (r.idx >= count) break;
    for (; next < r.idx; next++) report({ kind: 'node', level: lv, index: next, message: `tree node (level ${lv}, index ${next}) is missing` });
    next = r.idx + 1;
    const same = typeof r.hash === 'string' ? cur.toString('hex', 32 * r.idx, 32 * r.idx + 32) === r.hash : equalBytes(cur.subarray(32 * r.idx, 32 * r.idx + 32), r.hash);
    if (!same) {
      report({ kind: 'node', level: lv, index: r.idx, message: `tree node (level ${lv}, index ${r.idx}) does not match its children (covers entries ${r.idx * 2 ** lv}..${(r.idx + 1) * 2 ** lv - 1})` });
    }
  }
  for (; next < count; next++) report({ kind: 'node', level: lv, index: next, message: `tree node (level ${lv}, index ${next}) is missing` });
}

/** Audits a SQLite ledger whose node rows start at level `storedFrom` (see sqlite-ledger.ts). */
export function auditLedger(db: Database.Database, verifier: NoteVerifier, origin: string, options: AuditOptions = {}, storedFrom = 1): Promise<AuditReport> {
  return auditSource(sqliteSource(db, options, storedFrom), verifier, origin, options.onProgress);
}

export async function auditSource(source: AuditSource, verifier: NoteVerifier, origin: string, onProgress?: (p: AuditProgress) => void): Promise<AuditReport> {
  const problems: AuditProblem[] = [];
  let found = 0;
  const report = (p: AuditProblem) => {
    found++;
    if (problems.length < MAX_PROBLEMS) problems.push(p);
  };

  // Pass 1: entries. Leaf hashes recomputed from the bytes are kept (32 bytes each) for pass 2.
  const stats = await source.entryStats();
  const size = stats.max === null ? 0 : stats.max + 1;
  if (stats.count !== size) report({ kind: 'entry', index: size, message: `${size - stats.count} entries are missing (indices are not contiguous)` });
  const parts = await source.entryPass(size);
  let level = Buffer.alloc(size * 32);
  let offset = 0;
  for (const part of parts) {
    // The chain across a boundary between two ranges.
    if (offset > 0 && part.firstPrev !== undefined && part.firstPrev !== toHex(level.subarray((offset - 1) * 32, offset * 32))) {
      report({ kind: 'entry', index: offset, message: `entry ${offset}: chain broken, prev does not match the leaf hash of entry ${offset - 1}` });
    }
    level.set(part.leaves, offset * 32);
    offset += part.leaves.length / 32;
    for (const p of part.problems) report(p);
    found += part.found - part.problems.length;
  }

  // Pass 2: every level of perfect subtrees, recomputed from the level below.
  const storedFrom = source.storedFrom ?? 1;
  const levels: Buffer[] = [level];
  let lv = 1;
  for (let count = Math.floor(size / 2); count > 0; count = Math.floor(count / 2), lv++) {
    const below = level;
    const cur = Buffer.alloc(count * 32);
    for (let i = 0; i < count; i++) hashChildrenInto(below, 64 * i, cur, 32 * i);
    if (lv >= storedFrom) checkLevel(lv, cur, count, await source.nodeLevel(lv), report);
    levels.push(cur);
    level = cur;
    onProgress?.({ phase: 'tree', done: lv, total: Math.floor(Math.log2(Math.max(1, size))) });
  }
  // Rows that no tree of this size has (inserted nodes), or at a level this store keeps no rows for.
  const counts = levels.map((l) => l.length / 32);
  for (const r of await source.strayNodes(levels.length, counts)) {
    const why = r.level >= 1 && r.level < storedFrom ? `is stored, but this ledger keeps no rows below level ${storedFrom}` : `does not belong to a tree of ${size} entries`;
    report({ kind: 'node', level: r.level, index: r.idx, message: `tree node (level ${r.level}, index ${r.idx}) ${why}` });
  }

  // Pass 3: checkpoints, each against the root recomputed at its size.
  const rootAt = (n: number): Uint8Array => {
    const ids = rootNodes(n);
    const hs: Uint8Array[] = ids.map((id) => levels[id.level]!.subarray(32 * id.index, 32 * id.index + 32));
    let h = hs[hs.length - 1]!;
    for (let i = hs.length - 2; i >= 0; i--) h = hashChildren(hs[i]!, h);
    return h;
  };
  let checkpoints = 0;
  let latest = 0;
  const checkpointRows = [...(await source.checkpointRows())];
  const checkpointTotal = checkpointRows.length;
  for (const r of checkpointRows) {
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
    if (checkpoints % 64 === 0 || checkpoints === checkpointTotal) onProgress?.({ phase: 'checkpoints', done: checkpoints, total: checkpointTotal });
  }
  return { ok: found === 0, size, checkpoints, uncheckpointed: Math.max(0, size - latest), problems, truncated: found > problems.length };
}
