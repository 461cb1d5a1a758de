// Small helpers over asn1js/pkijs: parse DER without letting a library error escape, and OIDs.
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { webcrypto } from 'node:crypto';
import { TsaError, type TsaErrorCode } from './errors.js';

export const OID_SHA256 = '2.16.840.1.101.3.4.2.1';
export const OID_SIGNED_DATA = '1.2.840.113549.1.7.2';
export const OID_TST_INFO = '1.2.840.113549.1.9.16.1.4';
export const OID_EKU = '2.5.29.37';
export const OID_KP_TIMESTAMPING = '1.3.6.1.5.5.7.3.8';

/** Tokens and certificates we accept are small; anything larger is refused before parsing. */
export const MAX_DER_BYTES = 256 << 10;

let engineSet = false;
/** pkijs needs a WebCrypto engine; Node's is the one to use. */
export function ensureEngine(): void {
  if (engineSet) return;
  pkijs.setEngine('node-webcrypto', new pkijs.CryptoEngine({ name: 'node-webcrypto', crypto: webcrypto as unknown as ConstructorParameters<typeof pkijs.CryptoEngine>[0]['crypto'] }));
  engineSet = true;
}

export function toArrayBuffer(b: Uint8Array): ArrayBuffer {
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
}

/** Parses DER into a pkijs object; any failure becomes a TsaError naming what was parsed. */
export function parseDer<T>(der: Uint8Array, what: string, make: (schema: asn1js.AsnType) => T, code: TsaErrorCode = 'TSA_VERIFY_FAILED'): T {
  if (der.length === 0 || der.length > MAX_DER_BYTES) throw new TsaError(code, `${what} is empty or larger than ${MAX_DER_BYTES} bytes`);
  const asn = asn1js.fromBER(toArrayBuffer(der));
  if (asn.offset === -1 || asn.offset !== der.length) throw new TsaError(code, `${what} is not valid DER`);
  // asn1js forgives inner length errors; re-encoding must give back the very same bytes.
  if (!Buffer.from(asn.result.toBER()).equals(der)) throw new TsaError(code, `${what} is not in DER form (altered bytes)`);
  try {
    return make(asn.result);
  } catch (err) {
    throw new TsaError(code, `${what} is malformed: ${(err as Error).message.split('\n')[0]}`);
  }
}

/** Reads PEM or DER certificates from file bytes. */
export function readCertificates(bytes: Uint8Array, what: string): pkijs.Certificate[] {
  const text = Buffer.from(bytes).toString('latin1');
  const pems = [...text.matchAll(/-----BEGIN CERTIFICATE-----([A-Za-z0-9+/=\s]+)-----END CERTIFICATE-----/g)];
  const ders = pems.length > 0 ? pems.map((m) => new Uint8Array(Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64'))) : [bytes];
  if (ders.length > 16) throw new TsaError('TSA_INVALID', `${what} holds more than 16 certificates`);
  return ders.map((d, i) => parseDer(d, `${what} certificate ${i + 1}`, (s) => new pkijs.Certificate({ schema: s }), 'TSA_INVALID'));
}
