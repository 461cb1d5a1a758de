// RFC 6962 (RFC 9162 §2.1.1) Merkle trees over manifest leaves, built with merkletreejs.
// merkletreejs is configured so that it computes exactly RFC 6962:
//   - leaves are handed over already hashed as SHA-256(0x00 || leaf) (hashLeaves: false);
//   - inner nodes are SHA-256(0x01 || left || right), via a concatenator that prepends 0x01;
//   - no sorting of leaves or pairs (order is part of the tree);
//   - duplicateOdd: false, so the last node of an odd level is carried up unchanged. Carrying
//     the odd node up level by level gives the same tree as RFC 6962's split at the largest
//     power of two below n (test/formats/merkle.test.ts checks this against the ledger for
//     every size 1..70, proofs included).
// The empty tree is the one case merkletreejs has no root for: RFC 6962 says SHA-256("").
import { createHash } from 'node:crypto';
import { MerkleTree } from 'merkletreejs';
import { EMPTY_ROOT, hashLeaf, proofFromJson, proofToJson, verifyInclusion, type InclusionProofJson } from '../../ledger/index.js';
import { canonicalJsonBytes, type JsonValue } from '../../ledger/index.js';
import { FormatError } from './errors.js';

const sha256 = (b: Buffer): Buffer => createHash('sha256').update(b).digest();
const PREFIX_NODE = Buffer.from([0x01]);

export const RFC6962_OPTIONS = {
  hashLeaves: false,
  sortLeaves: false,
  sortPairs: false,
  sort: false,
  duplicateOdd: false,
  isBitcoinTree: false,
  complete: false,
  concatenator: (parts: Buffer[]) => Buffer.concat([PREFIX_NODE, ...parts]),
};

/** The leaf hash of a manifest leaf: SHA-256(0x00 || canonical JSON of the leaf). */
export function hashManifestLeaf(leaf: JsonValue): Uint8Array {
  return hashLeaf(canonicalJsonBytes(leaf));
}

/** A merkletreejs tree over leaf hashes, configured for RFC 6962. */
export function buildRfc6962Tree(leafHashes: readonly Uint8Array[]): MerkleTree {
  return new MerkleTree(leafHashes.map((h) => Buffer.from(h)), sha256, RFC6962_OPTIONS);
}

/** The RFC 6962 root of a list of leaf hashes. */
export function merkleRoot(leafHashes: readonly Uint8Array[]): Uint8Array {
  if (leafHashes.length === 0) return EMPTY_ROOT;
  return new Uint8Array(buildRfc6962Tree(leafHashes).getRoot());
}

/** An inclusion proof for leaf `index`, in the ledger's JSON form (verifiable with verifyInclusion). */
export function merkleProof(tree: MerkleTree, index: number): InclusionProofJson {
  const leaves = tree.getLeaves();
  if (!Number.isSafeInteger(index) || index < 0 || index >= leaves.length) throw new RangeError(`leaf index ${index} out of range`);
  const hashes = tree.getProof(leaves[index]!, index).map((p) => new Uint8Array(p.data));
  return proofToJson({ index, treeSize: leaves.length, leafHash: new Uint8Array(leaves[index]!), hashes });
}

/**
 * Checks that `leaf` is at proof.index in the tree with the given root (hex). Throws FormatError
 * FORMAT_BAD_PROOF otherwise, including for a malformed proof object.
 */
export function verifyLeafProof(rootHex: string, leaf: JsonValue, proof: unknown): void {
  let p;
  try {
    p = proofFromJson(proof);
  } catch (err) {
    throw new FormatError('FORMAT_BAD_PROOF', `malformed inclusion proof: ${(err as Error).message}`, { cause: err });
  }
  const leafHash = hashManifestLeaf(leaf);
  if (Buffer.compare(Buffer.from(leafHash), Buffer.from(p.leafHash)) !== 0) {
    throw new FormatError('FORMAT_BAD_PROOF', 'the proof is for a different leaf');
  }
  if (!/^[0-9a-f]{64}$/.test(rootHex)) throw new FormatError('FORMAT_BAD_PROOF', 'root must be 64 lower-case hex digits');
  try {
    verifyInclusion(p.index, p.treeSize, leafHash, p.hashes, new Uint8Array(Buffer.from(rootHex, 'hex')));
  } catch (err) {
    throw new FormatError('FORMAT_BAD_PROOF', (err as Error).message, { cause: err });
  }
}
