// Tree hashing on node:crypto's one-shot SHA-256, which uses the CPU's SHA extensions: about
// twice the speed of a JavaScript SHA-256 for the 65-byte node inputs and the few-hundred-byte
// entries that dominate appends and audits. Inputs are laid out in one reused buffer, so each
// hash is a single native call.
import { createHash, hash as oneShot } from 'node:crypto';

export const HASH_SIZE = 32;

// crypto.hash arrived in Node 20.12; older 20.x releases fall back to createHash. The digest is
// taken as a latin1 string and copied into pooled Buffer memory: asking crypto.hash for a Buffer
// allocates a fresh ArrayBuffer per call, which costs several times the hash of a 65-byte node.
// ('binary' is Node's name for latin1 in these typings.)
const hasOneShot = typeof oneShot === 'function';
const digestLatin1: (data: Uint8Array) => string = hasOneShot
  ? (data) => oneShot('sha256', data, 'binary')
  : (data) => createHash('sha256').update(data).digest('binary');
const digest = (data: Uint8Array): Uint8Array => asBytes(Buffer.from(digestLatin1(data), 'latin1'));

/** SHA-256 of a byte string as a 32-character latin1 string: for callers that write it into their own buffer. */
export const sha256Latin1: (data: Uint8Array) => string = digestLatin1;

/** A plain Uint8Array view (callers compare and store hashes as Uint8Array, never as Buffer). */
function asBytes(b: Buffer): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

/** SHA-256 of a byte string. */
export function sha256(data: Uint8Array): Uint8Array {
  return digest(data);
}

/** RFC 9162 §2.1.1: the hash of an empty tree is SHA-256 of the empty string. */
export const EMPTY_ROOT: Uint8Array = sha256(new Uint8Array(0));

let scratch = Buffer.allocUnsafe(4096);

/** RFC 9162 §2.1.1: MTH({d(0)}) = SHA-256(0x00 || d(0)). */
export function hashLeaf(data: Uint8Array): Uint8Array {
  if (data.length + 1 > scratch.length) scratch = Buffer.allocUnsafe(Math.max(data.length + 1, scratch.length * 2));
  scratch[0] = 0x00;
  scratch.set(data, 1);
  return digest(scratch.subarray(0, data.length + 1));
}

/**
 * The leaf hash of `prefixed.subarray(1)` where `prefixed[0]` is already 0x00: the append path
 * encodes each entry straight after the prefix byte, so the entry is never copied to be hashed.
 */
export function hashLeafPrefixed(prefixed: Uint8Array): Uint8Array {
  if (prefixed[0] !== 0x00) throw new RangeError('hashLeafPrefixed needs the 0x00 leaf prefix at offset 0');
  return digest(prefixed);
}

const pair = Buffer.allocUnsafe(65);

/** RFC 9162 §2.1.1: MTH(D[n]) = SHA-256(0x01 || MTH(D[0:k]) || MTH(D[k:n])). */
export function hashChildren(left: Uint8Array, right: Uint8Array): Uint8Array {
  // Proof hashes from outside may have any length: only exact 32-byte pairs take the fast path.
  if (left.length !== HASH_SIZE || right.length !== HASH_SIZE) {
    return asBytes(createHash('sha256').update(Uint8Array.of(0x01)).update(left).update(right).digest());
  }
  pair[0] = 0x01;
  pair.set(left, 1);
  pair.set(right, 33);
  return digest(pair);
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

export function toBase64(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64');
}

export function toHex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}

/** Strict base64 decoding: rejects anything Buffer would silently skip. */
export function fromBase64(s: string): Uint8Array | undefined {
  if (!/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(s)) return undefined;
  return new Uint8Array(Buffer.from(s, 'base64'));
}

/**
 * The audit's forms: hashLeaf(data) as lower-case hex (entries chain by the hex leaf hash), and
 * the node over the 64 bytes src[from..from+64) (two adjacent child hashes) written to
 * out[offset..offset+32) without allocating. Same hashes as hashLeaf and hashChildren (tested).
 */
export function hashLeafHex(data: Uint8Array): string {
  if (data.length + 1 > scratch.length) scratch = Buffer.allocUnsafe(Math.max(data.length + 1, scratch.length * 2));
  scratch[0] = 0x00;
  scratch.set(data, 1);
  return hasOneShot ? oneShot('sha256', scratch.subarray(0, data.length + 1), 'hex') : createHash('sha256').update(scratch.subarray(0, data.length + 1)).digest('hex');
}

/** SHA-256 as lower-case hex, one native call (the append path writes the bytes where it keeps them). */
export function sha256Hex(data: Uint8Array): string {
  return hasOneShot ? oneShot('sha256', data, 'hex') : createHash('sha256').update(data).digest('hex');
}

/** hashChildren(left, right) written to out[offset..offset+32). */
export function hashChildrenTo(left: Uint8Array, right: Uint8Array, out: Buffer, offset: number): void {
  if (left.length !== HASH_SIZE || right.length !== HASH_SIZE) {
    out.set(hashChildren(left, right), offset);
    return;
  }
  pair[0] = 0x01;
  pair.set(left, 1);
  pair.set(right, 33);
  out.write(digestLatin1(pair), offset, HASH_SIZE, 'latin1');
}

export function hashChildrenInto(src: Buffer, from: number, out: Buffer, offset: number): void {
  pair[0] = 0x01;
  src.copy(pair, 1, from, from + 2 * HASH_SIZE);
  out.write(digestLatin1(pair), offset, HASH_SIZE, 'latin1');
}
