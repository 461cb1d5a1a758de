// The blob store over any backend: content addressed by the plaintext's SHA-256 (so ids are the
// ids the API has always given), stored under HMAC(naming key, SHA-256) and sealed chunk by
// chunk (format.ts). Reads check the header, the key id and the chunk count before the first
// byte is handed out, every chunk as it is read, and (get, toFile) the whole digest at the end.
import { createHash, randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open as openFile, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { BlobRef, ChunkBackend } from './backend.js';
import { isBlobName } from './backend.js';
import { BlobError } from './errors.js';
import { decodeHeader, encodeHeader, headerFor, openChunk, plainLength, sealChunk, sealedLength, type BlobHeader } from './format.js';
import { deriveBlobKeys, newKeyInfo, storageKey, type BlobKeys, type KeySource } from './keys.js';

export type { BlobRef } from './backend.js';

export interface OpenedBlob {
  readonly size: number;
  /** Authenticated plaintext chunks, in order; throws (BlobError) at the first that fails. */
  readonly chunks: AsyncIterable<Uint8Array>;
}

export interface BlobStore {
  readonly kind: 'local' | 'postgres';
  /** Stores bytes or a file; `sha256`, when given, must be the content's (else BLOB_MISMATCH). */
  put(source: Uint8Array | { readonly path: string }, options?: { readonly sha256?: string }): Promise<BlobRef & { created: boolean }>;
  has(sha256: string): Promise<boolean>;
  /** The whole plaintext, verified. */
  get(sha256: string): Promise<Uint8Array>;
  /** Writes the plaintext to `path` (via a temporary file; nothing at `path` unless it verified). */
  toFile(sha256: string, path: string): Promise<BlobRef>;
  /** A stream of verified chunks, for downloads. */
  open(sha256: string): Promise<OpenedBlob>;
  remove(sha256: string): Promise<boolean>;
  /** Names (area/id/file) that point at blobs: uploads and artifacts by the name a client uses. */
  link(name: string, ref: BlobRef): Promise<void>;
  resolve(name: string): Promise<BlobRef | undefined>;
  list(prefix: string): Promise<{ name: string; ref: BlobRef }[]>;
  unlink(name: string): Promise<boolean>;
  close(): Promise<void>;
}

const HEX64 = /^[0-9a-f]{64}$/;

function checkDigest(sha256: string): string {
  if (typeof sha256 !== 'string' || !HEX64.test(sha256)) throw new BlobError('BLOB_BAD_NAME', 'a blob address is 64 lower-case hex digits (SHA-256)');
  return sha256;
}

function checkName(name: string): string {
  if (typeof name !== 'string' || !isBlobName(name)) throw new BlobError('BLOB_BAD_NAME', 'a blob name is 1-6 segments of letters, digits, ".", "-" or "_" separated by "/"');
  return name;
}

async function hashFile(path: string): Promise<{ sha256: string; size: number }> {
  const h = createHash('sha256');
  let size = 0;
  for await (const c of createReadStream(path)) {
    h.update(c as Buffer);
    size += (c as Buffer).length;
  }
  return { sha256: h.digest('hex'), size };
}

/** Reads a file in CHUNK-sized pieces (the last may be shorter; an empty file gives one empty piece). */
async function* filePieces(path: string, size: number, h: BlobHeader): AsyncGenerator<Uint8Array> {
  const fh = await openFile(path, 'r');
  try {
    for (let i = 0; i < h.chunks; i++) {
      const want = plainLength(h, i);
      const buf = Buffer.alloc(want);
      let got = 0;
      while (got < want) {
        const { bytesRead } = await fh.read(buf, got, want - got, i * h.chunkSize + got);
        if (bytesRead === 0) throw new BlobError('BLOB_MISMATCH', `the file changed while it was stored (shorter than ${size} bytes)`);
        got += bytesRead;
      }
      yield buf;
    }
  } finally {
    await fh.close();
  }
}

function* bytePieces(bytes: Uint8Array, h: BlobHeader): Generator<Uint8Array> {
  for (let i = 0; i < h.chunks; i++) yield bytes.subarray(i * h.chunkSize, i * h.chunkSize + plainLength(h, i));
}

export class SealedBlobStore implements BlobStore {
  private keysP: Promise<BlobKeys> | undefined;

  constructor(private readonly backend: ChunkBackend, private readonly source: KeySource | undefined, private readonly chunkSize?: number) {}

  get kind(): 'local' | 'postgres' {
    return this.backend.kind;
  }

  /** Derives (once) the keys, creating the store's key record on first use; BLOB_BAD_KEY if they do not match it. */
  keys(): Promise<BlobKeys> {
    const source = this.source;
    if (!source) return Promise.reject(new BlobError('BLOB_NO_KEY', 'the blob store has no key: set HALLMARK_PASSPHRASE or HALLMARK_BLOB_KEY_FILE'));
    this.keysP ??= (async () => {
      const info = await this.backend.keyInfo(async () => {
        const fresh = newKeyInfo(source);
        return { ...fresh, keyId: (await deriveBlobKeys(source, fresh)).keyId };
      });
      return deriveBlobKeys(source, info);
    })();
    this.keysP.catch(() => (this.keysP = undefined));
    return this.keysP;
  }

  async put(source: Uint8Array | { readonly path: string }, options: { readonly sha256?: string } = {}): Promise<BlobRef & { created: boolean }> {
    const keys = await this.keys();
    const isBytes = source instanceof Uint8Array;
    const measured = isBytes ? { sha256: createHash('sha256').update(source).digest('hex'), size: source.length } : await hashFile(source.path);
    if (options.sha256 !== undefined && checkDigest(options.sha256) !== measured.sha256) {
      throw new BlobError('BLOB_MISMATCH', `the content hashes to ${measured.sha256.slice(0, 12)}..., not the ${options.sha256.slice(0, 12)}... it was stored as`);
    }
    const { sha256, size } = measured;
    const h = headerFor(size, keys.keyId, this.chunkSize);
    const header = encodeHeader(h);
    const key = storageKey(keys, sha256);
    const writer = await this.backend.begin(key, header);
    if (!writer) return { sha256, size, created: false };
    const again = createHash('sha256');
    try {
      let i = 0;
      for await (const piece of isBytes ? bytePieces(source, h) : filePieces(source.path, size, h)) {
        again.update(piece);
        await writer.write(i, sealChunk(keys.enc, sha256, header, h, i, piece));
        i++;
      }
      // A file rewritten between hashing and sealing would give chunks of another content.
      if (again.digest('hex') !== sha256) throw new BlobError('BLOB_MISMATCH', 'the file changed while it was stored');
      await writer.commit();
    } catch (err) {
      await writer.abort().catch(() => undefined);
      throw err;
    }
    return { sha256, size, created: true };
  }

  async has(sha256: string): Promise<boolean> {
    checkDigest(sha256);
    return this.backend.has(storageKey(await this.keys(), sha256));
  }

  async open(sha256: string): Promise<OpenedBlob> {
    checkDigest(sha256);
    const keys = await this.keys();
    const key = storageKey(keys, sha256);
    const header = await this.backend.header(key);
    if (!header) throw new BlobError('BLOB_NOT_FOUND', `no stored file ${sha256.slice(0, 12)}...`);
    const h = decodeHeader(header);
    if (h.keyId !== keys.keyId) throw new BlobError('BLOB_BAD_KEY', `stored file ${sha256.slice(0, 12)}... was sealed under another key (key id ${h.keyId.slice(0, 8)}...)`);
    const count = await this.backend.chunkCount(key, h.chunks, (i) => sealedLength(h, i));
    if (count < h.chunks) throw new BlobError('BLOB_TRUNCATED', `stored file ${sha256.slice(0, 12)}... has ${count} of its ${h.chunks} chunks`);
    if (count > h.chunks) throw new BlobError('BLOB_TAMPERED', `stored file ${sha256.slice(0, 12)}... has chunks past its end`);
    const backend = this.backend;
    async function* chunks(): AsyncGenerator<Uint8Array> {
      for (let i = 0; i < h.chunks; i++) {
        const sealed = await backend.chunk(key, i, { offset: i * sealedLength(h, 0), length: sealedLength(h, i) });
        if (!sealed) throw new BlobError('BLOB_TRUNCATED', `chunk ${i} of stored file ${sha256.slice(0, 12)}... is missing`);
        yield openChunk(keys.enc, sha256, header!, h, i, sealed);
      }
    }
    return { size: h.size, chunks: chunks() };
  }

  async get(sha256: string): Promise<Uint8Array> {
    const b = await this.open(sha256);
    const out = Buffer.alloc(b.size);
    let at = 0;
    for await (const c of b.chunks) {
      out.set(c, at);
      at += c.length;
    }
    this.checkWhole(sha256, out);
    return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  }

  private checkWhole(sha256: string, bytes: Uint8Array | ReturnType<typeof createHash>): void {
    const got = bytes instanceof Uint8Array ? createHash('sha256').update(bytes).digest('hex') : bytes.digest('hex');
    // Unreachable unless the AEAD itself were broken; kept as the last line of defence.
    if (got !== sha256) throw new BlobError('BLOB_TAMPERED', `stored file ${sha256.slice(0, 12)}... does not hash to its address`);
  }

  async toFile(sha256: string, path: string): Promise<BlobRef> {
    const b = await this.open(sha256);
    const tmp = join(dirname(path), `.${randomUUID()}.part`);
    const h = createHash('sha256');
    const fh = await openFile(tmp, 'wx', 0o600);
    try {
      for await (const c of b.chunks) {
        h.update(c);
        await fh.write(c);
      }
      await fh.close();
      this.checkWhole(sha256, h);
      await rename(tmp, path);
    } catch (err) {
      await fh.close().catch(() => undefined);
      await rm(tmp, { force: true });
      throw err;
    }
    return { sha256, size: b.size };
  }

  async remove(sha256: string): Promise<boolean> {
    checkDigest(sha256);
    return this.backend.remove(storageKey(await this.keys(), sha256));
  }

  async link(name: string, ref: BlobRef): Promise<void> {
    checkDigest(ref.sha256);
    await this.backend.setRef(checkName(name), { sha256: ref.sha256, size: ref.size });
  }

  resolve(name: string): Promise<BlobRef | undefined> {
    return this.backend.getRef(checkName(name));
  }

  list(prefix: string): Promise<{ name: string; ref: BlobRef }[]> {
    return this.backend.listRefs(checkName(prefix));
  }

  unlink(name: string): Promise<boolean> {
    return this.backend.removeRef(checkName(name));
  }

  close(): Promise<void> {
    return this.backend.close();
  }
}
