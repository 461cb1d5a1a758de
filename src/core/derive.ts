// Watermark key derivation. Everything a mark needs comes from one "watermark root" per
// (owner, model), and the root is checkable by anyone who holds the owner's public key:
//
//   message   = "hallmark/watermark/v1" || 0x00 || u32be(len(id)) || id      (id = model id, UTF-8)
//   root      = Ed25519-Sign(owner seed, message)                          (RFC 8032, 64 bytes)
//   seed(p)   = HKDF-SHA256(ikm = root, salt = "hallmark/watermark/v1",
//                           info = "hallmark/watermark/v1/" || p, L = 32)
//               for p in "projection", "trigger-images", "trigger-labels"
//   bits      = first T bits, most significant bit of each byte first, of
//               HKDF-SHA256(ikm = owner public key, salt = "hallmark/watermark/v1",
//                           info = "hallmark/watermark/v1/bits" || 0x00 || id, L = ceil(T/8))
//
// Why this shape:
// - RFC 8032 signing is deterministic, so the owner re-derives the same root from the key at any
//   time; nobody without the owner's key can compute it, so the seeds stay secret until revealed.
// - A revealed root is verified with the public key alone (verifyWatermarkRoot): the projection
//   matrix and trigger set it yields provably come from the holder of that key, not from someone
//   who picked seeds to fit a model they did not mark.
// - The bit string depends only on the public key and the model id: a found mark names one
//   owner, and anyone can recompute the bits that owner's mark must carry. Knowing the bits does
//   not help remove the mark; the projection (secret until revealed) is what locates it.
// - What this cannot stop is the key holder grinding many roots (Ed25519 signatures are not
//   unique to their signer); the watermark.committed ledger entry, appended before the marked
//   model exists, fixes the root in time, and that is what a p-value is computed against.
import * as ed from '@noble/ed25519';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256, sha512 } from '@noble/hashes/sha2.js';
import { CoreError } from './errors.js';

ed.hashes.sha512 = sha512;

const DOMAIN = 'hallmark/watermark/v1';
const utf8 = (s: string) => new TextEncoder().encode(s);
const MAX_MODEL_ID_BYTES = 1024;
/** HKDF-SHA256 yields at most 255 * 32 bytes. */
export const MAX_BIT_COUNT = 255 * 32 * 8;

export type SeedPurpose = 'projection' | 'trigger-images' | 'trigger-labels';
export const SEED_PURPOSES: readonly SeedPurpose[] = ['projection', 'trigger-images', 'trigger-labels'];

/** The secret from which one model's marks derive; revealing it opens them to checking. */
export interface WatermarkRoot {
  readonly modelId: string;
  /** 32-byte Ed25519 public key of the owner. */
  readonly ownerPublicKey: Uint8Array;
  /** 64-byte Ed25519 signature over watermarkRootMessage(modelId). */
  readonly signature: Uint8Array;
}

/** Values a scheme uses; all recomputable from a WatermarkRoot and the bit count. */
export interface WatermarkKeys {
  readonly projectionSeed: Uint8Array;
  readonly triggerImageSeed: Uint8Array;
  readonly triggerLabelSeed: Uint8Array;
  /** One entry per bit, each 0 or 1. */
  readonly bits: Uint8Array;
}

function checkModelId(modelId: string): Uint8Array {
  if (typeof modelId !== 'string' || modelId.length === 0) throw new TypeError('model id must be a non-empty string');
  const b = utf8(modelId);
  if (b.length > MAX_MODEL_ID_BYTES) throw new RangeError(`model id must be at most ${MAX_MODEL_ID_BYTES} UTF-8 bytes`);
  return b;
}

function checkBytes(b: Uint8Array, n: number, what: string): void {
  if (!(b instanceof Uint8Array) || b.length !== n) throw new TypeError(`${what} must be a ${n}-byte Uint8Array`);
}

