// The SQLite store. One row per entry (bytes + leaf hash), one row per perfect subtree of 16 or
// more leaves (level >= 4; schema 1 ledgers, written before 2026-12-02, keep level >= 1), and the
// signed checkpoints. A subtree of 2 to 8 leaves is rehashed from its leaf hashes when a proof or
// a border needs it: at most 8 rows read and 7 hashes, and it saves 7 of every 8 node rows an
// append writes. Appends run in BEGIN IMMEDIATE transactions, so writers in several processes
// serialise on SQLite's write lock and indices are never lost, duplicated or reordered. Proofs
// read only the O(log n) perfect-subtree rows they name (see nodes.ts).
import Database from 'better-sqlite3';
import { existsSync } from 'node:fs';
import { BackgroundCheckpointer, WRITER_AUTOCHECKPOINT, type BackgroundCheckpointOptions } from './background-checkpoint.js';
import { auditLedger, type AuditOptions, type AuditReport } from './audit.js';
import { signCheckpoint, CheckpointOpener, type SignedCheckpoint } from './checkpoint.js';
import { planAppend, type AppendPlan, type LogEnd, type TreeNode } from './append-plan.js';
import { checkEntryInput, decodeEntry, type EntryInput } from './entry.js';
import { LedgerError } from './errors.js';
import { EMPTY_ROOT, equalBytes, hashChildren } from './hash.js';
import type { Clock, ConsistencyProof, InclusionProof, Ledger, ListOptions, StoredEntry } from './ledger.js';
import { consistencyNodes, inclusionNodes, rehash, rootNodes, type NodeId } from './nodes.js';
import { newSigner, newVerifier, verifierKeyFor, type NoteSigner, type NoteVerifier } from './note.js';
import { verifyConsistency } from './verify.js';

const SCHEMA_VERSION = '2';
/** The lowest tree level with stored node rows, by schema version. */
const STORED_FROM: ReadonlyMap<string, number> = new Map([['1', 1], ['2', 4]]);
const MAX_BATCH = 100_000;
const ENTRY_CHUNK = 50;
const NODE_CHUNK = 100;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS entries (
  idx INTEGER PRIMARY KEY,
  leaf_hash BLOB NOT NULL,
  type TEXT NOT NULL,
  data BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS entries_by_type ON entries (type, idx);
CREATE TABLE IF NOT EXISTS nodes (
  level INTEGER NOT NULL,
  idx INTEGER NOT NULL,
  hash BLOB NOT NULL,
  PRIMARY KEY (level, idx)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS checkpoints (
  size INTEGER PRIMARY KEY,
  root BLOB NOT NULL,
  note TEXT NOT NULL,
  time TEXT NOT NULL
);
`;

export interface OpenLedgerOptions {
  /** The log's signer key (note format). Needed to create the log and to sign checkpoints. */
  readonly signerKey?: string;
  /** Create the database if it does not exist. Requires signerKey. */
  readonly create?: boolean;
  readonly clock?: Clock;
  /** PRAGMA synchronous: FULL (default) makes every committed append survive power loss. */
  readonly synchronous?: 'FULL' | 'NORMAL';
  /**
   * Checkpoints on a worker thread once this handle has appended enough (background-checkpoint.ts);
   * false keeps them all on the writer's thread, as SQLite does by default.
   */
  readonly backgroundCheckpoint?: false | BackgroundCheckpointOptions;
}

/** Opens (or with `create`, creates) a ledger stored in an SQLite database file. */
export function openLedger(path: string, options: OpenLedgerOptions = {}): Ledger {
  const exists = path !== ':memory:' && existsSync(path);
  if (!exists && !options.create) throw new LedgerError('LEDGER_NOT_FOUND', `no ledger at ${path}; run "hallmark init" first`);
  let db: Database.Database;
  try {
    db = new Database(path, { fileMustExist: !options.create });
  } catch (err) {
    throw new LedgerError('LEDGER_NOT_FOUND', `cannot open ledger database ${path}: ${(err as Error).message}`, { cause: err });
  }
  try {
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${options.synchronous ?? 'FULL'}`);
    db.pragma('busy_timeout = 30000');
    // A 64 MiB page cache keeps the upper B-tree levels and the right border hot during appends.
    db.pragma('cache_size = -65536');
    db.pragma('foreign_keys = ON');
    return new SqliteLedger(db, path, options);
  } catch (err) {
    db.close();
    throw err;
  }
}

