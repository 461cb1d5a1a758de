// A parallel file digest. SHA-256 of one stream cannot be split across threads, so this is a
// DIFFERENT digest from the file's plain SHA-256, named "sha256-sharded-v1":
//   the file is cut into fixed shards of `shardBytes` (64 MiB by default; the last may be shorter,
//   an empty file has no shards); each shard is hashed with SHA-256; the digest is
//   SHA-256(canonical JSON (RFC 8785) of { algorithm, shardBytes, size, shards: [hex, ...] }).
// Shards are hashed by worker threads (2 by default), each reading its own shards with its own
// 4 MiB buffer, so memory stays bounded whatever the file size.
import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { Worker } from 'node:worker_threads';
import { canonicalJsonBytes } from '../../ledger/index.js';
import { FormatError } from './errors.js';

export const SHARDED_ALGORITHM = 'sha256-sharded-v1';
export const DEFAULT_SHARD_BYTES = 64 * 1024 * 1024;

export interface ShardedDigest {
  algorithm: typeof SHARDED_ALGORITHM;
  shardBytes: number;
  size: number;
  shards: string[];
  sha256: string;
}

// Plain JS so it runs from the TypeScript sources (tests) and from dist/ alike; dynamic imports
// so it works whether the worker evaluates it as CommonJS or (under --input-type=module) as ESM.
const WORKER_SOURCE = `
(async () => {
  const { parentPort, workerData } = await import('node:worker_threads');
  const { openSync, readSync, closeSync } = await import('node:fs');
  const { createHash } = await import('node:crypto');
  const { path, shardBytes, size, indices } = workerData;
  const buf = Buffer.allocUnsafe(Math.min(4 * 1024 * 1024, shardBytes));
  const fd = openSync(path, 'r');
  try {
    for (const i of indices) {
      const h = createHash('sha256');
      const end = Math.min(size, (i + 1) * shardBytes);
      for (let pos = i * shardBytes; pos < end; ) {
        const n = readSync(fd, buf, 0, Math.min(buf.length, end - pos), pos);
        if (n === 0) throw new Error('file shrank while being hashed');
        h.update(buf.subarray(0, n));
        pos += n;
      }
      parentPort.postMessage({ index: i, hex: h.digest('hex') });
    }
  } finally {
    closeSync(fd);
  }
})();
`;

/** Combines shard hashes into the sharded digest. Pure. */
export function combineShards(shardBytes: number, size: number, shards: readonly string[]): string {
  return createHash('sha256').update(canonicalJsonBytes({ algorithm: SHARDED_ALGORITHM, shardBytes, size, shards: [...shards] })).digest('hex');
}

export async function digestFileSharded(path: string, options: { shardBytes?: number; workers?: number } = {}): Promise<ShardedDigest> {
  const shardBytes = options.shardBytes ?? DEFAULT_SHARD_BYTES;
  const workers = options.workers ?? 2;
  if (!Number.isSafeInteger(shardBytes) || shardBytes <= 0) throw new RangeError(`shardBytes must be a positive integer, got ${shardBytes}`);
  if (!Number.isSafeInteger(workers) || workers < 1 || workers > 64) throw new RangeError(`workers must be 1..64, got ${workers}`);
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch (err) {
    throw new FormatError('FORMAT_NOT_FOUND', `cannot open ${path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`, { cause: err });
  }
  const count = Math.ceil(size / shardBytes);
  const shards: string[] = new Array<string>(count);
  const n = Math.min(workers, count);
  // Shard i goes to worker i mod n: neighbours run in parallel, so the disk reads stay close.
  await Promise.all(
    Array.from({ length: n }, (_, w) => {
      const indices = Array.from({ length: count }, (_, i) => i).filter((i) => i % n === w);
      return new Promise<void>((resolve, reject) => {
        const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { path, shardBytes, size, indices } });
        worker.on('message', (m: { index: number; hex: string }) => (shards[m.index] = m.hex));
        worker.on('error', (err) => reject(new FormatError('FORMAT_TRUNCATED', `hashing ${path}: ${err.message}`, { cause: err })));
        worker.on('exit', (code) => (code === 0 ? resolve() : reject(new FormatError('FORMAT_TRUNCATED', `hashing ${path}: worker exited with ${code}`))));
      });
    }),
  );
  return { algorithm: SHARDED_ALGORITHM, shardBytes, size, shards, sha256: combineShards(shardBytes, size, shards) };
}
