// A tensor manifest: one Merkle leaf per tensor, so that one tensor can be shown to belong to a
// registered model without handing over the others. Leaf = canonical JSON (RFC 8785) of
// { name, dtype, shape, sha256 of the tensor's stored bytes }; leaves sorted by name (UTF-16 code
// units, as RFC 8785 sorts keys), so the root does not depend on the order a format stores them in;
// tree hashing is RFC 6962 (see merkle.ts).
import { createHash } from 'node:crypto';
import type { InclusionProofJson } from '../../ledger/index.js';
import { FormatError } from './errors.js';
import { buildRfc6962Tree, hashManifestLeaf, merkleProof, merkleRoot, verifyLeafProof } from './merkle.js';
import { checkTensor, tensorBytes, type DType, type NamedTensor } from './tensor.js';

export const TENSOR_MANIFEST_VERSION = 1;

export interface TensorLeaf {
  name: string;
  dtype: DType;
  shape: number[];
  sha256: string;
}

export interface TensorManifest {
  version: typeof TENSOR_MANIFEST_VERSION;
  /** How the root is computed: RFC 6962 over SHA-256 of canonical JSON leaves. */
  algorithm: 'rfc6962-sha256-jcs';
  /** Hex Merkle root. */
  root: string;
  leaves: TensorLeaf[];
}

export function tensorLeaf(t: NamedTensor): TensorLeaf {
  checkTensor(t);
  return { name: t.name, dtype: t.dtype, shape: [...t.shape], sha256: createHash('sha256').update(tensorBytes(t)).digest('hex') };
}

const byName = (a: TensorLeaf, b: TensorLeaf) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

export function buildTensorManifest(tensors: readonly NamedTensor[]): TensorManifest {
  const leaves = tensors.map(tensorLeaf).sort(byName);
  for (let i = 1; i < leaves.length; i++) {
    if (leaves[i]!.name === leaves[i - 1]!.name) throw new FormatError('FORMAT_CORRUPT', `two tensors are named ${leaves[i]!.name}`);
  }
  const root = merkleRoot(leaves.map((l) => hashManifestLeaf({ ...l })));
  return { version: TENSOR_MANIFEST_VERSION, algorithm: 'rfc6962-sha256-jcs', root: Buffer.from(root).toString('hex'), leaves };
}

/** An inclusion proof that the tensor `name` is a leaf of the manifest (hashes in base64, ledger JSON form). */
export function proveTensor(manifest: TensorManifest, name: string): { leaf: TensorLeaf; proof: InclusionProofJson } {
  const leafHashes = manifest.leaves.map((l) => hashManifestLeaf({ ...l }));
  if (Buffer.from(merkleRoot(leafHashes)).toString('hex') !== manifest.root) {
    throw new FormatError('FORMAT_CORRUPT', 'tensor manifest: leaves do not hash to its root');
  }
  const index = manifest.leaves.findIndex((l) => l.name === name);
  if (index < 0) throw new FormatError('FORMAT_NOT_FOUND', `tensor manifest has no tensor named ${name}`);
  return { leaf: manifest.leaves[index]!, proof: merkleProof(buildRfc6962Tree(leafHashes), index) };
}

/** Throws FormatError FORMAT_BAD_PROOF unless `leaf` is included under `rootHex`. */
export function verifyTensorProof(rootHex: string, leaf: TensorLeaf, proof: unknown): void {
  verifyLeafProof(rootHex, { name: leaf.name, dtype: leaf.dtype, shape: [...leaf.shape], sha256: leaf.sha256 }, proof);
}
