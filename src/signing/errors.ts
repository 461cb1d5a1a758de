import { HallmarkError } from '../../ledger/index.js';

/** Everything an OpenSSF model signature can do wrong. */
export type SigningErrorCode =
  | 'SIGNING_BAD_BUNDLE' // the signature file is not a bundle we can read (shape, media type, payload)
  | 'SIGNING_VERIFY_FAILED' // a signature, a certificate chain or a file digest does not match
  | 'SIGNING_BAD_KEY' // a key or certificate we cannot use (wrong curve, not EC, unreadable PEM)
  | 'SIGNING_BAD_INPUT' // a model path we cannot sign (missing, a symlink, a special file)
  | 'SIGNING_UNSUPPORTED'; // valid in the format, but not something we implement (a hash type)

export class SigningError extends HallmarkError<SigningErrorCode> {
  constructor(code: SigningErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, oneLine(message), options);
  }
}

/** Messages quote untrusted names: one printable line of bounded length. */
function oneLine(s: string): string {
  // eslint-disable-next-line no-control-regex
  const clean = s.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  return clean.length > 400 ? `${clean.slice(0, 400)}...` : clean;
}

export const badBundle = (m: string, cause?: unknown) => new SigningError('SIGNING_BAD_BUNDLE', m, cause === undefined ? undefined : { cause });
export const verifyFailed = (m: string, cause?: unknown) => new SigningError('SIGNING_VERIFY_FAILED', m, cause === undefined ? undefined : { cause });
export const badKey = (m: string, cause?: unknown) => new SigningError('SIGNING_BAD_KEY', m, cause === undefined ? undefined : { cause });
