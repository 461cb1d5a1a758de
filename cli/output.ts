// The one place where errors become exit codes and one readable line, and where results are
// printed for people or, with --json, for machines.
import { isHallmarkError } from '../ledger/index.js';

/** Exit statuses: 1 = a check failed (tampering, no mark), 2 = the caller's mistake, 3 = other errors. */
export const EXIT = { ok: 0, failed: 1, usage: 2, error: 3 } as const;

const USAGE_CODES = /(_NOT_FOUND|_EXISTS|_OUT_OF_RANGE|_BAD_ENTRY|_BAD_KEY|_INVALID|_UNSUPPORTED|_BAD_INPUT|_USAGE)/;
const FAILED_CODES = /(_TAMPERED|_INCONSISTENT|_BAD_PROOF|_BAD_SIGNATURE|_BAD_NOTE|_VERIFY_FAILED|_BAD_BUNDLE|EVIDENCE_MISMATCH|_AFTER_SUSPECT|_UNSEALED)/;

export function exitCodeFor(err: unknown): number {
  if (isHallmarkError(err)) {
    if (FAILED_CODES.test(err.code)) return EXIT.failed;
    if (USAGE_CODES.test(err.code)) return EXIT.usage;
    return EXIT.error;
  }
  if (err instanceof TypeError || err instanceof RangeError) return EXIT.usage;
  return EXIT.error;
}

/** One line on stderr: the code and the message. Stack traces only with HALLMARK_DEBUG=1. */
export function reportError(err: unknown): number {
  const code = isHallmarkError(err) ? err.code : err instanceof TypeError || err instanceof RangeError ? 'INVALID_ARGUMENT' : 'INTERNAL';
  const msg = err instanceof Error ? err.message : String(err);
  process.stderr.write(`hallmark: ${code}: ${msg.split('\n')[0]}\n`);
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
