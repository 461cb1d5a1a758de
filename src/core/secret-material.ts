// The document form of a watermark root (derive.ts), the secret behind one model's marks. It is
// what the encrypted store keeps and what an owner reveals in a dispute:
//
//   { "type": "hallmark.watermark-root", "version": 1, "modelId": string,
//     "ownerPublicKey": base64(32 bytes), "signature": base64(64 bytes) }
//
// Its canonical JSON (RFC 8785) bytes are what secretDigest hashes.
import { sha256 } from '@noble/hashes/sha2.js';
import { canonicalJsonBytes } from './canonical.js';
import { decodeBase64, expectObject, expectVersion, parseJsonBytes, toBase64 } from './encoding.js';
import { CoreError } from './errors.js';
import type { WatermarkRoot } from './derive.js';

export const WATERMARK_ROOT_TYPE = 'hallmark.watermark-root';
export const WATERMARK_ROOT_VERSION = 1;

export interface WatermarkRootJson {
  [k: string]: string | number;
  type: typeof WATERMARK_ROOT_TYPE;
  version: typeof WATERMARK_ROOT_VERSION;
  modelId: string;
  ownerPublicKey: string;
  signature: string;
}

export function encodeWatermarkRoot(root: WatermarkRoot): WatermarkRootJson {
  return {
    type: WATERMARK_ROOT_TYPE,
    version: WATERMARK_ROOT_VERSION,
    modelId: root.modelId,
    ownerPublicKey: toBase64(root.ownerPublicKey),
    signature: toBase64(root.signature),
  };
}

/** Parses an untrusted root document; CORE_BAD_DOCUMENT / CORE_UNSUPPORTED_VERSION on failure.
 *  Does not check the signature: see verifyWatermarkRoot. */
export function decodeWatermarkRoot(json: unknown): WatermarkRoot {
  const o = expectObject(json, 'watermark root');
  if (o.type !== WATERMARK_ROOT_TYPE) throw new CoreError('CORE_BAD_DOCUMENT', `watermark root must have type "${WATERMARK_ROOT_TYPE}"`);
  expectVersion(o, 'watermark root', WATERMARK_ROOT_VERSION);
  if (typeof o.modelId !== 'string' || o.modelId.length === 0 || o.modelId.length > 1024) {
    throw new CoreError('CORE_BAD_DOCUMENT', 'watermark root modelId must be a non-empty string of at most 1024 characters');
  }
  return {
    modelId: o.modelId,
    ownerPublicKey: decodeBase64(o.ownerPublicKey, 'watermark root ownerPublicKey', 32),
    signature: decodeBase64(o.signature, 'watermark root signature', 64),
  };
}

export function watermarkRootToBytes(root: WatermarkRoot): Uint8Array {
  return canonicalJsonBytes(encodeWatermarkRoot(root));
}

export function watermarkRootFromBytes(bytes: Uint8Array): WatermarkRoot {
  return decodeWatermarkRoot(parseJsonBytes(bytes, 'watermark root'));
}

/** SHA-256 of the root's canonical JSON: what a commitment binds without revealing the root. */
export function secretDigest(root: WatermarkRoot): Uint8Array {
  return sha256(watermarkRootToBytes(root));
}
