// Verifying an RFC 3161 TimeStampToken (a CMS SignedData over a TSTInfo) against the data it
// should cover: the message imprint, the nonce when we asked with one, the CMS signature with
// the signer certificate, the timeStamping key purpose (RFC 3161 §2.3) and, when CA certificates
// are given, the certificate chain to them at the time of stamping.
import { sha256 } from '@noble/hashes/sha2.js';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { createHash } from 'node:crypto';
import { ensureEngine, OID_EKU, OID_KP_TIMESTAMPING, OID_SHA256, OID_SIGNED_DATA, OID_TST_INFO, parseDer, toArrayBuffer } from './asn1.js';
import { TsaError } from './errors.js';

export interface TimestampInfo {
  /** The TSA's time of stamping (TSTInfo genTime). */
  readonly genTime: Date;
  readonly serialNumber: string;
  readonly policy: string;
  /** Subject of the signer certificate, e.g. "CN=Example TSA". */
  readonly signer: string;
  /** True when the chain to a given CA was checked. */
  readonly chainVerified: boolean;
  readonly imprint: Uint8Array;
}

export interface VerifyTokenOptions {
  /** Trust anchors; without them only the signature and the embedded certificate are checked. */
  readonly caCerts?: readonly pkijs.Certificate[];
  /** The nonce we sent, when verifying a fresh response. */
  readonly nonce?: Uint8Array;
}

const fail = (m: string) => new TsaError('TSA_VERIFY_FAILED', m);
const hex = (b: ArrayBuffer | Uint8Array) => Buffer.from(b instanceof Uint8Array ? b : new Uint8Array(b)).toString('hex');

export function nameOf(cert: pkijs.Certificate): string {
  const short: Record<string, string> = { '2.5.4.3': 'CN', '2.5.4.10': 'O', '2.5.4.11': 'OU', '2.5.4.6': 'C' };
  return cert.subject.typesAndValues.map((tv) => `${short[tv.type] ?? tv.type}=${String(tv.value.valueBlock.value)}`).join(', ');
}

function hasTimestampingPurpose(cert: pkijs.Certificate): boolean {
  const ext = cert.extensions?.find((e) => e.extnID === OID_EKU);
  if (!ext || !ext.critical) return false;
  const eku = ext.parsedValue as pkijs.ExtKeyUsage | undefined;
  return !!eku && eku.keyPurposes.length === 1 && eku.keyPurposes[0] === OID_KP_TIMESTAMPING;
}

/** Parses a token's DER into its SignedData and TSTInfo, refusing anything else. */
export function parseToken(token: Uint8Array): { signed: pkijs.SignedData; tst: pkijs.TSTInfo } {
  const ci = parseDer(token, 'time-stamp token', (s) => new pkijs.ContentInfo({ schema: s }));
  if (ci.contentType !== OID_SIGNED_DATA) throw fail('time-stamp token is not a CMS SignedData');
  let signed: pkijs.SignedData;
  try {
    signed = new pkijs.SignedData({ schema: ci.content });
  } catch (err) {
    throw fail(`time-stamp token SignedData is malformed: ${(err as Error).message.split('\n')[0]}`);
  }
  if (signed.encapContentInfo.eContentType !== OID_TST_INFO) throw fail('time-stamp token does not carry a TSTInfo');
  const content = signed.encapContentInfo.eContent;
  if (!(content instanceof asn1js.OctetString)) throw fail('time-stamp token has no TSTInfo content');
  const tst = parseDer(new Uint8Array(content.getValue()), 'TSTInfo', (s) => new pkijs.TSTInfo({ schema: s }));
  return { signed, tst };
}

const derHex = (o: { toSchema(): { toBER(): ArrayBuffer } }) => hex(o.toSchema().toBER());

/**
 * The parts of a SignedData that its signature does not cover must carry nothing an attacker
 * could change unnoticed: one signer, digestAlgorithms equal to that signer's, no CRLs, no
 * unsigned attributes.
 */
function checkUnsignedParts(signed: pkijs.SignedData): void {
  if (signed.signerInfos.length !== 1) throw fail(`time-stamp token has ${signed.signerInfos.length} signers, want 1`);
  const si = signed.signerInfos[0]!;
  if (signed.version !== 3) throw fail(`time-stamp token SignedData version is ${signed.version}, want 3`);
  if (signed.digestAlgorithms.length !== 1 || derHex(signed.digestAlgorithms[0]!) !== derHex(si.digestAlgorithm)) throw fail('time-stamp token digestAlgorithms do not match its signer');
  if (signed.crls?.length) throw fail('time-stamp token carries CRLs, which its signature does not cover');
  if (si.unsignedAttrs?.attributes.length) throw fail('time-stamp token has unsigned attributes, which its signature does not cover');
  if (!si.signedAttrs) throw fail('time-stamp token has no signed attributes');
  // pkijs ignores these parameters; RFC 4055 §2.1 and RFC 5758 §3.2 fix them, so a change shows.
  const sa = si.signatureAlgorithm;
  const params = sa.algorithmParams as asn1js.AsnType | undefined;
  if (/^1\.2\.840\.113549\.1\.1\.(1|11|12|13)$/.test(sa.algorithmId) && params !== undefined && !(params instanceof asn1js.Null)) throw fail('time-stamp token RSA signature algorithm parameters must be NULL');
  if (/^1\.2\.840\.10045\.4\.3\./.test(sa.algorithmId) && params !== undefined) throw fail('time-stamp token ECDSA signature algorithm must have no parameters');
  const wantVersion = si.sid instanceof pkijs.IssuerAndSerialNumber ? 1 : 3;
  if (si.version !== wantVersion) throw fail(`time-stamp token SignerInfo version is ${si.version}, want ${wantVersion} (RFC 5652 §5.3)`);
}

