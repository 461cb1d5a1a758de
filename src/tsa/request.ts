// RFC 3161 §2.4.1 TimeStampReq: version 1, SHA-256 message imprint, a random nonce, certReq.
import { sha256 } from '@noble/hashes/sha2.js';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { randomBytes } from 'node:crypto';
import { OID_SHA256, toArrayBuffer } from './asn1.js';

export interface TimestampRequest {
  /** DER of the TimeStampReq, the body to POST. */
  readonly der: Uint8Array;
  readonly imprint: Uint8Array;
  /** Positive, minimal big-endian bytes of the nonce. */
  readonly nonce: Uint8Array;
}

/** A 64-bit positive nonce whose DER INTEGER encoding is minimal (first byte 0x40-0x7f). */
export function makeNonce(): Uint8Array {
  const n = new Uint8Array(randomBytes(8));
  n[0] = (n[0]! & 0x3f) | 0x40;
  return n;
}

export function buildTimestampRequest(data: Uint8Array, nonce: Uint8Array = makeNonce()): TimestampRequest {
  const imprint = sha256(data);
  const req = new pkijs.TimeStampReq({
    version: 1,
    messageImprint: new pkijs.MessageImprint({
      hashAlgorithm: new pkijs.AlgorithmIdentifier({ algorithmId: OID_SHA256 }),
      hashedMessage: new asn1js.OctetString({ valueHex: toArrayBuffer(imprint) }),
    }),
    nonce: new asn1js.Integer({ valueHex: toArrayBuffer(nonce) }),
    certReq: true,
  });
  return { der: new Uint8Array(req.toSchema().toBER()), imprint, nonce };
}
