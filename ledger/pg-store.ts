// The PostgreSQL ledger, asynchronous half: runs inside the bridge's worker thread (pg-worker.ts)
// and does every read and write of the log. Appends and checkpoint signing lock the single
// ledger_head row (or, with lock: 'advisory', a transaction-scoped advisory lock) so writers in
// any number of processes and machines take indices one after another; each append is one
// transaction, so a batch is all or nothing. Proofs read the O(log n) node rows they name in one
// query.
import pg from 'pg';
import { planAppend, type LogEnd, type TreeNode } from './append-plan.js';
import { EntryRangeChecker, type EntryRowTuple } from './audit-entries.js';
import { auditSource, type AuditReport, type AuditSource } from './audit.js';
import { signCheckpoint, openCheckpoint, type SignedCheckpoint } from './checkpoint.js';
import { checkEntryInput, decodeEntry, type EntryInput } from './entry.js';
import { LedgerError } from './errors.js';
import { EMPTY_ROOT, equalBytes, hashChildren } from './hash.js';
import type { ConsistencyProof, InclusionProof, ListOptions, StoredEntry } from './ledger.js';
import { consistencyNodes, inclusionNodes, rehash, rootNodes, type NodeId } from './nodes.js';
import { newSigner, newVerifier, verifierKeyFor, type NoteSigner, type NoteVerifier } from './note.js';
import { migrate } from './pg-schema.js';
import { verifyConsistency } from './verify.js';

export interface PgStoreOptions {
  readonly url: string;
  /** PostgreSQL schema (namespace) holding the ledger tables. Default "hallmark". */
  readonly schema?: string;
  readonly signerKey?: string;
  readonly create?: boolean;
  /** How appends serialise: a row lock on ledger_head (default) or an advisory lock. */
  readonly lock?: 'row' | 'advisory';
}

const MAX_BATCH = 100_000;
/** pg_advisory_xact_lock key for appends: 'hmlg'. */
const APPEND_LOCK = 0x686d6c67;
const PAGE = 10_000;

type Q = pg.PoolClient;

/** Connection failures and server shutdowns: the call wrote nothing and the caller may retry. */
export function storeError(err: unknown): unknown {
  if (err instanceof LedgerError || err instanceof TypeError || err instanceof RangeError) return err;
  const e = err as { code?: string; message?: string };
  const code = e.code ?? '';
  if (code === '40001' || code === '40P01' || code === '55P03') return new LedgerError('LEDGER_BUSY', 'the ledger is locked by another writer; try again', { cause: err });
  if (code === '23505') return new LedgerError('LEDGER_TAMPERED', `the database refused a duplicate row (${e.message}); the ledger head does not match its entries: run "hallmark ledger verify"`, { cause: err });
  return new LedgerError('LEDGER_UNAVAILABLE', `the ledger database is unavailable: ${e.message ?? String(err)}; nothing was written`, { cause: err });
}

export class PgStore {
  origin = '';
  verifierKey = '';
  private verifier!: NoteVerifier;
  private signer: NoteSigner | undefined;
  private end: LogEnd | undefined;

  private constructor(private readonly pool: pg.Pool, private readonly options: PgStoreOptions) {}

  static async open(options: PgStoreOptions): Promise<PgStore> {
    const schema = options.schema ?? 'hallmark';
    const pool = new pg.Pool({
      connectionString: options.url,
      max: 4,
      options: `-c search_path=${schema}`,
      connectionTimeoutMillis: 10_000,
      // A replica must not hold the head lock forever behind a stuck client.
      idle_in_transaction_session_timeout: 30_000,
    } as pg.PoolConfig);
    pool.on('error', () => undefined); // idle clients dropped by a restarting server
    const store = new PgStore(pool, options);
    try {
      await store.init(schema);
    } catch (err) {
      await pool.end().catch(() => undefined);
      throw storeError(err);
    }
    return store;
  }

