// A dataset manifest: every file of a dataset folder with its SHA-256, under an RFC 6962 Merkle
// root, so that one file can be proven to be part of a registered dataset ("this image was in
// the training set") by handing over the file, its leaf and a proof of O(log n) hashes.
// Leaf = canonical JSON (RFC 8785) of { path, sha256, size }; leaves sorted by path (relative,
// '/' separators, UTF-16 code-unit order).
import { relative, sep } from 'node:path';
import type { InclusionProofJson } from '../../ledger/index.js';
import { digestFile, listModelFiles } from './digest.js';
import { FormatError } from './errors.js';
import { buildRfc6962Tree, hashManifestLeaf, merkleProof, merkleRoot, verifyLeafProof } from './merkle.js';

export const DATASET_MANIFEST_VERSION = 1;

export interface DatasetFileLeaf {
  path: string;
  sha256: string;
  size: number;
}

export interface DatasetManifest {
  version: typeof DATASET_MANIFEST_VERSION;
  algorithm: 'rfc6962-sha256-jcs';
  /** Hex Merkle root. */
  root: string;
  files: DatasetFileLeaf[];
}

const leafJson = (f: DatasetFileLeaf) => ({ path: f.path, sha256: f.sha256, size: f.size });

/** Builds the manifest from file leaves (for datasets that are not a folder, such as built-in ones). */
export function datasetManifestFromLeaves(leaves: readonly DatasetFileLeaf[]): DatasetManifest {
  const files = leaves.map(leafJson).sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  for (let i = 1; i < files.length; i++) {
    if (files[i]!.path === files[i - 1]!.path) throw new FormatError('FORMAT_CORRUPT', `dataset lists ${files[i]!.path} twice`);
  }
  const root = Buffer.from(merkleRoot(files.map((f) => hashManifestLeaf(f)))).toString('hex');
  return { version: DATASET_MANIFEST_VERSION, algorithm: 'rfc6962-sha256-jcs', root, files };
}

/** Hashes every regular file under `dir` (skipping .git; links are refused) into a manifest. */
export async function buildDatasetManifest(dir: string, onFile?: (done: number, total: number) => void): Promise<DatasetManifest> {
  const { root, files } = await listModelFiles(dir);
  const leaves: DatasetFileLeaf[] = [];
  for (const f of files) {
    leaves.push({ path: relative(root, f).split(sep).join('/'), ...(await digestFile(f)) });
    onFile?.(leaves.length, files.length);
  }
  return datasetManifestFromLeaves(leaves);
}

/** The leaf of one file: its dataset-relative path and the digest of the file at `absPath`. */
export async function datasetLeafForFile(relPath: string, absPath: string): Promise<DatasetFileLeaf> {
  return { path: relPath, ...(await digestFile(absPath)) };
}

/** An inclusion proof for the file at `path` (hashes base64, the ledger's proof JSON form). */
export function proveDatasetFile(manifest: DatasetManifest, path: string): { leaf: DatasetFileLeaf; proof: InclusionProofJson } {
  const hashes = manifest.files.map((f) => hashManifestLeaf(leafJson(f)));
  if (Buffer.from(merkleRoot(hashes)).toString('hex') !== manifest.root) {
    throw new FormatError('FORMAT_CORRUPT', 'dataset manifest: files do not hash to its root');
  }
  const index = manifest.files.findIndex((f) => f.path === path);
  if (index < 0) throw new FormatError('FORMAT_NOT_FOUND', `dataset manifest has no file ${path}`);
  return { leaf: manifest.files[index]!, proof: merkleProof(buildRfc6962Tree(hashes), index) };
}

/** Throws FormatError FORMAT_BAD_PROOF unless the file leaf is included under `rootHex`. */
export function verifyDatasetFileProof(rootHex: string, leaf: DatasetFileLeaf, proof: unknown): void {
  verifyLeafProof(rootHex, leafJson(leaf), proof);
}
