// Model digests after the OpenSSF model-signing idea (github.com/sigstore/model-transparency):
// every file of a model is hashed with SHA-256, and the model digest is SHA-256 over the
// canonical JSON (RFC 8785) of the list [{ path, sha256 }] sorted by path (relative, POSIX
// separators). File names and the set of files are bound: renaming, swapping, adding or dropping
// a file changes the digest.
import { createHash } from 'node:crypto';
import { readdir, stat } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { canonicalJsonBytes } from '../../ledger/index.js';
import { FormatError } from './errors.js';
import { scanOnnx, type OnnxScan } from './onnx.js';
import { externalRef } from './onnx-tensor.js';
import { openRegularFile, readWholeFile } from './read-file.js';
import { resolveExistingInside } from './safe-path.js';
import { readModelJson } from './tfjs-layers.js';
import { isShardedIndex, readShardedSafetensors } from './safetensors-sharded.js';

export interface FileDigest {
  /** Relative to the model's folder, with '/' separators. */
  path: string;
  sha256: string;
  size: number;
}

export interface ModelDigest {
  sha256: string;
  files: FileDigest[];
}

const CHUNK = 4 * 1024 * 1024;

/** SHA-256 of a file, streamed with two alternating buffers so reading overlaps hashing. Memory: 8 MiB. */
export async function digestFile(path: string): Promise<{ sha256: string; size: number }> {
  const { fh } = await openRegularFile(path);
  try {
    const hash = createHash('sha256');
    const a = Buffer.allocUnsafe(CHUNK);
    const b = Buffer.allocUnsafe(CHUNK);
    let size = 0;
    let cur = a;
    let pending = fh.read(cur, 0, CHUNK, 0);
    for (;;) {
      const { bytesRead } = await pending;
      if (bytesRead === 0) break;
      size += bytesRead;
      const done = cur;
      cur = cur === a ? b : a;
      pending = fh.read(cur, 0, CHUNK, size);
      hash.update(done.subarray(0, bytesRead));
    }
    return { sha256: hash.digest('hex'), size };
  } finally {
    await fh.close();
  }
}

const toPosix = (p: string) => p.split(sep).join('/');

async function walk(root: string, dir: string, out: string[]): Promise<void> {
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const full = join(dir, e.name);
    if (e.isDirectory()) {
      if (e.name !== '.git') await walk(root, full, out);
    } else if (e.isFile()) out.push(full);
    else if (e.isSymbolicLink()) {
      // As in model-signing without allow_symlinks: a link's target is not part of the folder.
      throw new FormatError('FORMAT_UNSAFE_PATH', `${toPosix(relative(root, full))} is a symbolic link; models are hashed without following links`);
    } else throw new FormatError('FORMAT_UNSUPPORTED', `${toPosix(relative(root, full))} is not a regular file`);
  }
}

async function onnxCompanions(path: string, scan: OnnxScan): Promise<string[]> {
  const dir = dirname(path);
  const locs = new Set(scan.tensors.filter((i) => i.storage === 'external').map((i) => externalRef(i.proto, i.name).location));
  return Promise.all([...locs].map((l) => resolveExistingInside(dir, l, 'onnx: external data location')));
}

/**
 * The files that make up a model: every regular file under a folder (skipping .git), or a file
 * together with the files it names (TF.js weight shards, ONNX external data). Returns the folder
 * the relative paths are taken from, and absolute paths.
 */
export async function listModelFiles(path: string): Promise<{ root: string; files: string[] }> {
  const full = resolve(path);
  let st;
  try {
    st = await stat(full);
  } catch (err) {
    throw new FormatError('FORMAT_NOT_FOUND', `${path} not found`, { cause: err });
  }
  if (st.isDirectory()) {
    const files: string[] = [];
    await walk(full, full, files);
    return { root: full, files };
  }
  const root = dirname(full);
  let companions: string[] = [];
  if (isShardedIndex(full)) {
    const m = await readShardedSafetensors(full);
    companions = [...m.layouts.values()].map((l) => l.path);
  } else if (full.toLowerCase().endsWith('.json')) {
    const { json } = await readModelJson(full);
    const paths = json.weightsManifest.flatMap((g) => g.paths);
    companions = await Promise.all(paths.map((p) => resolveExistingInside(root, p, 'tfjs: weight shard')));
  } else if (full.endsWith('.onnx')) {
    companions = await onnxCompanions(full, scanOnnx(await readWholeFile(full)));
  }
  return { root, files: [...new Set([full, ...companions])] };
}

/** SHA-256 over the canonical JSON of [{ path, sha256 }] sorted by path. */
export function combineFileDigests(files: readonly FileDigest[]): string {
  const list = [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)).map((f) => ({ path: f.path, sha256: f.sha256 }));
  return createHash('sha256').update(canonicalJsonBytes(list)).digest('hex');
}

/**
 * The model digest of a file (with its companion files) or of a folder. A model that is one file
 * is identified by that file's plain SHA-256, so in-toto subjects, the API's upload digest and
 * `sha256sum` agree; a model of several files by combineFileDigests over all of them.
 */
export async function digestModel(pathOrDir: string): Promise<ModelDigest> {
  const { root, files } = await listModelFiles(pathOrDir);
  const out: FileDigest[] = [];
  for (const f of files) out.push({ path: toPosix(relative(root, f)), ...(await digestFile(f)) });
  out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { sha256: out.length === 1 ? out[0]!.sha256 : combineFileDigests(out), files: out };
}