  private async init(schema: string): Promise<void> {
    await this.withClient(async (c) => {
      await migrate(c, schema, this.options.create === true);
      const meta = new Map((await c.query('SELECT key, value FROM ledger_meta')).rows.map((r) => [r.key as string, r.value as string]));
      if (!meta.has('origin')) {
        if (!this.options.create || !this.options.signerKey) throw new LedgerError('LEDGER_NOT_FOUND', 'the database holds no ledger; run "hallmark init --database ..." first');
        const signer = newSigner(this.options.signerKey);
        await c.query(`INSERT INTO ledger_meta (key, value) VALUES ('origin', $1), ('verifier_key', $2) ON CONFLICT (key) DO NOTHING`, [signer.name, verifierKeyFor(this.options.signerKey)]);
        for (const r of (await c.query('SELECT key, value FROM ledger_meta')).rows) meta.set(r.key, r.value);
      }
      this.origin = meta.get('origin')!;
      this.verifierKey = meta.get('verifier_key')!;
    });
    this.verifier = newVerifier(this.verifierKey);
    if (this.options.signerKey) {
      if (verifierKeyFor(this.options.signerKey) !== this.verifierKey) throw new LedgerError('LEDGER_BAD_KEY', 'the signer key does not belong to this ledger');
      this.signer = newSigner(this.options.signerKey);
    }
  }

  private async withClient<T>(fn: (c: Q) => Promise<T>): Promise<T> {
    let c: Q;
    try {
      c = await this.pool.connect();
    } catch (err) {
      throw storeError(err);
    }
    let broken = false;
    try {
      return await fn(c);
    } catch (err) {
      broken = !(err instanceof LedgerError || err instanceof TypeError || err instanceof RangeError);
      throw storeError(err);
    } finally {
      c.release(broken);
    }
  }

  private async tx<T>(fn: (c: Q) => Promise<T>): Promise<T> {
    return this.withClient(async (c) => {
      await c.query('BEGIN');
      try {
        const out = await fn(c);
        await c.query('COMMIT');
        return out;
      } catch (err) {
        await c.query('ROLLBACK').catch(() => undefined);
        throw err;
      }
    });
  }

  /** Locks the head (row or advisory lock) and returns the log's size and last leaf. */
  private async lockHead(c: Q): Promise<{ size: number; lastLeaf: Uint8Array | null }> {
    if (this.options.lock === 'advisory') await c.query('SELECT pg_advisory_xact_lock($1)', [APPEND_LOCK]);
    const r = await c.query(`SELECT size, last_leaf FROM ledger_head${this.options.lock === 'advisory' ? '' : ' FOR UPDATE'}`);
    return { size: Number(r.rows[0].size), lastLeaf: r.rows[0].last_leaf ? new Uint8Array(r.rows[0].last_leaf) : null };
  }

  /** The current size and the stored hashes of the given nodes (level 0 from entries), in one query. */
  private async lookup(c: Q | pg.Pool, ids: readonly NodeId[]): Promise<{ size: number; found: Map<string, Uint8Array> }> {
    const leaves = ids.filter((i) => i.level === 0).map((i) => i.index);
    const inner = ids.filter((i) => i.level > 0);
    // Named: each connection plans it once (the planner otherwise costs more than the lookup).
    const r = await c.query({
      name: 'hallmark_ledger_lookup',
      text: `SELECT -1, size, NULL::bytea FROM ledger_head
             UNION ALL SELECT 0, idx, leaf_hash FROM ledger_entries WHERE idx = ANY($1::bigint[])
             UNION ALL SELECT n.level, n.idx, n.hash FROM ledger_nodes n JOIN unnest($2::int[], $3::bigint[]) AS q(l, i) ON n.level = q.l AND n.idx = q.i`,
      values: [leaves, inner.map((i) => i.level), inner.map((i) => i.index)],
      rowMode: 'array',
    });
    let size = 0;
    const found = new Map<string, Uint8Array>();
    for (const row of r.rows) {
      if (row[0] === -1) size = Number(row[1]);
      else found.set(`${row[0]}/${row[1]}`, new Uint8Array(row[2] as Buffer));
    }
    return { size, found };
  }

