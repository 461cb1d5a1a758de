// The secret material an evidence bundle reveals: the watermark root of src/core/derive.ts (the
// owner's Ed25519 signature over the model id), from which the projection matrix, the trigger
// set and the bit string are all re-derived. Its digest is what watermark.committed committed to.
//   secretDigest = hex SHA-256 of canonical JSON { modelId, ownerPublicKey: hex, signature: hex }
// (until src/core/commitment.ts defines its own digest, at which point this follows it).
import { sha256 } from '@noble/hashes/sha2.js';
import { canonicalJsonBytes, toHex } from '../../ledger/index.js';
import { verifyWatermarkRoot, type WatermarkRoot } from '../core/derive.js';
import { failed, malformed } from './errors.js';

export interface SecretMaterialJson {
  modelId: string;
  ownerPublicKey: string;
  signature: string;
}

export function secretMaterialToJson(root: WatermarkRoot): SecretMaterialJson {
  return { modelId: root.modelId, ownerPublicKey: toHex(root.ownerPublicKey), signature: toHex(root.signature) };
}

export function digestSecretMaterial(s: SecretMaterialJson): string {
  return toHex(sha256(canonicalJsonBytes({ modelId: s.modelId, ownerPublicKey: s.ownerPublicKey, signature: s.signature })));
}

export function readSecretMaterial(v: unknown, where = 'secret material'): WatermarkRoot & { json: SecretMaterialJson } {
  if (typeof v !== 'object' || v === null || Array.isArray(v) || Object.keys(v).sort().join() !== 'modelId,ownerPublicKey,signature') throw malformed(`${where} must have exactly modelId, ownerPublicKey and signature`);
  const o = v as Record<string, unknown>;
  if (typeof o.modelId !== 'string' || o.modelId.length > 200) throw malformed(`${where}.modelId is not a model id`);
  if (typeof o.ownerPublicKey !== 'string' || !/^[0-9a-f]{64}$/.test(o.ownerPublicKey)) throw malformed(`${where}.ownerPublicKey must be 32 bytes in hex`);
  if (typeof o.signature !== 'string' || !/^[0-9a-f]{128}$/.test(o.signature)) throw malformed(`${where}.signature must be 64 bytes in hex`);
  const root = { modelId: o.modelId, ownerPublicKey: new Uint8Array(Buffer.from(o.ownerPublicKey, 'hex')), signature: new Uint8Array(Buffer.from(o.signature, 'hex')) };
  try {
    verifyWatermarkRoot(root);
  } catch (err) {
    throw failed(`${where}: ${(err as Error).message}`, err);
  }
  return { ...root, json: o as unknown as SecretMaterialJson };
}
