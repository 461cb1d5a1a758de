// The watermark commitment appended to the ledger (watermark.committed) before a marked model
// exists: it fixes the scheme, its parameters and the secret in time without revealing the
// secret. Layout (all JSON canonical per RFC 8785):
//
//   preimage = JCS({ "type": "hallmark.watermark-commitment", "version": 1,
//                    "scheme": string, "parameters": object,
//                    "secretDigest": hex(SHA-256(JCS(watermark root document))),   secret-material.ts
//                    "salt": base64(32 random bytes) })
//   digest   = SHA-256(preimage), as 64 lowercase hex digits
//
// The salt comes from the caller (the core has no randomness); it keeps the digest from being
// confirmed by guessing low-entropy parameters. Opening reveals scheme, parameters, root and
// salt; anyone recomputes the digest. Whether the root belongs to the owner is a separate check
// (verifyWatermarkRoot), as is whether the marks are in a model.
import { sha256 } from '@noble/hashes/sha2.js';
import { canonicalJsonBytes, type JsonValue } from './canonical.js';
import { decodeBase64, decodeHex, expectObject, expectVersion, toBase64, toHex } from './encoding.js';
import { CoreError } from './errors.js';
import type { WatermarkRoot } from './derive.js';
import { decodeWatermarkRoot, encodeWatermarkRoot, secretDigest } from './secret-material.js';

export const COMMITMENT_TYPE = 'hallmark.watermark-commitment';
export const OPENING_TYPE = 'hallmark.watermark-opening';
export const SALT_BYTES = 32;

type JsonObject = { [k: string]: JsonValue };

/** What a commitment binds; kept secret (encrypted) by the owner until a dispute. */
export interface CommitmentOpening {
  /** e.g. "uchida+adi", "uchida", "adi", "uchida-training-free". */
  readonly scheme: string;
  /** Public settings: bit count, layer, trigger count, classes, margin, ... */
  readonly parameters: JsonObject;
  readonly root: WatermarkRoot;
  /** 32 bytes from the OS RNG. */
  readonly salt: Uint8Array;
}

/** What goes into the ledger. */
export interface WatermarkCommitment {
  readonly type: typeof COMMITMENT_TYPE;
  readonly version: 1;
  /** hex SHA-256 of the preimage. */
  readonly digest: string;
}

function checkOpening(o: CommitmentOpening): void {
  if (typeof o.scheme !== 'string' || o.scheme.length === 0 || o.scheme.length > 128) throw new TypeError('scheme must be a non-empty string of at most 128 characters');
  if (typeof o.parameters !== 'object' || o.parameters === null || Array.isArray(o.parameters)) throw new TypeError('parameters must be a JSON object');
  if (!(o.salt instanceof Uint8Array) || o.salt.length !== SALT_BYTES) throw new TypeError(`salt must be ${SALT_BYTES} bytes`);
}

/** The exact bytes that are hashed (layout above). */
export function commitmentPreimage(opening: CommitmentOpening): Uint8Array {
  checkOpening(opening);
  return canonicalJsonBytes({
    type: COMMITMENT_TYPE,
    version: 1,
    scheme: opening.scheme,
    parameters: opening.parameters,
    secretDigest: toHex(secretDigest(opening.root)),
    salt: toBase64(opening.salt),
  });
}

export function commitWatermark(opening: CommitmentOpening): WatermarkCommitment {
  return { type: COMMITMENT_TYPE, version: 1, digest: toHex(sha256(commitmentPreimage(opening))) };
}

/** Parses an untrusted commitment document (e.g. from a ledger entry or a bundle). */
export function decodeCommitment(json: unknown): WatermarkCommitment {
  const o = expectObject(json, 'commitment');
  if (o.type !== COMMITMENT_TYPE) throw new CoreError('CORE_BAD_DOCUMENT', `commitment must have type "${COMMITMENT_TYPE}"`);
  expectVersion(o, 'commitment', 1);
  decodeHex(o.digest, 'commitment digest', 32);
  return { type: COMMITMENT_TYPE, version: 1, digest: o.digest as string };
}

/** Checks that the revealed values hash to the commitment; CORE_COMMITMENT_MISMATCH if not.
 *  Returns the opening, now known to be the committed one. */
export function openCommitment(commitment: WatermarkCommitment, opening: CommitmentOpening): CommitmentOpening {
  const c = decodeCommitment(commitment);
  const got = toHex(sha256(commitmentPreimage(opening)));
  if (got !== c.digest) {
    throw new CoreError('CORE_COMMITMENT_MISMATCH', 'the revealed scheme, parameters, secret and salt do not hash to the committed digest');
  }
  return opening;
}

/** Storage / disclosure form of an opening. */
export function encodeOpening(opening: CommitmentOpening): JsonObject {
  checkOpening(opening);
  return {
    type: OPENING_TYPE,
    version: 1,
    scheme: opening.scheme,
    parameters: opening.parameters,
    root: encodeWatermarkRoot(opening.root),
    salt: toBase64(opening.salt),
  };
}

/** Parses an untrusted opening document. */
export function decodeOpening(json: unknown): CommitmentOpening {
  const o = expectObject(json, 'opening');
  if (o.type !== OPENING_TYPE) throw new CoreError('CORE_BAD_DOCUMENT', `opening must have type "${OPENING_TYPE}"`);
  expectVersion(o, 'opening', 1);
  if (typeof o.scheme !== 'string' || o.scheme.length === 0 || o.scheme.length > 128) throw new CoreError('CORE_BAD_DOCUMENT', 'opening scheme must be a non-empty string');
  const parameters = expectObject(o.parameters, 'opening parameters') as JsonObject;
  try {
    canonicalJsonBytes(parameters);
  } catch {
    throw new CoreError('CORE_BAD_DOCUMENT', 'opening parameters are not representable as canonical JSON');
  }
  return { scheme: o.scheme, parameters, root: decodeWatermarkRoot(o.root), salt: decodeBase64(o.salt, 'opening salt', SALT_BYTES) };
}