  private pick(found: Map<string, Uint8Array>, ids: readonly NodeId[]): Uint8Array[] {
    return ids.map((id) => {
      const h = found.get(`${id.level}/${id.index}`);
      if (!h) throw new LedgerError('LEDGER_TAMPERED', `tree node (level ${id.level}, index ${id.index}) is missing from the store; run "hallmark ledger verify"`);
      return h;
    });
  }

  /** Hashes of the given nodes, in one query. Missing ones: LEDGER_TAMPERED. */
  private async hashes(c: Q | pg.Pool, ids: readonly NodeId[]): Promise<Uint8Array[]> {
    if (ids.length === 0) return [];
    return this.pick((await this.lookup(c, ids)).found, ids);
  }

  private async logEnd(c: Q, head: { size: number; lastLeaf: Uint8Array | null }): Promise<LogEnd> {
    const cached = this.end;
    if (cached && cached.size === head.size && (head.size === 0 || equalBytes(cached.lastLeaf!, head.lastLeaf!))) return cached;
    const ids = rootNodes(head.size);
    const hs = await this.hashes(c, ids);
    return { size: head.size, lastLeaf: head.lastLeaf, border: ids.map((id, i): TreeNode => ({ ...id, hash: hs[i]! })) };
  }

  async size(): Promise<number> {
    const r = await this.pool.query('SELECT size FROM ledger_head').catch((e) => Promise.reject(storeError(e)));
    return Number(r.rows[0].size);
  }

  /** `time` comes from the caller's clock (the main thread's), as an RFC 3339 string. */
  async appendBatch(inputs: readonly EntryInput[], time: string): Promise<StoredEntry[]> {
    if (!Array.isArray(inputs)) throw new TypeError('appendBatch takes an array of entries');
    if (inputs.length > MAX_BATCH) throw new RangeError(`a batch holds at most ${MAX_BATCH} entries`);
    inputs.forEach(checkEntryInput);
    try {
      const plan = await this.withClient(async (c) => {
        // Three round trips: BEGIN with the head lock, one statement for every row, COMMIT.
        const head = await this.beginLocked(c);
        try {
          const p = planAppend(await this.logEnd(c, head), inputs, time);
          if (p.entries.length > 0) {
            const e = p.entries;
            await c.query({
              name: 'hallmark_ledger_append',
              text: `WITH e AS (INSERT INTO ledger_entries (idx, leaf_hash, type, data) SELECT * FROM unnest($1::bigint[], $2::bytea[], $3::text[], $4::bytea[])),
                    n AS (INSERT INTO ledger_nodes (level, idx, hash) SELECT * FROM unnest($5::int[], $6::bigint[], $7::bytea[]))
               UPDATE ledger_head SET size = $8, last_leaf = $9`,
              values: [
                e.map((x) => x.index), e.map((x) => Buffer.from(x.leafHash)), e.map((x) => x.type), e.map((x) => Buffer.from(x.data.buffer, x.data.byteOffset, x.data.byteLength)),
                p.nodes.map((n) => n.level), p.nodes.map((n) => n.index), p.nodes.map((n) => Buffer.from(n.hash)),
                p.end.size, Buffer.from(p.end.lastLeaf!),
              ],
            });
          }
          await c.query('COMMIT');
          return p;
        } catch (err) {
          await c.query('ROLLBACK').catch(() => undefined);
          throw err;
        }
      });
      this.end = plan.end;
      return plan.stored;
    } catch (err) {
      this.end = undefined;
      throw err;
    }
  }

