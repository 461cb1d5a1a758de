// DSSE v1 (https://github.com/secure-systems-lab/dsse/blob/master/protocol.md) with Ed25519:
// the signature is over PAE(type, body) = "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body,
// LEN being the byte length in ASCII decimal. Envelopes are parsed defensively.
import { toBase64 } from '../../ledger/index.js';
import { ed25519Sign, ed25519Verify } from './ed25519.js';
import { failed, malformed } from './errors.js';
import { decodeBase64 } from './strict-json.js';

export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';
const MAX_PAYLOAD_BYTES = 16 << 20;
const MAX_SIGNATURES = 16;

export interface DsseSignature {
  readonly keyid: string;
  readonly sig: string;
}

export interface DsseEnvelope {
  readonly payloadType: string;
  readonly payload: string;
  readonly signatures: readonly DsseSignature[];
}

const utf8 = (s: string) => new TextEncoder().encode(s);

/** Pre-Authentication Encoding of DSSE v1. */
export function pae(payloadType: string, body: Uint8Array): Uint8Array {
  const type = utf8(payloadType);
  const head = utf8(`DSSEv1 ${type.length} `);
  const mid = utf8(` ${body.length} `);
  const out = new Uint8Array(head.length + type.length + mid.length + body.length);
  out.set(head, 0);
  out.set(type, head.length);
  out.set(mid, head.length + type.length);
  out.set(body, head.length + type.length + mid.length);
  return out;
}

export function signEnvelope(payloadType: string, body: Uint8Array, keys: readonly { keyid: string; seed: Uint8Array }[]): DsseEnvelope {
  if (keys.length === 0) throw new TypeError('a DSSE envelope needs at least one signing key');
  const msg = pae(payloadType, body);
  return { payloadType, payload: toBase64(body), signatures: keys.map((k) => ({ keyid: k.keyid, sig: toBase64(ed25519Sign(msg, k.seed)) })) };
}

/** Checks the shape of an envelope read from a file; returns it typed. */
export function readEnvelope(v: unknown, where = 'DSSE envelope'): DsseEnvelope {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw malformed(`${where} is not an object`);
  const o = v as Record<string, unknown>;
  if (Object.keys(o).sort().join() !== 'payload,payloadType,signatures') throw malformed(`${where} must have exactly payloadType, payload and signatures`);
  if (typeof o.payloadType !== 'string' || o.payloadType.length > 200) throw malformed(`${where} payloadType is not a short string`);
  if (typeof o.payload !== 'string' || o.payload.length > (MAX_PAYLOAD_BYTES * 4) / 3 + 4) throw malformed(`${where} payload is not a base64 string within limits`);
  if (!Array.isArray(o.signatures) || o.signatures.length === 0 || o.signatures.length > MAX_SIGNATURES) throw malformed(`${where} must carry 1-${MAX_SIGNATURES} signatures`);
  for (const s of o.signatures as unknown[]) {
    const so = s as Record<string, unknown>;
    if (typeof so !== 'object' || so === null || Object.keys(so).sort().join() !== 'keyid,sig' || typeof so.keyid !== 'string' || so.keyid.length > 300 || typeof so.sig !== 'string' || so.sig.length > 200) throw malformed(`${where} has a malformed signature`);
  }
  return o as unknown as DsseEnvelope;
}

/**
 * Verifies that a signature with the given keyid checks with publicKey, and returns the payload
 * bytes. Signatures by other keys are ignored (DSSE allows several signers); a bad signature by
 * our key fails.
 */
export function verifyEnvelope(env: DsseEnvelope, key: { keyid: string; publicKey: Uint8Array }, where = 'DSSE envelope'): Uint8Array {
  const body = decodeBase64(env.payload, `${where} payload`, MAX_PAYLOAD_BYTES);
  const msg = pae(env.payloadType, body);
  const mine = env.signatures.filter((s) => s.keyid === key.keyid);
  if (mine.length === 0) throw failed(`${where} has no signature by ${key.keyid}`);
  for (const s of mine) {
    const sig = decodeBase64(s.sig, `${where} signature`, 64);
    if (!ed25519Verify(sig, msg, key.publicKey)) throw failed(`${where} signature by ${key.keyid} does not verify`);
  }
  return body;
}
