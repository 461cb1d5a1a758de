// ECDSA keys as model_signing takes them: PEM private keys on P-256, P-384 or P-521, signatures in
// DER, hashed with SHA-256/384/512 by curve size (sign_ec_key.get_ec_key_hash). The bundle names the
// key by publicKey.hint = hex SHA-256 of the public key's SubjectPublicKeyInfo PEM text.
import { createHash, createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { badKey } from './errors.js';

const CURVE_HASH: Record<string, string> = { prime256v1: 'sha256', secp384r1: 'sha384', secp521r1: 'sha512' };
const CURVE_NAME: Record<string, string> = { prime256v1: 'P-256', secp384r1: 'P-384', secp521r1: 'P-521' };

/** The first PEM block of the given label; key files often carry text (certtool output) before it. */
export function pemBlock(text: string, label: string, what: string): string {
  const re = new RegExp(`-----BEGIN ${label}-----[\\s\\S]*?-----END ${label}-----`);
  const m = re.exec(text);
  if (!m) throw badKey(`${what} holds no "-----BEGIN ${label}-----" block`);
  return `${m[0]}\n`;
}

/** The curve of an EC key; refuses anything else. */
export function ecCurve(key: KeyObject, what: string): string {
  const curve = key.asymmetricKeyType === 'ec' ? key.asymmetricKeyDetails?.namedCurve : undefined;
  if (!curve || !(curve in CURVE_HASH)) {
    throw badKey(`${what} is a ${key.asymmetricKeyType ?? 'unknown'} key${curve ? ` on ${curve}` : ''}; OpenSSF model signatures need an ECDSA key on P-256, P-384 or P-521`);
  }
  return curve;
}

export const hashForKey = (key: KeyObject, what: string) => CURVE_HASH[ecCurve(key, what)]!;
export const curveName = (key: KeyObject, what: string) => CURVE_NAME[ecCurve(key, what)]!;

export function loadPrivateKey(pem: string, what = 'the signing key'): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: pem, format: 'pem' });
  } catch (err) {
    throw badKey(`${what} is not a readable unencrypted PEM private key`, err);
  }
  ecCurve(key, what);
  return key;
}

export function loadPublicKey(text: string, what = 'the public key'): KeyObject {
  let key: KeyObject;
  try {
    key = createPublicKey({ key: pemBlock(text, 'PUBLIC KEY', what), format: 'pem' });
  } catch (err) {
    if ((err as { code?: string }).code === 'SIGNING_BAD_KEY') throw err;
    throw badKey(`${what} is not a readable PEM public key`, err);
  }
  ecCurve(key, what);
  return key;
}

/** The SubjectPublicKeyInfo PEM as Python's cryptography writes it (64-column base64, trailing newline). */
export function publicKeyPem(key: KeyObject): string {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  return pub.export({ type: 'spki', format: 'pem' }).toString();
}

/** verificationMaterial.publicKey.hint: hex SHA-256 of the public key's PEM text. */
export function publicKeyHint(key: KeyObject): string {
  return createHash('sha256').update(publicKeyPem(key)).digest('hex');
}
