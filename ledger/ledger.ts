import type { Entry, EntryInput } from './entry.js';
import type { SignedCheckpoint } from './checkpoint.js';
import type { AuditOptions, AuditReport } from './audit.js';

export interface StoredEntry {
  readonly index: number;
  readonly entry: Entry;
  /** The exact canonical bytes that were hashed into the tree. */
  readonly bytes: Uint8Array;
  readonly leafHash: Uint8Array;
}

export interface InclusionProof {
  readonly index: number;
  readonly treeSize: number;
  readonly leafHash: Uint8Array;
  readonly hashes: Uint8Array[];
}

export interface ConsistencyProof {
  readonly from: number;
  readonly to: number;
  readonly hashes: Uint8Array[];
}

export interface ListOptions {
  readonly type?: string;
  readonly from?: number;
  readonly limit?: number;
}

/** The provenance log: an append-only list of entries under an RFC 6962 Merkle tree. */
export interface Ledger {
  /** The checkpoint origin line, also the log key's name. */
  readonly origin: string;
  /** The log's verifier key string (name+keyid+base64). */
  readonly verifierKey: string;
  size(): number;
  append(input: EntryInput): StoredEntry;
  /** Appends all inputs in one transaction, at consecutive indices. */
  appendBatch(inputs: readonly EntryInput[]): StoredEntry[];
  get(index: number): StoredEntry;
  list(options?: ListOptions): StoredEntry[];
  /** The tree head of the given size (default: current size). */
  root(size?: number): Uint8Array;
  inclusionProof(index: number, treeSize?: number): InclusionProof;
  consistencyProof(from: number, to?: number): ConsistencyProof;
  /** Signs a checkpoint at the current size (or returns the latest if the log has not grown). */
  checkpoint(): SignedCheckpoint;
  latestCheckpoint(): SignedCheckpoint | undefined;
  /** The first stored checkpoint whose size covers the given index (entry index < size). */
  checkpointCovering(index: number): SignedCheckpoint | undefined;
  checkpoints(): SignedCheckpoint[];
  /**
   * Read-only: the stored hashes of the perfect subtrees (level, from) .. (level, from + count - 1),
   * each covering 2^level leaves (level 0: leaf hashes). Every one must be complete in the current
   * tree, else LEDGER_OUT_OF_RANGE. Tiles (tiles.ts) are read through this.
   */
  subtreeHashes(level: number, from: number, count: number): Uint8Array[];
  /** Recomputes and checks everything from the entry bytes; large ledgers use worker threads. */
  audit(options?: Omit<AuditOptions, 'path'>): Promise<AuditReport>;
  close(): void;
}

export type Clock = () => Date;