  /** BEGIN and lock the head in one round trip (simple protocol, two statements). */
  private async beginLocked(c: Q): Promise<{ size: number; lastLeaf: Uint8Array | null }> {
    const lock = this.options.lock === 'advisory' ? `SELECT pg_advisory_xact_lock(${APPEND_LOCK}); SELECT size, last_leaf FROM ledger_head` : 'SELECT size, last_leaf FROM ledger_head FOR UPDATE';
    const results = (await c.query(`BEGIN; ${lock}`)) as unknown as pg.QueryResult[];
    const row = results[results.length - 1]!.rows[0];
    return { size: Number(row.size), lastLeaf: row.last_leaf ? new Uint8Array(row.last_leaf) : null };
  }

  private checkIndex(index: number, size: number): void {
    if (!Number.isSafeInteger(index) || index < 0 || index >= size) throw new LedgerError('LEDGER_OUT_OF_RANGE', `entry ${index} does not exist; the ledger has ${size} entries`);
  }

  private checkTreeSize(treeSize: number, size: number, what: string): void {
    if (!Number.isSafeInteger(treeSize) || treeSize < 0 || treeSize > size) throw new LedgerError('LEDGER_OUT_OF_RANGE', `${what} ${treeSize} is not a tree size of this ledger (current size ${size})`);
  }

  private toStored(idx: number, leaf: Buffer, data: Buffer): StoredEntry {
    const bytes = new Uint8Array(data);
    return { index: idx, entry: decodeEntry(bytes), bytes, leafHash: new Uint8Array(leaf) };
  }

  async get(index: number): Promise<StoredEntry> {
    return this.withClient(async (c) => {
      if (!Number.isSafeInteger(index) || index < 0) this.checkIndex(index, await this.size());
      const r = await c.query('SELECT h.size, e.leaf_hash, e.data FROM ledger_head h LEFT JOIN ledger_entries e ON e.idx = $1', [index]);
      const row = r.rows[0];
      this.checkIndex(index, Number(row.size));
      if (!row.data) throw new LedgerError('LEDGER_TAMPERED', `entry ${index} is missing from the store`);
      return this.toStored(index, row.leaf_hash, row.data);
    });
  }

  async list(options: ListOptions = {}): Promise<StoredEntry[]> {
    const from = options.from ?? 0;
    const limit = Math.min(options.limit ?? 1000, 10_000);
    return this.withClient(async (c) => {
      const r = options.type
        ? await c.query('SELECT idx, leaf_hash, data FROM ledger_entries WHERE type = $1 AND idx >= $2 ORDER BY idx LIMIT $3', [options.type, from, limit])
        : await c.query('SELECT idx, leaf_hash, data FROM ledger_entries WHERE idx >= $1 ORDER BY idx LIMIT $2', [from, limit]);
      return r.rows.map((row) => this.toStored(Number(row.idx), row.leaf_hash, row.data));
    });
  }

  private async rootAt(c: Q, n: number): Promise<Uint8Array> {
    const hs = await this.hashes(c, rootNodes(n));
    if (hs.length === 0) return EMPTY_ROOT;
    let h = hs[hs.length - 1]!;
    for (let i = hs.length - 2; i >= 0; i--) h = hashChildren(hs[i]!, h);
    return h;
  }

  async root(size?: number): Promise<Uint8Array> {
    return this.withClient(async (c) => {
      const current = await this.size();
      const n = size ?? current;
      this.checkTreeSize(n, current, 'size');
      return this.rootAt(c, n);
    });
  }

