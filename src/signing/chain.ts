// Certificate-chain checks for OMS bundles signed with a certificate, after
// sign_certificate.Verifier: the bundle's first certificate is the signing (leaf) certificate,
// the rest are untrusted intermediates; the caller's PEM files are the trust anchors. The path is
// checked at the leaf's notBefore (the reference sets the store time there, as the signing time
// of a key-based signature is unknown), every issuer must be a CA, and the leaf must allow digital
// signatures (KeyUsage) or code signing (ExtendedKeyUsage).
import { X509Certificate } from 'node:crypto';
import * as pkijs from 'pkijs';
import { badBundle, badKey, verifyFailed } from './errors.js';

const MAX_DEPTH = 10;
const CODE_SIGNING = '1.3.6.1.5.5.7.3.3';

/** Every certificate of the PEM texts (a bundle of roots in one file is fine). */
export function readPemCertificates(texts: readonly string[], what: string): X509Certificate[] {
  const out: X509Certificate[] = [];
  for (const text of texts) {
    for (const m of text.matchAll(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g)) {
      try {
        out.push(new X509Certificate(m[0]));
      } catch (err) {
        throw badKey(`${what} holds a certificate that cannot be read`, err);
      }
    }
  }
  if (out.length === 0) throw badKey(`${what} holds no PEM certificate`);
  return out;
}

export function readDerCertificate(der: Uint8Array, what: string): X509Certificate {
  try {
    return new X509Certificate(der);
  } catch (err) {
    throw badBundle(`${what} is not a DER X.509 certificate`, err);
  }
}

function validAt(c: X509Certificate, t: Date): boolean {
  return new Date(c.validFrom) <= t && t <= new Date(c.validTo);
}

function issuedBy(child: X509Certificate, parent: X509Certificate): boolean {
  try {
    return child.checkIssued(parent) && child.verify(parent.publicKey);
  } catch {
    return false;
  }
}

function canSign(leaf: X509Certificate): boolean {
  let cert: pkijs.Certificate;
  try {
    cert = pkijs.Certificate.fromBER(new Uint8Array(leaf.raw));
  } catch {
    return false;
  }
  for (const ext of cert.extensions ?? []) {
    // KeyUsage: digitalSignature is bit 0, the top bit of the first byte after the unused-bits count.
    if (ext.extnID === '2.5.29.15') {
      const bits = new Uint8Array(ext.extnValue.valueBlock.valueHexView);
      // extnValue wraps a BIT STRING: 03 len unused first-byte...
      if (bits.length >= 4 && bits[0] === 0x03 && (bits[3]! & 0x80) !== 0) return true;
    }
    if (ext.extnID === '2.5.29.37' && ext.parsedValue instanceof pkijs.ExtKeyUsage && ext.parsedValue.keyPurposes.includes(CODE_SIGNING)) return true;
  }
  return false;
}

/** Checks that leaf chains to one of the anchors through the intermediates; returns the path. */
export function verifyChain(leaf: X509Certificate, intermediates: readonly X509Certificate[], anchors: readonly X509Certificate[]): X509Certificate[] {
  const at = new Date(leaf.validFrom);
  const path = [leaf];
  let current = leaf;
  for (let depth = 0; depth < MAX_DEPTH; depth++) {
    if (!validAt(current, at)) throw verifyFailed(`certificate "${current.subject.replace(/\n/g, ', ')}" is not valid at the signing certificate's start ${at.toISOString()}`);
    const anchor = anchors.find((a) => issuedBy(current, a) || current.raw.equals(a.raw));
    if (anchor) {
      if (!validAt(anchor, at)) throw verifyFailed(`trusted certificate "${anchor.subject.replace(/\n/g, ', ')}" is not valid at ${at.toISOString()}`);
      if (!current.raw.equals(anchor.raw)) path.push(anchor);
      if (!canSign(leaf)) throw verifyFailed('the signing certificate allows neither digital signatures (KeyUsage) nor code signing (ExtendedKeyUsage)');
      return path;
    }
    const next = intermediates.find((c) => !path.includes(c) && c.ca && issuedBy(current, c));
    if (!next) throw verifyFailed(`certificate "${current.subject.replace(/\n/g, ', ')}" does not chain to a trusted certificate`);
    path.push(next);
    current = next;
  }
  throw verifyFailed(`the certificate chain is longer than ${MAX_DEPTH}`);
}
