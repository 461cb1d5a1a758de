// What a place that keeps sealed blobs must do (a folder, PostgreSQL). It sees only storage
// keys, headers and sealed chunks: encryption, addressing and checks live in sealed-store.ts.
import type { KeyInfo } from './keys.js';

export interface BlobRef {
  /** SHA-256 of the plaintext, hex: the content address callers use. */
  readonly sha256: string;
  readonly size: number;
}

export interface ChunkWriter {
  /** Chunks arrive in order 0, 1, 2, ... */
  write(index: number, sealed: Uint8Array): Promise<void>;
  /** Makes the blob visible, all at once. */
  commit(): Promise<void>;
  abort(): Promise<void>;
}

export interface ChunkBackend {
  readonly kind: 'local' | 'postgres';
  /** The key record, creating `fresh` if there is none yet (first writer wins); returns the stored one. */
  keyInfo(fresh: () => Promise<KeyInfo>): Promise<KeyInfo>;
  has(key: string): Promise<boolean>;
  /** A writer for a new blob, or undefined when the key is already stored. */
  begin(key: string, header: Uint8Array): Promise<ChunkWriter | undefined>;
  header(key: string): Promise<Uint8Array | undefined>;
  /** How many chunks are stored (a folder: how many the file's length holds; see local.ts). */
  chunkCount(key: string, expected: number, length: (i: number) => number): Promise<number>;
  /** Chunk `index`; `offset` is where it starts after the header when chunks are laid end to end. */
  chunk(key: string, index: number, at: { readonly offset: number; readonly length: number }): Promise<Uint8Array | undefined>;
  remove(key: string): Promise<boolean>;
  setRef(name: string, ref: BlobRef): Promise<void>;
  getRef(name: string): Promise<BlobRef | undefined>;
  listRefs(prefix: string): Promise<{ name: string; ref: BlobRef }[]>;
  removeRef(name: string): Promise<boolean>;
  close(): Promise<void>;
}

/** Names are relative paths of plain segments: area/id/file. */
const SEGMENT = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export function isBlobName(name: string): boolean {
  const parts = name.split('/');
  return parts.length >= 1 && parts.length <= 6 && parts.every((p) => SEGMENT.test(p) && !p.includes('..'));
}
