// Which tree nodes make up a proof: a port of transparency-dev/merkle proof/proof.go and
// compact/range.go. Every node named here is a perfect subtree (2^level leaves starting at
// index * 2^level), which the store keeps, so a proof reads O(log n) rows and never rebuilds
// the tree. The one node that is not perfect (the "ephemeral" node on the right border) is
// rehashed from the perfect nodes that cover it.
import { bitLen, checkSize, trailingZeros } from './bits.js';

export interface NodeId {
  readonly level: number;
  readonly index: number;
}

/** The node ids of a proof, and the slice [begin, end) of ids that hash into the ephemeral node. */
export interface ProofNodes {
  readonly ids: NodeId[];
  readonly begin: number;
  readonly end: number;
}

const id = (level: number, index: bigint): NodeId => ({ level, index: Number(index) });

/** compact.Decompose: sizes of the left and right borders of the range [begin, end). */
function decompose(begin: bigint, end: bigint): [bigint, bigint] {
  if (begin === 0n) return [0n, end];
  const xbegin = begin - 1n;
  const d = bitLen(xbegin ^ end) - 1;
  const mask = (1n << BigInt(d)) - 1n;
  return [~xbegin & mask, end & mask];
}

/** compact.RangeNodes: the perfect subtrees covering [begin, end), left to right. */
export function rangeNodes(begin: bigint, end: bigint, out: NodeId[] = []): NodeId[] {
  let [left, right] = decompose(begin, end);
  let pos = begin;
  while (left !== 0n) {
    const level = trailingZeros(left);
    const bit = 1n << BigInt(level);
    out.push(id(level, pos >> BigInt(level)));
    pos += bit;
    left ^= bit;
  }
  while (right !== 0n) {
    const level = bitLen(right) - 1;
    const bit = 1n << BigInt(level);
    out.push(id(level, pos >> BigInt(level)));
    pos += bit;
    right ^= bit;
  }
  return out;
}

function rangeSize(begin: bigint, end: bigint): number {
  return rangeNodes(begin, end).length;
}

function reverseTail(a: NodeId[], n: number): void {
  const tail = a.splice(a.length - n, n).reverse();
  a.push(...tail);
}

function proofNodes(index: bigint, level: number, size: bigint): ProofNodes {
  // The fork is where the path from the root to (level, index) leaves the path to (0, size).
  const inner = bitLen(index ^ (size >> BigInt(level))) - 1;
  const forkLevel = level + inner;
  const forkIndex = index >> BigInt(inner);
  const begin = forkIndex << BigInt(forkLevel);
  const end = (forkIndex + 1n) << BigInt(forkLevel);
  const left = rangeSize(0n, begin);
  const right = rangeSize(end, size);

  const ids: NodeId[] = [id(level, index)];
  let nodeLevel = level;
  let nodeIndex = index;
  for (; nodeLevel < forkLevel; nodeLevel++, nodeIndex >>= 1n) ids.push(id(nodeLevel, nodeIndex ^ 1n));

  let len1 = ids.length;
  rangeNodes(end, size, ids);
  reverseTail(ids, right);
  let len2 = ids.length;
  rangeNodes(0n, begin, ids);
  reverseTail(ids, left);
  if (len1 >= len2) len1 = len2 = 0;
  return { ids, begin: len1, end: len2 };
}

function skipFirst(p: ProofNodes): ProofNodes {
  return {
    ids: p.ids.slice(1),
    begin: p.begin > 0 ? p.begin - 1 : 0,
    end: p.end > 0 ? p.end - 1 : 0,
  };
}

/** The nodes of an inclusion proof for leaf `index` in the tree of `size` leaves. */
export function inclusionNodes(index: number, size: number): ProofNodes {
  const i = checkSize('index', index);
  const n = checkSize('size', size);
  if (i >= n) throw new RangeError(`index ${index} out of bounds for tree size ${size}`);
  return skipFirst(proofNodes(i, 0, n));
}

/** The nodes of a consistency proof from size1 to size2. */
export function consistencyNodes(size1: number, size2: number): ProofNodes {
  const n1 = checkSize('size1', size1);
  const n2 = checkSize('size2', size2);
  if (n1 > n2) throw new RangeError(`tree size ${size1} > ${size2}`);
  if (n1 === n2 || n1 === 0n) return { ids: [], begin: 0, end: 0 };
  // The root of the biggest perfect subtree that ends at size1, and its inclusion path in size2.
  const level = trailingZeros(n1);
  const index = (n1 - 1n) >> BigInt(level);
  const p = proofNodes(index, level, n2);
  return index === 0n ? skipFirst(p) : p;
}

/** Folds the ephemeral block of hashes (ordered lower to upper levels) into one node. */
export function rehash(p: ProofNodes, hashes: Uint8Array[], hashChildren: (l: Uint8Array, r: Uint8Array) => Uint8Array): Uint8Array[] {
  if (hashes.length !== p.ids.length) throw new RangeError(`got ${hashes.length} hashes for ${p.ids.length} nodes`);
  if (p.begin === p.end) return hashes;
  const out: Uint8Array[] = [];
  for (let i = 0; i < hashes.length; i++) {
    let h = hashes[i]!;
    if (i >= p.begin && i < p.end) {
      for (i++; i < p.end; i++) h = hashChildren(hashes[i]!, h);
      i--;
    }
    out.push(h);
  }
  return out;
}

/** The perfect subtrees covering [0, size): the right border used to compute a root. */
export function rootNodes(size: number): NodeId[] {
  return rangeNodes(0n, checkSize('size', size));
}
