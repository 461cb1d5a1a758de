// Proof verification, a port of transparency-dev/merkle proof/verify.go (RFC 9162 §2.1.3.2 and
// §2.1.4.2). Computing a root is kept separate from comparing it, as in the reference.
import { LedgerError } from './errors.js';
import { bitLen, checkSize, onesCount, trailingZeros } from './bits.js';
import { equalBytes, HASH_SIZE, hashChildren } from './hash.js';

function bad(message: string): LedgerError {
  return new LedgerError('LEDGER_BAD_PROOF', message);
}

function checkHash(name: string, h: Uint8Array): void {
  if (h.length !== HASH_SIZE) throw bad(`${name} has ${h.length} bytes, want ${HASH_SIZE}`);
}

/** Splits an inclusion proof for (index, size) into its inner part and its right-border part. */
function decompInclProof(index: bigint, size: bigint): [inner: number, border: number] {
  const inner = bitLen(index ^ (size - 1n));
  const border = onesCount(index >> BigInt(inner));
  return [inner, border];
}

function chainInner(seed: Uint8Array, proof: Uint8Array[], index: bigint): Uint8Array {
  let h = seed;
  proof.forEach((p, i) => {
    h = ((index >> BigInt(i)) & 1n) === 0n ? hashChildren(h, p) : hashChildren(p, h);
  });
  return h;
}

function chainInnerRight(seed: Uint8Array, proof: Uint8Array[], index: bigint): Uint8Array {
  let h = seed;
  proof.forEach((p, i) => {
    if (((index >> BigInt(i)) & 1n) === 1n) h = hashChildren(p, h);
  });
  return h;
}

function chainBorderRight(seed: Uint8Array, proof: Uint8Array[]): Uint8Array {
  let h = seed;
  for (const p of proof) h = hashChildren(p, h);
  return h;
}

/** RFC 9162 §2.1.3.2: the root implied by an inclusion proof. Throws on a malformed proof. */
export function rootFromInclusionProof(index: number, size: number, leafHash: Uint8Array, proof: Uint8Array[]): Uint8Array {
  const i = checkSize('index', index);
  const n = checkSize('size', size);
  if (i >= n) throw bad(`index ${index} is beyond tree size ${size}`);
  checkHash('leaf hash', leafHash);
  proof.forEach((p, k) => checkHash(`proof[${k}]`, p));
  const [inner, border] = decompInclProof(i, n);
  if (proof.length !== inner + border) throw bad(`inclusion proof has ${proof.length} hashes, want ${inner + border}`);
  const res = chainInner(leafHash, proof.slice(0, inner), i);
  return chainBorderRight(res, proof.slice(inner));
}

/** Verifies that leafHash is at index in the tree of the given size and root. */
export function verifyInclusion(index: number, size: number, leafHash: Uint8Array, proof: Uint8Array[], root: Uint8Array): void {
  const calc = rootFromInclusionProof(index, size, leafHash, proof);
  if (!equalBytes(calc, root)) throw bad(`inclusion proof for index ${index} leads to a different root than the tree of size ${size}`);
}

/** RFC 9162 §2.1.4.2: verifies that the tree (size1, root1) is a prefix of (size2, root2). */
export function verifyConsistency(size1: number, size2: number, proof: Uint8Array[], root1: Uint8Array, root2: Uint8Array): void {
  const n1 = checkSize('size1', size1);
  const n2 = checkSize('size2', size2);
  proof.forEach((p, k) => checkHash(`proof[${k}]`, p));
  if (n2 < n1) throw bad(`size2 (${size2}) < size1 (${size1})`);
  // As in the reference tests: a proof from the empty tree proves nothing and is refused.
  // Callers that start from size 0 (a first checkpoint) need no proof and must not ask for one.
  if (n1 === 0n) throw bad('a consistency proof from the empty tree is meaningless');
  if (n1 === n2) {
    if (proof.length > 0) throw bad('size1 = size2, but the consistency proof is not empty');
    if (!equalBytes(root1, root2)) throw bad(`two different roots for the same tree size ${size1}`);
    return;
  }
  if (proof.length === 0) throw bad('empty consistency proof');
  checkHash('root1', root1);
  checkHash('root2', root2);

  let [inner, border] = decompInclProof(n1 - 1n, n2);
  const shift = trailingZeros(n1);
  inner -= shift;
  // The proof starts with the root of the subtree of size 2^shift, unless size1 is that subtree.
  let seed = proof[0]!;
  let start = 1;
  if (n1 === 1n << BigInt(shift)) {
    seed = root1;
    start = 0;
  }
  if (proof.length !== start + inner + border) {
    throw bad(`consistency proof has ${proof.length} hashes, want ${start + inner + border}`);
  }
  const rest = proof.slice(start);
  const mask = (n1 - 1n) >> BigInt(shift);
  const hash1 = chainBorderRight(chainInnerRight(seed, rest.slice(0, inner), mask), rest.slice(inner));
  if (!equalBytes(hash1, root1)) throw bad(`consistency proof does not lead to the root of size ${size1}`);
  const hash2 = chainBorderRight(chainInner(seed, rest.slice(0, inner), mask), rest.slice(inner));
  if (!equalBytes(hash2, root2)) throw bad(`consistency proof does not lead to the root of size ${size2}`);
}
