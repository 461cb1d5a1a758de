// The sealed form of a blob. A 40-byte header (magic "HMB1", version, chunk size, chunk count,
// plaintext size, key id) and N chunks; chunk i is nonce(24) || XChaCha20-Poly1305(plaintext_i)
// with associated data = label || plaintext SHA-256 || header || i (u32) || last (u8). So a chunk
// verifies only at its own index, in its own blob (digest), under this header (count and size):
// reordered, foreign, flipped or dropped chunks, and an edited header, all fail. Nonces are random
// (192 bits: safe under one key for any number of chunks).
import { randomBytes } from 'node:crypto';
import { BlobError } from './errors.js';
import { xchachaOpen, xchachaSeal } from './xchacha.js';

export const CHUNK_SIZE = 1 << 20;
export const HEADER_BYTES = 40;
export const NONCE_BYTES = 24;
export const TAG_BYTES = 16;
const MAGIC = 0x484d4231; // "HMB1"
const LABEL = new TextEncoder().encode('hallmark/blob/v1\0');

export interface BlobHeader {
  readonly chunkSize: number;
  readonly chunks: number;
  readonly size: number;
  /** 16 bytes hex: the key the blob was sealed under. */
  readonly keyId: string;
}

export function headerFor(size: number, keyId: string, chunkSize = CHUNK_SIZE): BlobHeader {
  return { chunkSize, chunks: Math.max(1, Math.ceil(size / chunkSize)), size, keyId };
}

export function encodeHeader(h: BlobHeader): Uint8Array {
  const b = Buffer.alloc(HEADER_BYTES);
  b.writeUInt32BE(MAGIC, 0);
  b.writeUInt32BE(1, 4);
  b.writeUInt32BE(h.chunkSize, 8);
  b.writeUInt32BE(h.chunks, 12);
  b.writeBigUInt64BE(BigInt(h.size), 16);
  Buffer.from(h.keyId, 'hex').copy(b, 24);
  return new Uint8Array(b);
}

export function decodeHeader(bytes: Uint8Array): BlobHeader {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (b.length !== HEADER_BYTES || b.readUInt32BE(0) !== MAGIC) throw new BlobError('BLOB_TAMPERED', 'the blob header is damaged');
  if (b.readUInt32BE(4) !== 1) throw new BlobError('BLOB_UNSUPPORTED_VERSION', `blob format version ${b.readUInt32BE(4)} is newer than this hallmark understands`);
  const h = { chunkSize: b.readUInt32BE(8), chunks: b.readUInt32BE(12), size: Number(b.readBigUInt64BE(16)), keyId: b.subarray(24, 40).toString('hex') };
  // A header an attacker wrote cannot pass a chunk's check, but must not make us misbehave first.
  if (h.chunkSize < 1024 || h.chunkSize > 64 << 20 || !Number.isSafeInteger(h.size) || h.chunks !== Math.max(1, Math.ceil(h.size / h.chunkSize))) {
    throw new BlobError('BLOB_TAMPERED', 'the blob header is inconsistent');
  }
  return h;
}

/** Plaintext length of chunk i. */
export function plainLength(h: BlobHeader, i: number): number {
  return i < h.chunks - 1 ? h.chunkSize : h.size - h.chunkSize * (h.chunks - 1);
}

/** Stored length of chunk i (nonce, ciphertext, tag). */
export function sealedLength(h: BlobHeader, i: number): number {
  return NONCE_BYTES + plainLength(h, i) + TAG_BYTES;
}

function aad(digest: Uint8Array, header: Uint8Array, index: number, last: boolean): Uint8Array {
  const out = new Uint8Array(LABEL.length + 32 + HEADER_BYTES + 5);
  out.set(LABEL, 0);
  out.set(digest, LABEL.length);
  out.set(header, LABEL.length + 32);
  const dv = new DataView(out.buffer);
  dv.setUint32(LABEL.length + 32 + HEADER_BYTES, index, false);
  out[out.length - 1] = last ? 1 : 0;
  return out;
}

export function sealChunk(key: Uint8Array, digestHex: string, header: Uint8Array, h: BlobHeader, index: number, plaintext: Uint8Array): Uint8Array {
  const nonce = new Uint8Array(randomBytes(NONCE_BYTES));
  const ct = xchachaSeal(key, nonce, plaintext, aad(Buffer.from(digestHex, 'hex'), header, index, index === h.chunks - 1));
  const out = new Uint8Array(NONCE_BYTES + ct.length);
  out.set(nonce, 0);
  out.set(ct, NONCE_BYTES);
  return out;
}

/** Chunk i's plaintext; BLOB_TAMPERED when it does not verify at this index of this blob. */
export function openChunk(key: Uint8Array, digestHex: string, header: Uint8Array, h: BlobHeader, index: number, sealed: Uint8Array): Uint8Array {
  if (sealed.length !== sealedLength(h, index)) {
    throw new BlobError('BLOB_TAMPERED', `chunk ${index} of blob ${digestHex.slice(0, 12)}... has the wrong length`);
  }
  const pt = xchachaOpen(key, sealed.subarray(0, NONCE_BYTES), sealed.subarray(NONCE_BYTES), aad(Buffer.from(digestHex, 'hex'), header, index, index === h.chunks - 1));
  if (!pt) throw new BlobError('BLOB_TAMPERED', `chunk ${index} of blob ${digestHex.slice(0, 12)}... failed authentication (altered, moved or from another blob)`);
  return pt;
}
