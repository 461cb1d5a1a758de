// Record signatures. A protected entry's payload carries
//   "signature": { "key": "<verifier key: name+keyid+base64>", "sig": "<base64 Ed25519>" }
// over  "hallmark/record-signature/v1\n" || canonicalJson({ type, actor, payload without signature }),
// so the type and the actor are signed with the numbers: neither can be swapped afterwards.
import { canonicalJsonBytes, fromBase64, toBase64, type JsonObject } from '../../ledger/index.js';
import { ed25519Sign, ed25519Verify } from './ed25519.js';
import { RecordError } from './errors.js';
import { parseVerifierKey } from './keys.js';
import { isObj } from './record-type.js';

export const SIGNATURE_FIELD = 'signature';
const DOMAIN = new TextEncoder().encode('hallmark/record-signature/v1\n');

/** The key that signs records: the owner's (home owner.key) or a service key. */
export interface RecordSigner {
  /** Verifier key string, name+keyid+base64. */
  readonly verifierKey: string;
  /** 32-byte Ed25519 seed. */
  readonly seed: Uint8Array;
}

export interface RecordSignature {
  readonly key: string;
  readonly sig: string;
}

export function signatureMessage(type: string, actor: string, payload: JsonObject): Uint8Array {
  const body = canonicalJsonBytes({ type, actor, payload });
  const out = new Uint8Array(DOMAIN.length + body.length);
  out.set(DOMAIN);
  out.set(body, DOMAIN.length);
  return out;
}

export function signRecord(type: string, actor: string, payload: JsonObject, signer: RecordSigner): RecordSignature {
  return { key: signer.verifierKey, sig: toBase64(ed25519Sign(signatureMessage(type, actor, payload), signer.seed)) };
}

/** Splits a stored payload into the record and its signature (undefined when unsigned). */
export function splitSignature(payload: JsonObject): { body: JsonObject; signature?: RecordSignature } {
  if (!(SIGNATURE_FIELD in payload)) return { body: payload };
  const { [SIGNATURE_FIELD]: s, ...body } = payload;
  if (!isObj(s) || Object.keys(s).sort().join() !== 'key,sig' || typeof s.key !== 'string' || s.key.length > 500 || typeof s.sig !== 'string' || s.sig.length > 200) {
    throw new RecordError('RECORD_BAD_SIGNATURE', 'the signature field must be { key, sig }');
  }
  return { body, signature: { key: s.key, sig: s.sig } };
}

/** Throws RECORD_BAD_SIGNATURE unless sig verifies under the named key; returns the canonical key string. */
export function checkRecordSignature(type: string, actor: string, body: JsonObject, signature: RecordSignature): string {
  let key;
  try {
    key = parseVerifierKey(signature.key);
  } catch {
    throw new RecordError('RECORD_BAD_SIGNATURE', 'the signature names a malformed key');
  }
  const sig = fromBase64(signature.sig);
  if (!sig || toBase64(sig) !== signature.sig || !ed25519Verify(sig, signatureMessage(type, actor, body), key.publicKey)) {
    throw new RecordError('RECORD_BAD_SIGNATURE', `the signature does not verify under ${key.verifierKey.split('+').slice(0, 2).join('+')} (type, actor or payload changed, or a forged signature)`);
  }
  return key.verifierKey;
}
