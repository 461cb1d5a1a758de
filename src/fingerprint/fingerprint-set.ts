// The secret fingerprint set and its commitment. Pure: bytes in, bytes out.
//
//   set       = n images quantised to bytes (value = byte / 255, NHWC) and n target classes
//   setDigest = SHA-256(JCS({ images: base64(bytes), targets: [t_1..t_n] }))
//   preimage  = JCS({ type: "hallmark.fingerprint-commitment", version: 1, parameters,
//                     recipes: { surrogates: [{sha256}], references: [{sha256}] }, setDigest, salt: base64(32 bytes) })
//   commitment = hex SHA-256(preimage)
//
// The opening (kept encrypted in the home until a dispute) is the parameters, the full recipes,
// the set and the salt; anyone holding it recomputes the commitment. The salt keeps the digest
// from being confirmed by guessing. Quantising before the commitment means the verifier queries
// with exactly the committed bytes, and so does any file format a suspect is served through.
import { sha256 } from '@noble/hashes/sha2.js';
import { canonicalJsonBytes, type JsonObject } from '../../ledger/index.js';
import { decodeBase64, toBase64, toHex } from '../core/encoding.js';
import { FingerprintError } from './errors.js';
import { decodeParameters, type FingerprintParameters } from './record-committed.js';
import { decodeRecipe, digestRecipe, type Recipe } from './recipes.js';

export const COMMITMENT_TYPE = 'hallmark.fingerprint-commitment';
export const OPENING_TYPE = 'hallmark.fingerprint-opening';
export const SALT_BYTES = 32;
/** The set must fit one secret file (src/secrets holds at most 512 KiB of material). */
export const MAX_SET_BYTES = 300_000;

export interface FingerprintSet {
  /** n * height * width * channels bytes; pixel value = byte / 255. */
  readonly images: Uint8Array;
  readonly targets: readonly number[];
}

export interface FingerprintOpening {
  readonly parameters: FingerprintParameters;
  readonly recipes: { readonly surrogates: readonly Recipe[]; readonly references: readonly Recipe[] };
  readonly set: FingerprintSet;
  readonly salt: Uint8Array;
}

const bad = (m: string) => new FingerprintError('FINGERPRINT_BAD_INPUT', `fingerprint opening: ${m}`);

function checkSet(p: FingerprintParameters, s: FingerprintSet): void {
  if (s.images.length !== p.n * p.height * p.width * p.channels) throw bad(`${s.images.length} image bytes, not n x h x w x c = ${p.n * p.height * p.width * p.channels}`);
  if (s.targets.length !== p.n || !s.targets.every((t) => Number.isSafeInteger(t) && t >= 0 && t < p.classes)) throw bad(`targets must be ${p.n} classes in 0..${p.classes - 1}`);
}

export function setDigest(s: FingerprintSet): string {
  return toHex(sha256(canonicalJsonBytes({ images: toBase64(s.images), targets: [...s.targets] })));
}

export function recipeDigests(r: FingerprintOpening['recipes']): { surrogates: { sha256: string }[]; references: { sha256: string }[] } {
  return { surrogates: r.surrogates.map((x) => ({ sha256: digestRecipe(x) })), references: r.references.map((x) => ({ sha256: digestRecipe(x) })) };
}

export function commitFingerprint(o: FingerprintOpening): string {
  checkSet(o.parameters, o.set);
  if (!(o.salt instanceof Uint8Array) || o.salt.length !== SALT_BYTES) throw new TypeError(`salt must be ${SALT_BYTES} bytes`);
  return toHex(sha256(canonicalJsonBytes({
    type: COMMITMENT_TYPE, version: 1,
    parameters: o.parameters as unknown as JsonObject,
    recipes: recipeDigests(o.recipes),
    setDigest: setDigest(o.set),
    salt: toBase64(o.salt),
  })));
}

export function encodeFingerprintOpening(o: FingerprintOpening): Uint8Array {
  checkSet(o.parameters, o.set);
  return canonicalJsonBytes({
    type: OPENING_TYPE, version: 1,
    parameters: o.parameters as unknown as JsonObject,
    recipes: { surrogates: o.recipes.surrogates as unknown as JsonObject[], references: o.recipes.references as unknown as JsonObject[] },
    images: toBase64(o.set.images),
    targets: [...o.set.targets],
    salt: toBase64(o.salt),
  });
}

/** Parses an untrusted opening (decrypted from the home, or revealed in a dispute). */
export function decodeFingerprintOpening(json: unknown): FingerprintOpening {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw bad('not an object');
  const o = json as Record<string, unknown>;
  if (o.type !== OPENING_TYPE || o.version !== 1) throw bad(`type must be "${OPENING_TYPE}" version 1`);
  const parameters = decodeParameters(o.parameters, 'opening parameters');
  const r = o.recipes as Record<string, unknown> | undefined;
  if (typeof r !== 'object' || r === null || !Array.isArray(r.surrogates) || !Array.isArray(r.references) || r.surrogates.length > 100 || r.references.length > 100) throw bad('recipes must list surrogates and references');
  if (!Array.isArray(o.targets)) throw bad('targets must be an array');
  let images: Uint8Array;
  try {
    images = decodeBase64(o.images, 'fingerprint images');
  } catch (err) {
    throw bad((err as Error).message);
  }
  const set = { images, targets: o.targets as number[] };
  checkSet(parameters, set);
  let salt: Uint8Array;
  try {
    salt = decodeBase64(o.salt, 'opening salt', SALT_BYTES);
  } catch (err) {
    throw bad((err as Error).message);
  }
  return { parameters, recipes: { surrogates: r.surrogates.map(decodeRecipe), references: r.references.map(decodeRecipe) }, set, salt };
}

/** The set as float images in [0, 1] (what a classifier is queried with). */
export function setImages(s: FingerprintSet): Float32Array {
  const out = new Float32Array(s.images.length);
  for (let i = 0; i < out.length; i++) out[i] = s.images[i]! / 255;
  return out;
}
