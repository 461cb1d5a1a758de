// Sharded safetensors checkpoints as Hugging Face writes them: `model.safetensors.index.json`
// ({ metadata?, weight_map: { tensor: shard file } }) next to the shard files. Only the shard
// headers are read up front; each tensor's bytes are read from its shard when `data` is first
// used, so a checkpoint larger than memory can be listed, digested tensor by tensor and marked.
// Writing copies every shard and rewrites, in place, only the byte ranges of replaced tensors.
import { closeSync, openSync, readSync } from 'node:fs';
import { copyFile, mkdir, open, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { FormatError } from './errors.js';
import { readWholeFile } from './read-file.js';
import { resolveExistingInside, resolveInside } from './safe-path.js';
import { readSafetensorsLayout, type SafetensorsLayout } from './safetensors.js';
import { checkTensor, tensorBytes, type NamedTensor } from './tensor.js';

export const INDEX_SUFFIX = '.safetensors.index.json';
const MAX_INDEX_BYTES = 64 * 1024 * 1024;

const fail = (code: ConstructorParameters<typeof FormatError>[0], msg: string): never => {
  throw new FormatError(code, `safetensors index: ${msg}`);
};

export interface ShardedSafetensors {
  readonly indexPath: string;
  readonly indexBytes: Uint8Array;
  /** Shard file names as the index gives them, in first-use order. */
  readonly shards: string[];
  readonly layouts: Map<string, SafetensorsLayout & { path: string }>;
  /** Tensors in index order; `data` reads the bytes from the shard on each access. */
  readonly tensors: NamedTensor[];
  readonly metadata: Record<string, unknown>;
}

export function isShardedIndex(path: string): boolean {
  return basename(path).toLowerCase().endsWith(INDEX_SUFFIX);
}

function parseIndex(bytes: Uint8Array, path: string): { weightMap: [string, string][]; metadata: Record<string, unknown> } {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (err) {
    return fail('FORMAT_CORRUPT', `${basename(path)} is not JSON (${(err as Error).message.slice(0, 80)})`);
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) return fail('FORMAT_CORRUPT', 'the index is not a JSON object');
  const { weight_map: wm, metadata } = json as Record<string, unknown>;
  if (wm === null || typeof wm !== 'object' || Array.isArray(wm)) return fail('FORMAT_CORRUPT', 'the index has no weight_map object');
  const weightMap = Object.entries(wm as Record<string, unknown>).map(([k, v]) => {
    if (typeof v !== 'string' || v.length === 0) fail('FORMAT_CORRUPT', `weight_map.${k.slice(0, 60)} is not a file name`);
    return [k, v as string] as [string, string];
  });
  const meta = metadata !== null && typeof metadata === 'object' && !Array.isArray(metadata) ? (metadata as Record<string, unknown>) : {};
  return { weightMap, metadata: meta };
}

function lazyTensor(path: string, e: SafetensorsLayout['entries'][number], dataStart: number): NamedTensor {
  const len = e.end - e.begin;
  return {
    name: e.name, dtype: e.dtype, shape: e.shape,
    get data() {
      const buf = new Uint8Array(len);
      const fd = openSync(path, 'r');
      try {
        let pos = 0;
        while (pos < len) {
          const n = readSync(fd, buf, pos, len - pos, dataStart + e.begin + pos);
          if (n === 0) throw new FormatError('FORMAT_TRUNCATED', `safetensors: ${basename(path)} shrank while being read`);
          pos += n;
        }
      } finally {
        closeSync(fd);
      }
      return buf;
    },
  };
}

/** Reads the index and every shard's header (never the tensor data). */
export async function readShardedSafetensors(indexPath: string): Promise<ShardedSafetensors> {
  const indexBytes = await readWholeFile(indexPath, MAX_INDEX_BYTES);
  const { weightMap, metadata } = parseIndex(indexBytes, indexPath);
  const dir = dirname(resolve(indexPath));
  const shards = [...new Set(weightMap.map(([, f]) => f))];
  const layouts = new Map<string, SafetensorsLayout & { path: string }>();
  for (const s of shards) {
    const path = await resolveExistingInside(dir, s, 'safetensors index: shard');
    layouts.set(s, { ...(await readSafetensorsLayout(path)), path });
  }
  const tensors = weightMap.map(([name, shard]) => {
    const l = layouts.get(shard)!;
    const e = l.entries.find((x) => x.name === name) ?? fail('FORMAT_NOT_FOUND', `weight_map says ${name.slice(0, 80)} is in ${shard.slice(0, 80)}, which has no such tensor`);
    return lazyTensor(l.path, e, l.dataStart);
  });
  const mapped = new Set(weightMap.map(([n]) => n));
  for (const [s, l] of layouts) for (const e of l.entries) if (!mapped.has(e.name)) fail('FORMAT_CORRUPT', `${s.slice(0, 80)} holds ${e.name.slice(0, 80)}, which weight_map does not list`);
  return { indexPath, indexBytes, shards, layouts, tensors, metadata };
}

/**
 * Writes the checkpoint at `src` (an index path) into the folder `dest` (or next to a dest path
 * ending in .safetensors.index.json) with the named tensors replaced: shards are copied, replaced
 * byte ranges are overwritten in place, the index is copied byte for byte. Returns the new index path.
 */
export async function writeShardedSafetensors(src: string, dest: string, replacements: readonly NamedTensor[]): Promise<string> {
  const m = await readShardedSafetensors(src);
  const destDir = isShardedIndex(dest) ? dirname(resolve(dest)) : resolve(dest);
  const destIndex = isShardedIndex(dest) ? resolve(dest) : join(destDir, basename(src));
  const where = new Map<string, { shard: string; begin: number; end: number; t: NamedTensor }>();
  const known = new Map(m.tensors.map((t) => [t.name, t]));
  for (const r of replacements) {
    checkTensor(r);
    const old = known.get(r.name) ?? fail('FORMAT_NOT_FOUND', `${basename(src)} has no tensor named ${r.name.slice(0, 80)}`);
    if (old.dtype !== r.dtype || old.shape.length !== r.shape.length || old.shape.some((d, k) => d !== r.shape[k])) {
      fail('FORMAT_SHAPE_MISMATCH', `tensor ${r.name} is ${old.dtype}[${old.shape.join(', ')}], the replacement is ${r.dtype}[${r.shape.join(', ')}]`);
    }
    for (const [shard, l] of m.layouts) {
      const e = l.entries.find((x) => x.name === r.name);
      if (e) where.set(r.name, { shard, begin: l.dataStart + e.begin, end: l.dataStart + e.end, t: r });
    }
  }
  await mkdir(destDir, { recursive: true });
  for (const [shard, l] of m.layouts) {
    const out = resolveInside(destDir, shard, 'safetensors index: shard');
    if (resolve(out) === resolve(l.path)) fail('FORMAT_UNSAFE_PATH', `writing ${shard} would overwrite the source shard; choose another output folder`);
    await mkdir(dirname(out), { recursive: true });
    await copyFile(l.path, out);
    const mine = [...where.values()].filter((w) => w.shard === shard);
    if (mine.length === 0) continue;
    const fh = await open(out, 'r+');
    try {
      for (const w of mine) await fh.write(tensorBytes(w.t), 0, w.end - w.begin, w.begin);
    } finally {
      await fh.close();
    }
    if ((await stat(out)).size !== l.size) fail('FORMAT_CORRUPT', `${shard} changed size while being written`);
  }
  await writeFile(destIndex, m.indexBytes);
  return destIndex;
}