/** The bytes the owner signs to make the root for a model (layout above). */
export function watermarkRootMessage(modelId: string): Uint8Array {
  const id = checkModelId(modelId);
  const prefix = utf8(DOMAIN);
  const out = new Uint8Array(prefix.length + 1 + 4 + id.length);
  out.set(prefix, 0);
  out[prefix.length] = 0x00;
  new DataView(out.buffer).setUint32(prefix.length + 1, id.length, false);
  out.set(id, prefix.length + 5);
  return out;
}

/** The owner's Ed25519 public key from the 32-byte seed. */
export function deriveOwnerPublicKey(ownerSeed: Uint8Array): Uint8Array {
  checkBytes(ownerSeed, 32, 'owner seed');
  return ed.getPublicKey(ownerSeed);
}

/** Makes the watermark root for a model from the owner's 32-byte Ed25519 seed. */
export function deriveWatermarkRoot(ownerSeed: Uint8Array, modelId: string): WatermarkRoot {
  checkBytes(ownerSeed, 32, 'owner seed');
  return {
    modelId,
    ownerPublicKey: ed.getPublicKey(ownerSeed),
    signature: ed.sign(watermarkRootMessage(modelId), ownerSeed),
  };
}

/** Throws CORE_NOT_BOUND unless the root is the owner's signature over the model id (RFC 8032 strict). */
export function verifyWatermarkRoot(root: WatermarkRoot): void {
  checkBytes(root.ownerPublicKey, 32, 'owner public key');
  checkBytes(root.signature, 64, 'root signature');
  let ok = false;
  try {
    ok = ed.verify(root.signature, watermarkRootMessage(root.modelId), root.ownerPublicKey, { zip215: false });
  } catch {
    ok = false; // a public key that is not a curve point
  }
  if (!ok) throw new CoreError('CORE_NOT_BOUND', 'the watermark root is not a signature by this owner key over this model id');
}

/** A 32-byte seed for one purpose (layout above). */
export function deriveSeed(root: WatermarkRoot, purpose: SeedPurpose): Uint8Array {
  checkBytes(root.signature, 64, 'root signature');
  if (!SEED_PURPOSES.includes(purpose)) throw new RangeError(`unknown seed purpose ${JSON.stringify(purpose)}`);
  return hkdf(sha256, root.signature, utf8(DOMAIN), utf8(`${DOMAIN}/${purpose}`), 32);
}

/** The T-bit string an owner's mark in a model carries: public, from the public key and the id. */
export function deriveMarkBits(ownerPublicKey: Uint8Array, modelId: string, bitCount: number): Uint8Array {
  checkBytes(ownerPublicKey, 32, 'owner public key');
  if (!Number.isSafeInteger(bitCount) || bitCount < 1 || bitCount > MAX_BIT_COUNT) {
    throw new RangeError(`bit count must be an integer in [1, ${MAX_BIT_COUNT}], got ${bitCount}`);
  }
  const id = checkModelId(modelId);
  const label = utf8(`${DOMAIN}/bits`);
  const info = new Uint8Array(label.length + 1 + id.length);
  info.set(label, 0);
  info.set(id, label.length + 1);
  const bytes = hkdf(sha256, ownerPublicKey, utf8(DOMAIN), info, Math.ceil(bitCount / 8));
  const bits = new Uint8Array(bitCount);
  for (let i = 0; i < bitCount; i++) bits[i] = (bytes[i >> 3]! >> (7 - (i & 7))) & 1;
  return bits;
}

/** Every value the schemes need, from a root. Does not verify the root: see verifyWatermarkRoot. */
export function deriveWatermarkKeys(root: WatermarkRoot, bitCount: number): WatermarkKeys {
  return {
    projectionSeed: deriveSeed(root, 'projection'),
    triggerImageSeed: deriveSeed(root, 'trigger-images'),
    triggerLabelSeed: deriveSeed(root, 'trigger-labels'),
    bits: deriveMarkBits(root.ownerPublicKey, root.modelId, bitCount),
  };
}
