// Uploads: the request body is streamed to a temporary file under the home folder while it is
// hashed, bounded by a size limit and checked against Content-Length. Any failure (too large,
// client gone, body shorter than announced) removes the partial file, so a failed upload leaves
// nothing behind. Stored files are content addressed, in the blob store (blob-files.ts), named
// uploads/<area>/<sha256>/<file name>.
import { createHash, randomUUID } from 'node:crypto';
import { createWriteStream, existsSync, readdirSync, rmSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { removeStoredUpload, storeUpload } from './blob-files.js';
import { ApiError } from './errors.js';

/** Letters, digits, dot, dash, underscore; no leading dot; at most 128 characters. */
const FILE_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export function checkFileName(name: string): string {
  if (!FILE_NAME_RE.test(name) || name.includes('..')) {
    throw new ApiError('API_BAD_NAME', 'file name must be 1-128 letters, digits, ".", "-" or "_", start with a letter or digit, and contain no ".." or "/"');
  }
  return name;
}

export interface ReceivedUpload {
  readonly sha256: string;
  readonly size: number;
  /** The temporary file, for checks before commit (never shown to a client). */
  readonly tempPath: string;
  /** Seals the file into the blob store as uploads/<area>/<sha256>/<name>; returns that name. */
  commit(): Promise<{ path: string; created: boolean }>;
  discard(): Promise<void>;
}

export function uploadsDir(homeDir: string): string {
  return join(homeDir, 'uploads');
}

/** A transform that counts and hashes, failing as soon as the limit is passed. */
function meter(maxBytes: number, state: { size: number }, hash: ReturnType<typeof createHash>): Transform {
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      state.size += chunk.length;
      if (state.size > maxBytes) return done(new ApiError('API_TOO_LARGE', `upload is over the limit of ${maxBytes} bytes`));
      hash.update(chunk);
      done(null, chunk);
    },
  });
}

export async function receiveUpload(req: Request, options: { homeDir: string; area: 'models' | 'datasets' | 'suspects'; fileName: string; maxBytes: number }): Promise<ReceivedUpload> {
  const fileName = checkFileName(options.fileName);
  const type = (req.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/octet-stream') throw new ApiError('API_UNSUPPORTED_MEDIA_TYPE', 'uploads must be sent as Content-Type: application/octet-stream');
  const lengthHeader = req.headers.get('content-length');
  const declared = lengthHeader === null ? undefined : /^\d{1,16}$/.test(lengthHeader) ? Number(lengthHeader) : NaN;
  if (Number.isNaN(declared)) throw new ApiError('API_INVALID_REQUEST', 'Content-Length is not a number');
  if (declared !== undefined && declared > options.maxBytes) throw new ApiError('API_TOO_LARGE', `upload of ${declared} bytes is over the limit of ${options.maxBytes} bytes`);
  if (!req.body || declared === 0) throw new ApiError('API_INVALID_REQUEST', 'the upload is empty');

  const root = uploadsDir(options.homeDir);
  const tmpDir = join(root, '.tmp');
  await mkdir(tmpDir, { recursive: true, mode: 0o700 });
  const tmp = join(tmpDir, `${randomUUID()}.part`);
  const hash = createHash('sha256');
  const state = { size: 0 };
  try {
    await pipeline(Readable.fromWeb(req.body as unknown as WebReadableStream<Uint8Array>), meter(options.maxBytes, state, hash), createWriteStream(tmp, { flags: 'wx', mode: 0o600 }));
    if (declared !== undefined && state.size !== declared) throw new ApiError('API_TRUNCATED_UPLOAD', `upload ended after ${state.size} of ${declared} bytes`);
    if (state.size === 0) throw new ApiError('API_INVALID_REQUEST', 'the upload is empty');
  } catch (err) {
    await rm(tmp, { force: true });
    // A client that went away mid-body surfaces as a stream error: a truncated upload.
    if (err instanceof ApiError) throw err;
    throw new ApiError('API_TRUNCATED_UPLOAD', `upload was cut off after ${state.size} bytes`, { cause: err });
  }
  const sha256 = hash.digest('hex');
  return {
    sha256,
    size: state.size,
    tempPath: tmp,
    // Sealed into the blob store (blob-files.ts), shared by every replica; the plaintext
    // temporary file is removed either way.
    async commit() {
      try {
        return await storeUpload(options.homeDir, tmp, sha256, options.area, fileName);
      } finally {
        await rm(tmp, { force: true });
      }
    },
    discard: () => rm(tmp, { force: true }),
  };
}

/**
 * Removes `.part` files left by uploads that never finished (a server killed mid-upload); called
 * when the server starts, before it takes requests, so none of them can be in flight.
 */
export function removeStaleParts(homeDir: string): number {
  const tmpDir = join(uploadsDir(homeDir), '.tmp');
  if (!existsSync(tmpDir)) return 0;
  let removed = 0;
  for (const name of readdirSync(tmpDir)) {
    if (!name.endsWith('.part')) continue;
    rmSync(join(tmpDir, name), { force: true });
    removed++;
  }
  return removed;
}

/** Removes a committed file again (registration refused after the move). */
export async function removeStored(homeDir: string, path: string): Promise<void> {
  await removeStoredUpload(homeDir, path);
}
