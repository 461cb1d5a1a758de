// The one place where errors become exit codes and one readable line (or, with --json, one JSON
// object on stderr), and where results are printed for people or, with --json, for machines.
import { isHallmarkError } from '../ledger/index.js';

/**
 * Exit statuses, one rule for every command (README "Exit codes"):
 *   0  done, and every check passed;
 *   1  a check ran and failed: tampering, a bad proof or signature, a mark not shown, a mismatch;
 *   2  the caller's mistake, fixed by changing the command: a bad flag or argument, a file that is
 *      missing, unreadable or not the format it claims (corrupt, truncated, unknown, too large),
 *      no home, a wrong passphrase, a refused record type;
 *   3  the environment failed, and retrying may help: a remote server or TSA unreachable, a
 *      timeout, a busy database, an internal error.
 */
export const EXIT = { ok: 0, failed: 1, usage: 2, error: 3 } as const;

const FAILED = /_(TAMPERED|INCONSISTENT|BAD_PROOF|BAD_SIGNATURE|BAD_NOTE|VERIFY_FAILED|BAD_BUNDLE|MISMATCH|NOT_OWNED|LIMIT_EXCEEDED|QUORUM_NOT_MET|BAD_COSIGNATURE|AFTER_SUSPECT|UNSIGNED|UNTRUSTED_SIGNER|FORGED)$/;
const USAGE = /_(NOT_FOUND|EXISTS|OUT_OF_RANGE|BAD_ENTRY|BAD_KEY|INVALID|INVALID_REQUEST|UNSUPPORTED|UNSUPPORTED_VERSION|UNSUPPORTED_OP|UNSUPPORTED_MEDIA_TYPE|BAD_INPUT|USAGE|CORRUPT|TRUNCATED|UNKNOWN|TOO_LARGE|UNSAFE_PATH|SHAPE_MISMATCH|BAD_DATA|BAD_NAME|BAD_DOCUMENT|BAD_PASSPHRASE|NO_PASSPHRASE|DATASET_INVALID|LAYER_NOT_FOUND|NO_CANDIDATE|OUTPUT_EXISTS|PROTECTED|FORBIDDEN|UNAUTHENTICATED|EMBED_INFEASIBLE|NOT_BOUND|FIDELITY|UNSEALED|DUPLICATE_KEY|PROTO_KEY|UNSAFE_INTEGER|TOO_DEEP|NOT_FOUND_SET|TOO_FEW|BAD_UPLOAD|INVALID_UPLOAD|REDIRECT_REFUSED|BAD_POLICY|BAD_REQUEST)$/;

export function exitCodeFor(err: unknown): number {
  if (isHallmarkError(err)) {
    if (/_SHAPE_MISMATCH$/.test(err.code)) return EXIT.usage; // a file whose tensors do not fit: the input, not a check
    if (FAILED.test(err.code)) return EXIT.failed;
    if (USAGE.test(err.code)) return EXIT.usage;
    return EXIT.error;
  }
  if (err instanceof TypeError || err instanceof RangeError) return EXIT.usage;
  if (isMissingFile(err)) return EXIT.usage;
  return EXIT.error;
}

function isMissingFile(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code;
  return code === 'ENOENT' || code === 'EISDIR' || code === 'ENOTDIR' || code === 'EACCES';
}

export function errorCodeOf(err: unknown): string {
  if (isHallmarkError(err)) return err.code;
  if (err instanceof TypeError || err instanceof RangeError) return 'INVALID_ARGUMENT';
  if (isMissingFile(err)) return 'FILE_NOT_FOUND';
  return 'INTERNAL';
}

/** --json anywhere on the command line: errors are JSON too, so scripts never parse text. */
export function jsonRequested(argv: readonly string[] = process.argv): boolean {
  return argv.slice(2).includes('--json');
}

/** The first line of the message. */
function oneLine(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return (msg.split('\n')[0] ?? '').trim();
}

/** Writes one error: `hallmark: CODE: message`, or {"error":{"code","message"}} with --json. */
export function writeError(code: string, message: string): void {
  if (jsonRequested()) process.stderr.write(`${JSON.stringify({ error: { code, message } })}\n`);
  else process.stderr.write(`hallmark: ${code}: ${message}\n`);
}

/** One line (or one JSON object) on stderr. Stack traces only with HALLMARK_DEBUG=1. */
export function reportError(err: unknown): number {
  writeError(errorCodeOf(err), oneLine(err));
  if (process.env.HALLMARK_DEBUG === '1' && err instanceof Error) process.stderr.write(`${err.stack}\n`);
  return exitCodeFor(err);
}

export interface OutputOptions {
  json?: boolean;
}

/** Prints a result: JSON with --json, else the human text. */
export function emit(opts: OutputOptions, value: unknown, human: () => string): void {
  if (opts.json) process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  else process.stdout.write(`${human()}\n`);
}

/** Wraps a command action: any thrown error becomes one line and an exit status. */
export function action<A extends unknown[]>(fn: (...args: A) => Promise<number | void> | number | void): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      const code = await fn(...args);
      process.exitCode = typeof code === 'number' ? code : EXIT.ok;
    } catch (err) {
      process.exitCode = reportError(err);
    }
  };
}

/** Parses a non-negative integer flag or argument, with a message that names it. */
export function parseCount(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (!/^(0|[1-9][0-9]{0,15})$/.test(v) || !Number.isSafeInteger(Number(v))) throw new RangeError(`${name} must be a non-negative integer, got "${v}"`);
  return Number(v);
}

export { paint, paintVerdicts, colorEnabled } from './color.js';
