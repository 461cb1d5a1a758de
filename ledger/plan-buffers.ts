// Where one append's bytes are written: the entries' canonical bytes (each after the 0x00 leaf
// prefix) and every hash the plan computes go into a few buffers shared by the batch, instead of
// a Buffer, a byte length scan and a hex copy per entry and per hash (a sixth of a batched
// append's time went there). Each entry's bytes and hashes are views into these buffers; a
// buffer is never written again once a view into it is handed out.
import { checkEntryLength, MAX_ENTRY_BYTES } from './entry.js';
import { hashChildrenTo, HASH_SIZE, sha256Hex } from './hash.js';

/** The largest buffer made for several entries' bytes at once (a larger entry gets its own). */
const TEXT_CHUNK = 256 * 1024;

export interface LeafHash {
  readonly bytes: Uint8Array;
  /** The same hash in lower-case hex: the next entry's `prev`. */
  readonly hex: string;
}

export class PlanBuffers {
  private text = Buffer.allocUnsafe(0);
  private textAt = 0;
  private readonly hashes: Buffer;
  private hashAt = 0;

  /** For `entries` new entries: they complete at most entries + 64 subtrees between them. */
  constructor(entries: number) {
    this.hashes = Buffer.allocUnsafe(HASH_SIZE * (2 * entries + 64));
  }

  /**
   * The entry text's UTF-8 bytes after one 0x00 byte (the RFC 9162 leaf-hash input; the stored
   * bytes are subarray(1)). `left`: the entries still to come, this one included, so a buffer is
   * sized for them at once.
   */
  entry(text: string, left: number): Buffer {
    // At least one UTF-8 byte per UTF-16 unit: a text this long is refused before any room is made.
    if (text.length > MAX_ENTRY_BYTES) checkEntryLength(Buffer.byteLength(text));
    const room = 3 * text.length + 1; // JSON text holds no lone surrogates: 3 bytes per unit at most
    if (this.text.length - this.textAt < room) {
      this.text = Buffer.allocUnsafe(Math.max(room, Math.min(TEXT_CHUNK, (text.length + 1) * left + 2 * text.length)));
      this.textAt = 0;
    }
    const at = this.textAt;
    this.text[at] = 0x00;
    const length = this.text.write(text, at + 1, 'utf8');
    checkEntryLength(length);
    this.textAt = at + 1 + length;
    return this.text.subarray(at, at + 1 + length);
  }

  /** The leaf hash of an entry.entry() wrote. */
  leaf(prefixed: Buffer): LeafHash {
    const hex = sha256Hex(prefixed);
    const at = this.take();
    this.hashes.write(hex, at, HASH_SIZE, 'hex');
    return { bytes: this.view(at), hex };
  }

  /** RFC 9162's node hash over two children. */
  node(left: Uint8Array, right: Uint8Array): Uint8Array {
    const at = this.take();
    hashChildrenTo(left, right, this.hashes, at);
    return this.view(at);
  }

  private take(): number {
    const at = this.hashAt;
    if (at + HASH_SIZE > this.hashes.length) throw new RangeError('PlanBuffers: more hashes than the batch can make');
    this.hashAt = at + HASH_SIZE;
    return at;
  }

  private view(at: number): Uint8Array {
    return new Uint8Array(this.hashes.buffer, this.hashes.byteOffset + at, HASH_SIZE);
  }
}