  /** Hashes of `count` consecutive complete subtrees at `level` from `from` (tlog-tiles reads these). */
  async subtreeHashes(level: number, from: number, count: number): Promise<Uint8Array[]> {
    if (!Number.isSafeInteger(level) || level < 0 || level > 52) throw new RangeError(`level must be an integer in 0..52, got ${level}`);
    if (!Number.isSafeInteger(from) || from < 0 || !Number.isSafeInteger(count) || count < 0 || count > 65_536) throw new RangeError('from and count must be non-negative integers (count at most 65536)');
    if (count === 0) return [];
    const size = await this.size();
    if ((from + count) * 2 ** level > size) throw new LedgerError('LEDGER_OUT_OF_RANGE', `subtrees ${from}..${from + count - 1} at level ${level} are not complete in a tree of size ${size}`);
    const r = await (level === 0
      ? this.pool.query('SELECT leaf_hash AS hash FROM ledger_entries WHERE idx >= $1 AND idx < $2 ORDER BY idx', [from, from + count])
      : this.pool.query('SELECT hash FROM ledger_nodes WHERE level = $1 AND idx >= $2 AND idx < $3 ORDER BY idx', [level, from, from + count])).catch((e) => Promise.reject(storeError(e)));
    if (r.rows.length !== count) throw new LedgerError('LEDGER_TAMPERED', `tree nodes at level ${level} from ${from} are missing from the store; run "hallmark ledger verify"`);
    return r.rows.map((row) => new Uint8Array(row.hash as Buffer));
  }

  async inclusionProof(index: number, treeSize?: number): Promise<InclusionProof> {
    return this.withClient(async (c) => {
      // With the tree size given, one query reads the current size and every node; rows are
      // never rewritten, so nodes of a tree no larger than the size read are final.
      const n = treeSize ?? (await this.size());
      if (!Number.isSafeInteger(n) || n < 0) throw new LedgerError('LEDGER_OUT_OF_RANGE', `tree size ${n} is not a tree size of this ledger`);
      this.checkIndex(index, n);
      const nodes = inclusionNodes(index, n);
      const ids = [{ level: 0, index }, ...nodes.ids];
      const { size, found } = await this.lookup(c, ids);
      this.checkTreeSize(n, size, 'tree size');
      const all = this.pick(found, ids);
      return { index, treeSize: n, leafHash: all[0]!, hashes: rehash(nodes, all.slice(1), hashChildren) };
    });
  }

  private async consistencyIn(c: Q, from: number, n2: number): Promise<Uint8Array[]> {
    const nodes = consistencyNodes(from, n2);
    return rehash(nodes, await this.hashes(c, nodes.ids), hashChildren);
  }

  async consistencyProof(from: number, to?: number): Promise<ConsistencyProof> {
    return this.withClient(async (c) => {
      const current = await this.size();
      const n2 = to ?? current;
      this.checkTreeSize(n2, current, 'tree size');
      this.checkTreeSize(from, n2, 'from');
      return { from, to: n2, hashes: await this.consistencyIn(c, from, n2) };
    });
  }

  /**
   * Signs a checkpoint at the current size. The head lock makes the signer the only one in any
   * replica; the new tree head is checked against the last signed one before it is signed.
   */
  async checkpoint(time: string): Promise<SignedCheckpoint> {
    const signer = this.signer;
    if (!signer) throw new LedgerError('LEDGER_BAD_KEY', 'this ledger was opened without its signer key; cannot sign a checkpoint');
    return this.tx(async (c) => {
      const { size } = await this.lockHead(c);
      const root = await this.rootAt(c, size);
      const r = await c.query('SELECT note FROM ledger_checkpoints ORDER BY size DESC LIMIT 1');
      const latest = r.rows[0] ? openCheckpoint(r.rows[0].note, this.verifier, this.origin) : undefined;
      if (latest && latest.size > size) throw new LedgerError('LEDGER_INCONSISTENT', `the ledger has ${size} entries but a checkpoint of size ${latest.size} was signed; refusing to sign (run "hallmark ledger verify")`);
      if (latest && latest.size > 0) {
        try {
          verifyConsistency(latest.size, size, await this.consistencyIn(c, latest.size, size), latest.root, root);
        } catch (err) {
          if (err instanceof LedgerError && err.code === 'LEDGER_TAMPERED') throw err;
          throw new LedgerError('LEDGER_INCONSISTENT', `the tree of size ${size} is not consistent with the checkpoint of size ${latest.size}; refusing to sign (run "hallmark ledger verify")`, { cause: err });
        }
      }
      if (latest && latest.size === size) return latest;
      const cp = signCheckpoint({ origin: this.origin, size, root, extensions: [] }, signer);
      await c.query('INSERT INTO ledger_checkpoints (size, root, note, time) VALUES ($1, $2, $3, $4)', [size, Buffer.from(root), cp.note, time]);
      return cp;
    });
  }

