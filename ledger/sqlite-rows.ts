// The rows one append writes to SQLite, packed into a few flat buffers, and the INSERTs that store
// them. Both writers use it: the appending thread itself (small batches) and the batch writer's
// worker thread (sqlite-writer.ts), which receives the buffers by transfer, without a copy per row.
import type Database from 'better-sqlite3';
import type { AppendPlan } from './append-plan.js';
import { HASH_SIZE } from './hash.js';

/** An append plan's entry and node rows, flat. Entries are consecutive indices from `from`. */
export interface PackedRows {
  readonly from: number;
  readonly count: number;
  /** count leaf hashes, 32 bytes each. */
  readonly leafHashes: Uint8Array;
  readonly types: string[];
  /** count + 1 offsets into `data`: entry k is data[offsets[k], offsets[k + 1]). */
  readonly offsets: Uint32Array;
  readonly data: Uint8Array;
  readonly nodeLevels: Uint8Array;
  readonly nodeIndices: Float64Array;
  /** nodeLevels.length node hashes, 32 bytes each. */
  readonly nodeHashes: Uint8Array;
}

/** Packs a plan's rows (copies their bytes once, into buffers that can be transferred). */
export function packRows(plan: AppendPlan): PackedRows {
  const e = plan.entries;
  let bytes = 0;
  for (const r of e) bytes += r.data.length;
  const data = new Uint8Array(bytes);
  const offsets = new Uint32Array(e.length + 1);
  const leafHashes = new Uint8Array(e.length * HASH_SIZE);
  const types: string[] = new Array(e.length);
  for (let k = 0, at = 0; k < e.length; k++) {
    const r = e[k]!;
    if (r.index !== (e[0]?.index ?? 0) + k) throw new RangeError('packRows: entry indices are not consecutive');
    data.set(r.data, at);
    offsets[k] = at;
    at += r.data.length;
    leafHashes.set(r.leafHash, k * HASH_SIZE);
    types[k] = r.type;
  }
  offsets[e.length] = bytes;
  const n = plan.nodes;
  const nodeLevels = new Uint8Array(n.length);
  const nodeIndices = new Float64Array(n.length);
  const nodeHashes = new Uint8Array(n.length * HASH_SIZE);
  n.forEach((node, k) => {
    nodeLevels[k] = node.level;
    nodeIndices[k] = node.index;
    nodeHashes.set(node.hash, k * HASH_SIZE);
  });
  return { from: e[0]?.index ?? 0, count: e.length, leafHashes, types, offsets, data, nodeLevels, nodeIndices, nodeHashes };
}

/** The buffers packRows made, for a postMessage transfer list. */
export function transferables(p: PackedRows): ArrayBuffer[] {
  return [p.leafHashes, p.offsets, p.data, p.nodeLevels, p.nodeIndices, p.nodeHashes].map((a) => a.buffer as ArrayBuffer);
}

const ENTRY_CHUNK = 50;
const NODE_CHUNK = 100;

/** Multi-row INSERT statements of one connection, prepared once per row count. */
export class RowInserter {
  private readonly statements = new Map<string, Database.Statement>();

  constructor(private readonly db: Database.Database) {}

  /** Inserts the rows (inside the caller's transaction): one statement per 50 entries or 100 nodes. */
  insert(p: PackedRows): void {
    const view = (a: Uint8Array, from: number, to: number) => Buffer.from(a.buffer, a.byteOffset + from, to - from);
    for (let i = 0; i < p.count; i += ENTRY_CHUNK) {
      const n = Math.min(ENTRY_CHUNK, p.count - i);
      const args: unknown[] = [];
      for (let k = i; k < i + n; k++) {
        args.push(p.from + k, view(p.leafHashes, k * HASH_SIZE, (k + 1) * HASH_SIZE), p.types[k], view(p.data, p.offsets[k]!, p.offsets[k + 1]!));
      }
      this.statement('entries (idx, leaf_hash, type, data)', 4, n).run(args);
    }
    const nodes = p.nodeLevels.length;
    for (let i = 0; i < nodes; i += NODE_CHUNK) {
      const n = Math.min(NODE_CHUNK, nodes - i);
      const args: unknown[] = [];
      for (let k = i; k < i + n; k++) args.push(p.nodeLevels[k], p.nodeIndices[k], view(p.nodeHashes, k * HASH_SIZE, (k + 1) * HASH_SIZE));
      this.statement('nodes (level, idx, hash)', 3, n).run(args);
    }
  }

  private statement(target: string, columns: number, rows: number): Database.Statement {
    const key = `${target}/${rows}`;
    let st = this.statements.get(key);
    if (!st) {
      const row = `(${Array(columns).fill('?').join(',')})`;
      st = this.db.prepare(`INSERT INTO ${target} VALUES ${Array(rows).fill(row).join(',')}`);
      this.statements.set(key, st);
    }
    return st;
  }
}
