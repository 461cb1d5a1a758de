// Serialises a model (a file or a folder) into OMS resources, as model_signing's file and
// file_shard serializers do: every regular file under the model path (hidden ones too), each
// hashed whole ("files") or in shard_size pieces named path:start:end ("shards", empty files have
// none); ignored paths are component prefixes relative to the model; symbolic links are refused
// unless allowed; resources are ordered by their manifest key (path components, then start, end).
import { createHash } from 'node:crypto';
import { lstat, open, readdir, realpath, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { SigningError } from './errors.js';
import { compareComponents, isUnder, pathComponents, posixName } from './paths.js';

export type HashType = 'sha256' | 'blake2b';
export const HASH_TYPES: readonly HashType[] = ['sha256', 'blake2b'];
const NODE_HASH: Record<HashType, string> = { sha256: 'sha256', blake2b: 'blake2b512' };
const CHUNK = 1 << 20;
/** The reference's default shard size. */
export const DEFAULT_SHARD_SIZE = 1_000_000_000;

export interface Serialization {
  readonly method: 'files' | 'shards';
  readonly hashType: HashType;
  readonly allowSymlinks: boolean;
  /** Relative to the model, as recorded in the bundle (order kept). */
  readonly ignorePaths: readonly string[];
  readonly shardSize?: number;
}

export interface Resource {
  readonly name: string;
  readonly algorithm: string;
  /** Lower-case hex. */
  readonly digest: string;
}

export interface ModelFile {
  readonly components: string[];
  readonly abs: string;
  readonly size: number;
}

interface Keyed extends Resource {
  readonly components: string[];
  readonly start: number;
  readonly end: number;
}

/** The resource algorithm name: "sha256", or "sha256-sharded-N" for shards. */
export function resourceAlgorithm(s: Serialization): string {
  return s.method === 'shards' ? `${s.hashType}-sharded-${s.shardSize}` : s.hashType;
}

/** Lists the regular files of a model, skipping ignored paths; refuses symlinks and special files. */
export async function listModelFiles(modelPath: string, ignore: readonly string[][], allowSymlinks: boolean): Promise<ModelFile[]> {
  const out: ModelFile[] = [];
  const seenDirs = new Set<string>();
  const visit = async (abs: string, components: string[]): Promise<void> => {
    if (ignore.some((p) => isUnder(components, p))) return;
    let st = await lstat(abs).catch((err: NodeJS.ErrnoException) => {
      throw new SigningError('SIGNING_BAD_INPUT', `cannot read ${abs}: ${err.code ?? err.message}`, { cause: err });
    });
    if (st.isSymbolicLink()) {
      if (!allowSymlinks) throw new SigningError('SIGNING_BAD_INPUT', `${posixName(components)} is a symbolic link; symbolic links are refused unless allowed (allow_symlinks)`);
      st = await stat(abs).catch((err: NodeJS.ErrnoException) => {
        throw new SigningError('SIGNING_BAD_INPUT', `${posixName(components)} is a broken symbolic link`, { cause: err });
      });
    }
    if (st.isFile()) {
      out.push({ components, abs, size: st.size });
    } else if (st.isDirectory()) {
      const real = await realpath(abs);
      if (seenDirs.has(real)) return; // a symlinked folder loop
      seenDirs.add(real);
      const names = await readdir(abs);
      for (const name of names) await visit(join(abs, name), [...components, name]);
    } else {
      throw new SigningError('SIGNING_BAD_INPUT', `${posixName(components)} is neither a regular file nor a folder`);
    }
  };
  await visit(modelPath, []);
  return out;
}

async function hashRange(abs: string, hashType: HashType, start: number, end: number): Promise<string> {
  const h = createHash(NODE_HASH[hashType]);
  const fh = await open(abs, 'r');
  try {
    const buf = Buffer.allocUnsafe(Math.min(CHUNK, Math.max(1, end - start)));
    let pos = start;
    while (pos < end) {
      const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, end - pos), pos);
      if (bytesRead === 0) throw new SigningError('SIGNING_VERIFY_FAILED', `${abs} changed size while it was read`);
      h.update(buf.subarray(0, bytesRead));
      pos += bytesRead;
    }
  } finally {
    await fh.close();
  }
  return h.digest('hex');
}

/** Hashes a model into its resources, ordered as the reference orders its manifest. */
export async function serializeModel(modelPath: string, s: Serialization, extraIgnore: readonly string[][] = []): Promise<Resource[]> {
  if (!HASH_TYPES.includes(s.hashType)) throw new SigningError('SIGNING_UNSUPPORTED', `hash type ${JSON.stringify(s.hashType)} is not supported (sha256, blake2b)`);
  if (s.method === 'shards' && (!Number.isSafeInteger(s.shardSize) || s.shardSize! <= 0)) throw new RangeError('shard size must be a positive integer');
  const ignore = [...s.ignorePaths.map(ignoreComponents).filter((c): c is string[] => c !== undefined), ...extraIgnore];
  const files = await listModelFiles(modelPath, ignore, s.allowSymlinks);
  const algorithm = resourceAlgorithm(s);
  const keyed: Keyed[] = [];
  for (const f of files) {
    const name = posixName(f.components);
    if (s.method === 'files') {
      keyed.push({ name, algorithm, digest: await hashRange(f.abs, s.hashType, 0, f.size), components: f.components, start: 0, end: 0 });
      continue;
    }
    for (let start = 0; start < f.size; start += s.shardSize!) {
      const end = Math.min(start + s.shardSize!, f.size);
      keyed.push({ name: `${name}:${start}:${end}`, algorithm, digest: await hashRange(f.abs, s.hashType, start, end), components: f.components, start, end });
    }
  }
  keyed.sort((a, b) => compareComponents(a.components, b.components) || a.start - b.start || a.end - b.end);
  return keyed.map(({ name, algorithm: alg, digest }) => ({ name, algorithm: alg, digest }));
}

/** An ignore path recorded relative to the model; absolute ones and ones with ".." can never match a model file. */
export function ignoreComponents(p: string): string[] | undefined {
  if (p.startsWith('/')) return undefined;
  const c = pathComponents(p);
  return c.includes('..') ? undefined : c;
}