const OID_SIGNING_CERT = '1.2.840.113549.1.9.16.2.12';
const OID_SIGNING_CERT_V2 = '1.2.840.113549.1.9.16.2.47';

/** RFC 3161 §2.4.2 / RFC 5816: the signed ESS signing-certificate attribute pins the signer cert. */
function checkSigningCertificate(si: pkijs.SignerInfo, cert: pkijs.Certificate): void {
  const attrs = si.signedAttrs?.attributes ?? [];
  const a = attrs.find((x) => x.type === OID_SIGNING_CERT_V2) ?? attrs.find((x) => x.type === OID_SIGNING_CERT);
  if (!a || !a.values[0]) throw fail('time-stamp token has no signing-certificate attribute');
  const der = new Uint8Array(cert.toSchema().toBER());
  const v2 = a.type === OID_SIGNING_CERT_V2;
  // SigningCertificate(V2) ::= SEQUENCE { certs SEQUENCE OF ESSCertID(v2), ... }
  // ESSCertIDv2 ::= SEQUENCE { hashAlgorithm DEFAULT sha256, certHash OCTET STRING, ... }
  const certs = (a.values[0] as asn1js.Sequence).valueBlock?.value?.[0] as asn1js.Sequence | undefined;
  const first = certs?.valueBlock?.value?.[0] as asn1js.Sequence | undefined;
  const parts = first?.valueBlock?.value ?? [];
  let algo = v2 ? OID_SHA256 : '1.3.14.3.2.26';
  let hashField = parts[0];
  if (v2 && parts[0] instanceof asn1js.Sequence) {
    algo = String((parts[0].valueBlock.value[0] as asn1js.ObjectIdentifier | undefined)?.valueBlock.toString() ?? '');
    hashField = parts[1];
  }
  if (!(hashField instanceof asn1js.OctetString)) throw fail('time-stamp token signing-certificate attribute is malformed');
  const want = algo === OID_SHA256 ? createHash('sha256').update(der).digest('hex') : algo === '1.3.14.3.2.26' ? createHash('sha1').update(der).digest('hex') : undefined;
  if (!want) throw fail('time-stamp token signing-certificate attribute uses an unknown hash');
  if (hex(hashField.valueBlock.valueHexView) !== want) throw fail('time-stamp token signer certificate is not the one its signature pins (altered certificate)');
}

export async function verifyTimestampToken(token: Uint8Array, data: Uint8Array, options: VerifyTokenOptions = {}): Promise<TimestampInfo> {
  try {
    return await verifyToken(token, data, options);
  } catch (err) {
    if (err instanceof TsaError) throw err;
    // pkijs and asn1js throw plain errors on odd inputs; to the caller it is one bad token.
    throw fail(`time-stamp token is malformed: ${String((err as Error).message ?? err).split('\n')[0]}`);
  }
}

async function verifyToken(token: Uint8Array, data: Uint8Array, options: VerifyTokenOptions): Promise<TimestampInfo> {
  ensureEngine();
  const { signed, tst } = parseToken(token);
  if (tst.messageImprint.hashAlgorithm.algorithmId !== OID_SHA256) throw fail('time-stamp token imprint is not SHA-256');
  const imprint = new Uint8Array(tst.messageImprint.hashedMessage.valueBlock.valueHexView);
  if (hex(imprint) !== hex(sha256(data))) throw fail('time-stamp token message imprint does not match the stamped data (a token for other data)');
  if (options.nonce) {
    const got = tst.nonce ? new Uint8Array(tst.nonce.valueBlock.valueHexView) : undefined;
    if (!got || hex(got) !== hex(options.nonce)) throw fail('time-stamp token nonce does not match the request (a replayed response)');
  }
  checkUnsignedParts(signed);
  const certs = (signed.certificates ?? []).filter((c): c is pkijs.Certificate => c instanceof pkijs.Certificate);
  const caCerts = options.caCerts ?? [];
  const chain = caCerts.length > 0;
  let result: pkijs.SignedDataVerifyResult;
  try {
    result = await signed.verify({ signer: 0, data: toArrayBuffer(data), checkChain: chain, trustedCerts: [...caCerts], checkDate: tst.genTime, extendedMode: true });
  } catch (err) {
    const e = err as pkijs.SignedDataVerifyResult;
    if (e.signatureVerified === false) throw fail('time-stamp token signature does not verify (the token was altered)');
    if (e.signerCertificate && e.signerCertificateVerified === false) throw fail(`time-stamp token signer certificate does not chain to the given CA (${e.message})`);
    throw fail(`time-stamp token does not verify: ${String(e.message ?? err).split('\n')[0]}`);
  }
  if (!result.signatureVerified) throw fail('time-stamp token signature does not verify (the token was altered)');
  if (chain && !result.signerCertificateVerified) throw fail('time-stamp token signer certificate does not chain to the given CA');
  const signer = result.signerCertificate ?? certs[0];
  if (!signer) throw fail('time-stamp token carries no signer certificate (request it with certReq)');
  if (!hasTimestampingPurpose(signer)) throw fail('time-stamp token signer certificate lacks the critical timeStamping extended key usage');
  checkSigningCertificate(signed.signerInfos[0]!, signer);
  const path = new Set((result.certificatePath ?? []).map(derHex));
  for (const c of certs) if (c !== signer && derHex(c) !== derHex(signer) && !path.has(derHex(c))) throw fail('time-stamp token carries a certificate that is not part of its chain');
  return {
    genTime: tst.genTime,
    serialNumber: hex(tst.serialNumber.valueBlock.valueHexView),
    policy: tst.policy,
    signer: nameOf(signer),
    chainVerified: chain,
    imprint,
  };
}
