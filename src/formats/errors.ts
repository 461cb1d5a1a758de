import { HallmarkError } from '../../ledger/index.js';

/**
 * Everything a model or dataset file can do wrong. Readers of untrusted files throw only this
 * (plus TypeError/RangeError for caller mistakes), never a library's own error.
 */
export type FormatErrorCode =
  | 'FORMAT_TRUNCATED' // the file ends before what its header promises
  | 'FORMAT_CORRUPT' // bytes that cannot be what the format says
  | 'FORMAT_TOO_LARGE' // a declared size beyond our bounds or beyond the file
  | 'FORMAT_UNSUPPORTED' // valid in the format, but not something we read or write (a dtype, a quantization)
  | 'FORMAT_SHAPE_MISMATCH' // a tensor's bytes do not match its dtype and shape, or a replacement does not fit
  | 'FORMAT_UNSAFE_PATH' // a referenced file outside the model's folder
  | 'FORMAT_NOT_FOUND' // a file, a referenced shard or a tensor name that does not exist
  | 'FORMAT_UNKNOWN' // a path whose format we cannot tell
  | 'FORMAT_BAD_PROOF'; // an inclusion proof that does not lead to the manifest root

export class FormatError extends HallmarkError<FormatErrorCode> {
  constructor(code: FormatErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, oneLine(message), options);
  }
}

/** Messages may quote untrusted bytes: keep them one printable line of bounded length. */
function oneLine(s: string): string {
  // eslint-disable-next-line no-control-regex
  const clean = s.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  return clean.length > 300 ? `${clean.slice(0, 300)}...` : clean;
}

/** Turns any error into FormatError(code) with the given context; FormatErrors pass through. */
export function asFormatError(err: unknown, code: FormatErrorCode, context: string): FormatError {
  if (err instanceof FormatError) return err;
  const msg = err instanceof Error ? err.message : String(err);
  return new FormatError(code, `${context}: ${msg.split('\n', 1)[0] ?? ''}`, { cause: err });
}
