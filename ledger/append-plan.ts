// The store-independent half of an append: given where the log ends (its size, the last leaf
// hash and the right border of perfect subtrees), turn the inputs into entries, their canonical
// bytes and leaf hashes, and every perfect subtree the new leaves complete. Each store writes the
// plan's rows inside its own transaction, so both stores build byte-identical trees.
import { ENTRY_VERSION, entryText, type Entry, type EntryInput } from './entry.js';
import { toHex } from './hash.js';
import { PlanBuffers } from './plan-buffers.js';
import type { StoredEntry } from './ledger.js';

export interface TreeNode {
  readonly level: number;
  readonly index: number;
  readonly hash: Uint8Array;
}

export interface LogEnd {
  /** The number of entries already in the log (the index the first new entry gets). */
  readonly size: number;
  /** The leaf hash of entry size - 1, or null for an empty log. */
  readonly lastLeaf: Uint8Array | null;
  /** rootNodes(size) with their hashes, left to right. */
  readonly border: TreeNode[];
}

export interface EntryRow {
  readonly index: number;
  readonly leafHash: Uint8Array;
  readonly type: string;
  /** The canonical bytes (a view into a buffer whose byte before is the 0x00 leaf prefix). */
  readonly data: Uint8Array;
}

export interface AppendPlan {
  readonly stored: StoredEntry[];
  readonly entries: EntryRow[];
  /** Perfect subtrees completed by this append at the levels the store keeps (level >= storedFrom >= 1). */
  readonly nodes: TreeNode[];
  /** The log end after the append. */
  readonly end: LogEnd;
}

export function planAppend(start: LogEnd, inputs: readonly EntryInput[], time: string, storedFrom = 1): AppendPlan {
  let index = start.size;
  let prev: string | null = start.lastLeaf ? toHex(start.lastLeaf) : null;
  let lastLeaf = start.lastLeaf;
  const stack = [...start.border];
  const stored: StoredEntry[] = [];
  const entries: EntryRow[] = [];
  const nodes: TreeNode[] = [];
  const buffers = new PlanBuffers(inputs.length);
  for (let k = 0; k < inputs.length; k++) {
    const input = inputs[k]!;
    const entry: Entry = { v: ENTRY_VERSION, index, type: input.type, time, actor: input.actor ?? 'local', prev, payload: input.payload };
    const prefixed = buffers.entry(entryText(entry), inputs.length - k);
    const leaf = buffers.leaf(prefixed);
    const leafHash = leaf.bytes;
    const bytes = new Uint8Array(prefixed.buffer, prefixed.byteOffset + 1, prefixed.byteLength - 1);
    entries.push({ index, leafHash, type: entry.type, data: bytes });
    // Fold the new leaf into the right border, keeping every perfect subtree it completes.
    let node: TreeNode = { level: 0, index, hash: leafHash };
    while (stack.length > 0 && stack[stack.length - 1]!.level === node.level) {
      const left = stack.pop()!;
      node = { level: node.level + 1, index: Math.floor(left.index / 2), hash: buffers.node(left.hash, node.hash) };
      if (node.level >= storedFrom) nodes.push(node);
    }
    stack.push(node);
    stored.push({ index, entry, bytes, leafHash });
    prev = leaf.hex;
    lastLeaf = leafHash;
    index++;
  }
  return { stored, entries, nodes, end: { size: index, lastLeaf, border: stack } };
}
