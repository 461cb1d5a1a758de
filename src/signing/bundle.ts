// Sigstore bundle v0.3 (application/vnd.dev.sigstore.bundle.v0.3+json) around a DSSE envelope, as
// model_signing writes it for key and certificate signatures: verificationMaterial holds either
// publicKey { hint } or x509CertificateChain { certificates: [{ rawBytes }] } (leaf first), and
// tlogEntries is empty; the envelope carries one signature with keyid "". Field order follows
// the reference's output; readers accept the older layout (publicKey.rawBytes, keyid null).
import { fromBase64 } from '../../ledger/index.js';
import { badBundle } from './errors.js';

export const BUNDLE_MEDIA_TYPE = 'application/vnd.dev.sigstore.bundle.v0.3+json';
/** Bundles are small; a model's manifest of a million shards is about 150 MiB, far beyond any real one. */
export const MAX_BUNDLE_BYTES = 64 << 20;
const MAX_CERTS = 10;

export type VerificationMaterial =
  | { readonly kind: 'publicKey'; readonly hint?: string }
  | { readonly kind: 'x509CertificateChain'; readonly certificates: Uint8Array[] };

export interface Bundle {
  readonly material: VerificationMaterial;
  readonly payloadType: string;
  readonly payload: Uint8Array;
  readonly signature: Uint8Array;
}

const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');
const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export function bundleToJson(b: Bundle): string {
  const material = b.material.kind === 'publicKey'
    ? { publicKey: { hint: b.material.hint }, tlogEntries: [] }
    : { x509CertificateChain: { certificates: b.material.certificates.map((c) => ({ rawBytes: b64(c) })) }, tlogEntries: [] };
  return JSON.stringify({
    mediaType: BUNDLE_MEDIA_TYPE,
    verificationMaterial: material,
    dsseEnvelope: { payload: b64(b.payload), payloadType: b.payloadType, signatures: [{ sig: b64(b.signature), keyid: '' }] },
  });
}

function base64Field(v: unknown, what: string): Uint8Array {
  const b = typeof v === 'string' ? fromBase64(v) : undefined;
  if (!b) throw badBundle(`${what} is not base64`);
  return b;
}

function parseMaterial(v: unknown): VerificationMaterial {
  if (!isObj(v)) throw badBundle('bundle verificationMaterial is not an object');
  if (v.tlogEntries !== undefined && !Array.isArray(v.tlogEntries)) throw badBundle('verificationMaterial.tlogEntries is not a list');
  const pk = v.publicKey;
  const chain = v.x509CertificateChain;
  if ((pk === undefined) === (chain === undefined)) throw badBundle('verificationMaterial must hold exactly one of publicKey and x509CertificateChain');
  if (pk !== undefined) {
    if (!isObj(pk)) throw badBundle('verificationMaterial.publicKey is not an object');
    if (pk.hint === undefined || pk.hint === null || pk.hint === '') return { kind: 'publicKey' };
    if (typeof pk.hint !== 'string' || pk.hint.length > 256) throw badBundle('publicKey.hint is not a string');
    return { kind: 'publicKey', hint: pk.hint };
  }
  if (!isObj(chain) || !Array.isArray(chain.certificates) || chain.certificates.length === 0 || chain.certificates.length > MAX_CERTS) {
    throw badBundle(`x509CertificateChain must list 1-${MAX_CERTS} certificates`);
  }
  return { kind: 'x509CertificateChain', certificates: chain.certificates.map((c, i) => base64Field(isObj(c) ? c.rawBytes : undefined, `certificates[${i}].rawBytes`)) };
}

/** Parses the bundle file; checks shape and media type only (no signature). */
export function parseBundle(bytes: Uint8Array): Bundle {
  if (bytes.length > MAX_BUNDLE_BYTES) throw badBundle(`the signature file is over ${MAX_BUNDLE_BYTES} bytes`);
  let v: unknown;
  try {
    v = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (err) {
    throw badBundle('the signature file is not a JSON Sigstore bundle', err);
  }
  if (!isObj(v)) throw badBundle('the signature file is not a JSON object');
  if (v.mediaType !== BUNDLE_MEDIA_TYPE) throw badBundle(`bundle mediaType is ${JSON.stringify(v.mediaType)}, want ${BUNDLE_MEDIA_TYPE}`);
  const material = parseMaterial(v.verificationMaterial);
  const env = v.dsseEnvelope;
  if (!isObj(env)) throw badBundle('the bundle has no dsseEnvelope (message signatures are not OMS signatures)');
  if (typeof env.payloadType !== 'string') throw badBundle('dsseEnvelope.payloadType is not a string');
  const payload = base64Field(env.payload, 'dsseEnvelope.payload');
  if (!Array.isArray(env.signatures) || env.signatures.length === 0) throw badBundle('dsseEnvelope has no signature');
  const s0 = env.signatures[0];
  if (!isObj(s0)) throw badBundle('dsseEnvelope.signatures[0] is not an object');
  const signature = base64Field(s0.sig, 'dsseEnvelope.signatures[0].sig');
  return { material, payloadType: env.payloadType, payload, signature };
}