  async checkpointNotes(which: 'latest' | 'all' | number): Promise<string[]> {
    const q =
      which === 'latest'
        ? this.pool.query('SELECT note FROM ledger_checkpoints ORDER BY size DESC LIMIT 1')
        : which === 'all'
          ? this.pool.query('SELECT note FROM ledger_checkpoints ORDER BY size ASC')
          : this.pool.query('SELECT note FROM ledger_checkpoints WHERE size > $1 ORDER BY size ASC LIMIT 1', [which]);
    try {
      return (await q).rows.map((r) => r.note as string);
    } catch (err) {
      throw storeError(err);
    }
  }

  /** The full audit, read in one REPEATABLE READ snapshot so that appends going on do not disturb it. */
  async audit(): Promise<AuditReport> {
    return this.withClient(async (c) => {
      await c.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      try {
        const head = Number((await c.query('SELECT size FROM ledger_head')).rows[0].size);
        const report = await auditSource(pgAuditSource(c), this.verifier, this.origin);
        if (head !== report.size) {
          const problem = { kind: 'entry' as const, index: Math.min(head, report.size), message: `the ledger head says ${head} entries but ${report.size} are stored` };
          return { ...report, ok: false, problems: [...report.problems, problem] };
        }
        return report;
      } finally {
        await c.query('ROLLBACK').catch(() => undefined);
      }
    });
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

function pgAuditSource(c: Q): AuditSource {
  return {
    entryStats: async () => {
      const r = await c.query('SELECT max(idx) AS m, count(*) AS c FROM ledger_entries');
      return { max: r.rows[0].m === null ? null : Number(r.rows[0].m), count: Number(r.rows[0].c) };
    },
    entryPass: async (size) => {
      const checker = new EntryRangeChecker(0, size);
      for (let next = 0; next < size; ) {
        const r = await c.query({ text: 'SELECT idx, encode(leaf_hash, \'hex\'), type, data FROM ledger_entries WHERE idx >= $1 AND idx < $2 ORDER BY idx LIMIT $3', values: [next, size, PAGE], rowMode: 'array' });
        if (r.rows.length === 0) break;
        for (const row of r.rows) checker.add([Number(row[0]), row[1], row[2], row[3]] as EntryRowTuple);
        next = Number(r.rows[r.rows.length - 1]![0]) + 1;
      }
      return [checker.finish()];
    },
    nodeLevel: async (level) => {
      const r = await c.query({ text: "SELECT idx, encode(hash, 'hex') FROM ledger_nodes WHERE level = $1 ORDER BY idx", values: [level], rowMode: 'array' });
      return r.rows.map((row) => ({ idx: Number(row[0]), hash: row[1] as string }));
    },
    strayNodes: async (levels, counts) => {
      const r = await c.query('SELECT level, idx FROM ledger_nodes WHERE level < 1 OR level >= $1 LIMIT 100', [levels]);
      const out = r.rows.map((row) => ({ level: Number(row.level), idx: Number(row.idx) }));
      for (let l = 1; l < levels; l++) {
        const x = await c.query('SELECT idx FROM ledger_nodes WHERE level = $1 AND idx >= $2 LIMIT 100', [l, counts[l]!]);
        for (const row of x.rows) out.push({ level: l, idx: Number(row.idx) });
      }
      return out;
    },
    checkpointRows: async () => {
      const r = await c.query('SELECT size, root, note FROM ledger_checkpoints ORDER BY size');
      return r.rows.map((row) => ({ size: Number(row.size), root: row.root as Buffer, note: row.note as string }));
    },
  };
}