class SqliteLedger implements Ledger {
  readonly origin: string;
  readonly verifierKey: string;
  private readonly verifier: NoteVerifier;
  private readonly opener: CheckpointOpener;
  private readonly signer: NoteSigner | undefined;
  private readonly clock: Clock;
  private readonly st;
  private readonly inserts = new Map<string, Database.Statement>();
  /** The lowest level with node rows: 4 for schema 2, 1 for ledgers written as schema 1. */
  private readonly storedFrom: number;
  private end: LogEnd | undefined;
  private readonly checkpointer: BackgroundCheckpointer | undefined;
  /** One append's transaction, made once: better-sqlite3's wrapper costs about 7 us to build. */
  private readonly appendTx: Database.Transaction<(inputs: readonly EntryInput[], time: string) => AppendPlan>;

  constructor(private readonly db: Database.Database, private readonly path: string, options: OpenLedgerOptions) {
    this.clock = options.clock ?? (() => new Date());
    if (path !== ':memory:' && options.backgroundCheckpoint !== false) {
      this.checkpointer = new BackgroundCheckpointer(path, () => db.pragma(`wal_autocheckpoint = ${WRITER_AUTOCHECKPOINT}`), options.backgroundCheckpoint || {});
    }
    const hasMeta = db.prepare(`SELECT name FROM sqlite_master WHERE type='table' AND name='meta'`).get() !== undefined;
    if (!hasMeta) {
      if (!options.create || !options.signerKey) throw new LedgerError('LEDGER_NOT_FOUND', 'the database holds no ledger');
      const signer = newSigner(options.signerKey);
      db.transaction(() => {
        db.exec(SCHEMA);
        const put = db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)');
        put.run('schema', SCHEMA_VERSION);
        put.run('origin', signer.name);
        put.run('verifier_key', verifierKeyFor(options.signerKey!));
      }).immediate();
    }
    const meta = new Map((db.prepare('SELECT key, value FROM meta').all() as { key: string; value: string }[]).map((r) => [r.key, r.value]));
    const storedFrom = STORED_FROM.get(meta.get('schema') ?? '');
    if (storedFrom === undefined) {
      throw new LedgerError('LEDGER_UNSUPPORTED_VERSION', `ledger schema version ${meta.get('schema')} is not supported (this reader knows ${[...STORED_FROM.keys()].join(' and ')}); upgrade hallmark`);
    }
    this.storedFrom = storedFrom;
    this.origin = meta.get('origin')!;
    this.verifierKey = meta.get('verifier_key')!;
    this.verifier = newVerifier(this.verifierKey);
    this.opener = new CheckpointOpener(this.verifier, this.origin);
    if (options.signerKey) {
      if (verifierKeyFor(options.signerKey) !== this.verifierKey) {
        throw new LedgerError('LEDGER_BAD_KEY', 'the signer key does not belong to this ledger');
      }
      this.signer = newSigner(options.signerKey);
    }
    this.st = {
      last: db.prepare('SELECT idx, leaf_hash FROM entries ORDER BY idx DESC LIMIT 1'),
      leaf: db.prepare('SELECT leaf_hash FROM entries WHERE idx = ?').pluck(),
      node: db.prepare('SELECT hash FROM nodes WHERE level = ? AND idx = ?').pluck(),
      entry: db.prepare('SELECT idx, leaf_hash, data FROM entries WHERE idx = ?'),
      leafRange: db.prepare('SELECT leaf_hash FROM entries WHERE idx >= ? AND idx < ? ORDER BY idx').pluck(),
      nodeRange: db.prepare('SELECT hash FROM nodes WHERE level = ? AND idx >= ? AND idx < ? ORDER BY idx').pluck(),
      latestCheckpoint: db.prepare('SELECT note FROM checkpoints ORDER BY size DESC LIMIT 1').pluck(),
      covering: db.prepare('SELECT note FROM checkpoints WHERE size > ? ORDER BY size ASC LIMIT 1').pluck(),
      allCheckpoints: db.prepare('SELECT note FROM checkpoints ORDER BY size ASC').pluck(),
      insertCheckpoint: db.prepare('INSERT INTO checkpoints (size, root, note, time) VALUES (?, ?, ?, ?)'),
    };
    this.appendTx = db.transaction((inputs: readonly EntryInput[], time: string): AppendPlan => {
      const plan = planAppend(this.logEnd(), inputs, time, this.storedFrom);
      this.insertRows(plan);
      return plan;
    });
  }

  size(): number {
    const row = this.st.last.get() as { idx: number } | undefined;
    return row ? row.idx + 1 : 0;
  }

  private hashAt(id: NodeId): Uint8Array {
    if (id.level > 0 && id.level < this.storedFrom) return this.rehashed(id.level, id.index, 1)[0]!;
    const h = (id.level === 0 ? this.st.leaf.get(id.index) : this.st.node.get(id.level, id.index)) as Buffer | undefined;
    if (!h) throw new LedgerError('LEDGER_TAMPERED', `tree node (level ${id.level}, index ${id.index}) is missing from the store; run "hallmark ledger verify"`);
    return new Uint8Array(h);
  }

  /** `count` subtrees of level `level` from index `from`, hashed up from their stored leaf hashes. */
  private rehashed(level: number, from: number, count: number): Uint8Array[] {
    const width = 2 ** level;
    const leaves = this.st.leafRange.all(from * width, (from + count) * width) as Buffer[];
    if (leaves.length !== count * width) {
      throw new LedgerError('LEDGER_TAMPERED', `leaf hashes ${from * width}..${(from + count) * width - 1} are missing from the store; run "hallmark ledger verify"`);
    }
    let row: Uint8Array[] = leaves.map((b) => new Uint8Array(b.buffer, b.byteOffset, b.byteLength));
    for (let l = 0; l < level; l++) row = Array.from({ length: row.length / 2 }, (_, i) => hashChildren(row[2 * i]!, row[2 * i + 1]!));
    return row;
  }

  private border(size: number): TreeNode[] {
    return rootNodes(size).map((id) => ({ ...id, hash: this.hashAt(id) }));
  }

  append(input: EntryInput): StoredEntry {
    return this.appendBatch([input])[0]!;
  }

  appendBatch(inputs: readonly EntryInput[]): StoredEntry[] {
    if (!Array.isArray(inputs)) throw new TypeError('appendBatch takes an array of entries');
    if (inputs.length > MAX_BATCH) throw new RangeError(`a batch holds at most ${MAX_BATCH} entries`);
    inputs.forEach(checkEntryInput);
    const time = this.clock().toISOString();
    try {
      const plan = this.appendTx.immediate(inputs, time);
      this.end = plan.end;
      if (this.checkpointer) {
        let bytes = 0;
        for (const e of plan.entries) bytes += e.data.byteLength;
        this.checkpointer.appendedBytes(bytes);
      }
      return plan.stored;
    } catch (err) {
      this.end = undefined;
      if ((err as { code?: string }).code === 'SQLITE_BUSY') throw new LedgerError('LEDGER_BUSY', 'the ledger is locked by another writer; try again', { cause: err });
      throw err;
    }
  }

  /**
   * Where the log ends, read inside the write transaction. The border this handle computed at
   * its own last append is reused when the log still ends at the same leaf (no other writer
   * appended since), which saves O(log n) reads per single append.
   */
  private logEnd(): LogEnd {
    const last = this.st.last.get() as { idx: number; leaf_hash: Buffer } | undefined;
    const size = last ? last.idx + 1 : 0;
    const cached = this.end;
    if (cached && cached.size === size && (size === 0 || equalBytes(cached.lastLeaf!, last!.leaf_hash))) return cached;
    return { size, lastLeaf: last ? new Uint8Array(last.leaf_hash) : null, border: this.border(size) };
  }

  /** Multi-row INSERTs, one statement per 50 entries or 100 nodes; the plan holds only the stored levels. */
  private insertRows(plan: AppendPlan): void {
    const e = plan.entries;
    for (let i = 0; i < e.length; i += ENTRY_CHUNK) {
      const n = Math.min(ENTRY_CHUNK, e.length - i);
      const args: unknown[] = [];
      for (let k = i; k < i + n; k++) args.push(e[k]!.index, e[k]!.leafHash, e[k]!.type, e[k]!.data);
      this.multiInsert('entries (idx, leaf_hash, type, data)', 4, n).run(args);
    }
    const nodes = plan.nodes;
    for (let i = 0; i < nodes.length; i += NODE_CHUNK) {
      const n = Math.min(NODE_CHUNK, nodes.length - i);
      const args: unknown[] = [];
      for (let k = i; k < i + n; k++) args.push(nodes[k]!.level, nodes[k]!.index, nodes[k]!.hash);
      this.multiInsert('nodes (level, idx, hash)', 3, n).run(args);
    }
  }

  private multiInsert(target: string, columns: number, rows: number): Database.Statement {
    const key = `${target}/${rows}`;
    let st = this.inserts.get(key);
    if (!st) {
      const row = `(${Array(columns).fill('?').join(',')})`;
      st = this.db.prepare(`INSERT INTO ${target} VALUES ${Array(rows).fill(row).join(',')}`);
      this.inserts.set(key, st);
    }
    return st;
  }

  get(index: number): StoredEntry {
    this.checkIndex(index, this.size());
    const row = this.st.entry.get(index) as { idx: number; leaf_hash: Buffer; data: Buffer } | undefined;
    if (!row) throw new LedgerError('LEDGER_TAMPERED', `entry ${index} is missing from the store`);
    const bytes = new Uint8Array(row.data);
    return { index, entry: decodeEntry(bytes), bytes, leafHash: new Uint8Array(row.leaf_hash) };
  }

  list(options: ListOptions = {}): StoredEntry[] {
    const from = options.from ?? 0;
    const limit = Math.min(options.limit ?? 1000, 10_000);
    const rows = (options.type
      ? this.db.prepare('SELECT idx, leaf_hash, data FROM entries WHERE type = ? AND idx >= ? ORDER BY idx LIMIT ?').all(options.type, from, limit)
      : this.db.prepare('SELECT idx, leaf_hash, data FROM entries WHERE idx >= ? ORDER BY idx LIMIT ?').all(from, limit)) as { idx: number; leaf_hash: Buffer; data: Buffer }[];
    return rows.map((r) => {
      const bytes = new Uint8Array(r.data);
      return { index: r.idx, entry: decodeEntry(bytes), bytes, leafHash: new Uint8Array(r.leaf_hash) };
    });
  }

  private checkIndex(index: number, size: number): void {
    if (!Number.isSafeInteger(index) || index < 0 || index >= size) {
      throw new LedgerError('LEDGER_OUT_OF_RANGE', `entry ${index} does not exist; the ledger has ${size} entries`);
    }
  }

  private checkTreeSize(treeSize: number, size: number, what: string): void {
    if (!Number.isSafeInteger(treeSize) || treeSize < 0 || treeSize > size) {
      throw new LedgerError('LEDGER_OUT_OF_RANGE', `${what} ${treeSize} is not a tree size of this ledger (current size ${size})`);
    }
  }

  root(size?: number): Uint8Array {
    const current = this.size();
    const n = size ?? current;
    this.checkTreeSize(n, current, 'size');
    return rootFromBorder(this.border(n).map((b) => b.hash));
  }

  inclusionProof(index: number, treeSize?: number): InclusionProof {
    return this.db.transaction(() => {
      const current = this.size();
      const n = treeSize ?? current;
      this.checkTreeSize(n, current, 'tree size');
      this.checkIndex(index, n);
      const nodes = inclusionNodes(index, n);
      const hashes = rehash(nodes, nodes.ids.map((id) => this.hashAt(id)), hashChildren);
      return { index, treeSize: n, leafHash: this.hashAt({ level: 0, index }), hashes };
    })();
  }

  consistencyProof(from: number, to?: number): ConsistencyProof {
    return this.db.transaction(() => {
      const current = this.size();
      const n2 = to ?? current;
      this.checkTreeSize(n2, current, 'tree size');
      this.checkTreeSize(from, n2, 'from');
      const nodes = consistencyNodes(from, n2);
      const hashes = rehash(nodes, nodes.ids.map((id) => this.hashAt(id)), hashChildren);
      return { from, to: n2, hashes };
    })();
  }

  checkpoint(): SignedCheckpoint {
    const signer = this.signer;
    if (!signer) throw new LedgerError('LEDGER_BAD_KEY', 'this ledger was opened without its signer key; cannot sign a checkpoint');
    return this.db.transaction((): SignedCheckpoint => {
      const size = this.size();
      const root = this.root(size);
      const latest = this.latestCheckpoint();
      if (latest && latest.size > 0) {
        // Never sign a tree head that does not extend the last one signed.
        const proof = this.consistencyProof(latest.size, size);
        try {
          verifyConsistency(latest.size, size, proof.hashes, latest.root, root);
        } catch (err) {
          throw new LedgerError('LEDGER_INCONSISTENT', `the tree of size ${size} is not consistent with the checkpoint of size ${latest.size}; refusing to sign (run "hallmark ledger verify")`, { cause: err });
        }
      }
      if (latest && latest.size === size) return latest;
      const cp = signCheckpoint({ origin: this.origin, size, root, extensions: [] }, signer);
      this.st.insertCheckpoint.run(size, root, cp.note, this.clock().toISOString());
      return cp;
    }).immediate();
  }

  latestCheckpoint(): SignedCheckpoint | undefined {
    const note = this.st.latestCheckpoint.get() as string | undefined;
    return note === undefined ? undefined : this.opener.open(note);
  }

  checkpointCovering(index: number): SignedCheckpoint | undefined {
    const note = this.st.covering.get(index) as string | undefined;
    return note === undefined ? undefined : this.opener.open(note);
  }

  checkpoints(): SignedCheckpoint[] {
    return (this.st.allCheckpoints.all() as string[]).map((n) => this.opener.open(n));
  }

  subtreeHashes(level: number, from: number, count: number): Uint8Array[] {
    if (!Number.isSafeInteger(level) || level < 0 || level > 52) throw new RangeError(`level must be an integer in 0..52, got ${level}`);
    if (!Number.isSafeInteger(from) || from < 0 || !Number.isSafeInteger(count) || count < 0 || count > 65_536) throw new RangeError('from and count must be non-negative integers (count at most 65536)');
    if (count === 0) return [];
    const size = this.size();
    if ((from + count) * 2 ** level > size) {
      throw new LedgerError('LEDGER_OUT_OF_RANGE', `subtrees ${from}..${from + count - 1} at level ${level} are not complete in a tree of size ${size}`);
    }
    if (level > 0 && level < this.storedFrom) return this.rehashed(level, from, count);
    const rows = (level === 0 ? this.st.leafRange.all(from, from + count) : this.st.nodeRange.all(level, from, from + count)) as Buffer[];
    if (rows.length !== count) throw new LedgerError('LEDGER_TAMPERED', `tree nodes at level ${level} from ${from} are missing from the store; run "hallmark ledger verify"`);
    return rows.map((r) => new Uint8Array(r));
  }

  audit(options: Omit<AuditOptions, 'path'> = {}): Promise<AuditReport> {
    return auditLedger(this.db, this.verifier, this.origin, { ...options, path: this.path }, this.storedFrom);
  }

  close(): void {
    this.checkpointer?.stop();
    this.db.close();
  }

  /** Whether checkpoints now run on a worker thread, and how many it has run (for tests and figures). */
  get backgroundCheckpoints(): { running: boolean; count: number } {
    return { running: this.checkpointer?.running ?? false, count: this.checkpointer?.checkpoints ?? 0 };
  }
}

/** Folds the right border (perfect subtrees left to right) into the tree head. */
export function rootFromBorder(hashes: Uint8Array[]): Uint8Array {
  if (hashes.length === 0) return EMPTY_ROOT;
  let h = hashes[hashes.length - 1]!;
  for (let i = hashes.length - 2; i >= 0; i--) h = hashChildren(hashes[i]!, h);
  return h;
}
