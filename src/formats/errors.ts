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

export class FormatError extends HallmarkError<FormatErrorCode> {}

/** Runs fn and turns any non-FormatError into FormatError(code) with the given context. */
export function wrapFormatError<T>(code: FormatErrorCode, context: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw asFormatError(err, code, context);
  }
}

export function asFormatError(err: unknown, code: FormatErrorCode, context: string): FormatError {
  if (err instanceof FormatError) return err;
  const msg = err instanceof Error ? err.message : String(err);
  return new FormatError(code, `${context}: ${firstLine(msg)}`, { cause: err });
}

function firstLine(s: string): string {
  const line = s.split('\n', 1)[0] ?? '';
  return line.length > 200 ? `${line.slice(0, 200)}...` : line;
}
