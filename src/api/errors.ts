// The one place where errors become HTTP responses. Every error body is
// { "error": { "code", "message" } }; stack traces and unknown errors' details never leave the
// server (they are logged here, without request headers, so API keys cannot reach a log line).
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { HallmarkError, isHallmarkError } from '../../ledger/index.js';
import { redactPaths } from './redact.js';

export type ApiErrorCode =
  | 'API_INVALID_REQUEST'
  | 'API_UNAUTHENTICATED'
  | 'API_FORBIDDEN'
  | 'API_NOT_FOUND'
  | 'API_TOO_LARGE'
  | 'API_UNSUPPORTED_MEDIA_TYPE'
  | 'API_RATE_LIMITED'
  | 'API_TRUNCATED_UPLOAD'
  | 'API_BAD_NAME'
  | 'API_KEY_NOT_FOUND'
  | 'API_EXISTS'
  | 'API_NO_PASSPHRASE'
  /** An upload that does not parse as the format it claims. */
  | 'API_INVALID_UPLOAD'
  /** No stored checkpoint covers what was asked yet; the server signs on its schedule. */
  | 'API_NOT_YET_SIGNED';

export class ApiError extends HallmarkError<ApiErrorCode> {}

export interface ErrorBody {
  error: { code: string; message: string };
}

/** Codes with a fixed status; the rest follow the suffix rules in statusForCode. */
const FIXED: Record<string, ContentfulStatusCode> = {
  API_UNAUTHENTICATED: 401,
  API_FORBIDDEN: 403,
  // The generic append was asked for a protected record type (src/records).
  RECORD_PROTECTED: 403,
  EVIDENCE_UNSEALED: 409,
  API_TOO_LARGE: 413,
  API_UNSUPPORTED_MEDIA_TYPE: 415,
  API_RATE_LIMITED: 429,
  // The server was started without HALLMARK_PASSPHRASE: a deployment fault, not the caller's.
  API_NO_PASSPHRASE: 503,
  API_NOT_YET_SIGNED: 503,
  LEDGER_BUSY: 503,
  LEDGER_UNAVAILABLE: 503,
  // The server's own store is damaged: not the caller's fault.
  LEDGER_TAMPERED: 500,
  HOME_CORRUPT: 500,
  HOME_NOT_FOUND: 500,
  // issue 14: the blob store (src/blobs). Damage, a wrong key or an old server are the server's
  // faults, not the caller's; an unreachable database may pass.
  BLOB_TRUNCATED: 500,
  BLOB_BAD_KEY: 500,
  BLOB_UNSUPPORTED_VERSION: 500,
  BLOB_NO_KEY: 503,
  BLOB_UNAVAILABLE: 503,
};

/** HTTP status for a HallmarkError code. */
export function statusForCode(code: string): ContentfulStatusCode {
  const fixed = FIXED[code];
  if (fixed) return fixed;
  if (/_(NOT_FOUND|OUT_OF_RANGE)$/.test(code)) return 404;
  // Already registered, or a proof asked between two sizes that do not fit together.
  if (/_(EXISTS|INCONSISTENT)$/.test(code)) return 409;
  if (/_TAMPERED$/.test(code)) return 500;
  if (/_TOO_LARGE$/.test(code)) return 413;
  if (/(_BAD_|_INVALID|_UNSUPPORTED_VERSION$|_TRUNCATED)/.test(code)) return 400;
  return 500;
}

const HTTP_CODES: Record<number, ApiErrorCode> = {
  400: 'API_INVALID_REQUEST',
  401: 'API_UNAUTHENTICATED',
  403: 'API_FORBIDDEN',
  404: 'API_NOT_FOUND',
  413: 'API_TOO_LARGE',
  415: 'API_UNSUPPORTED_MEDIA_TYPE',
  429: 'API_RATE_LIMITED',
};

const HTTP_MESSAGES: Record<number, string> = {
  413: 'the request body is too large',
  415: 'unsupported Content-Type for this route; see /openapi.json',
};

export function errorBody(code: string, message: string): ErrorBody {
  return { error: { code, message: oneLine(message) } };
}

function oneLine(s: string): string {
  const line = s.split('\n')[0] ?? '';
  return line.length > 500 ? `${line.slice(0, 497)}...` : line;
}

export type Logger = (line: string) => void;

/** Builds the app's onError: typed errors keep their code, everything else is INTERNAL. */
export function createErrorHandler(log: Logger, homeDir?: string) {
  return (err: Error, c: Context): Response => {
    if (isHallmarkError(err)) {
      const status = statusForCode(err.code);
      if (status >= 500) log(`${c.req.method} ${c.req.path}: ${err.code}: ${oneLine(err.message)}`);
      // The log keeps the server's paths; the client reads none of them.
      return c.json(errorBody(err.code, redactPaths(err.message, homeDir)), status);
    }
    if (err instanceof HTTPException && err.status < 500) {
      const code = HTTP_CODES[err.status] ?? 'API_INVALID_REQUEST';
      const message = HTTP_MESSAGES[err.status] ?? (err.message || 'invalid request');
      return c.json(errorBody(code, message), err.status as ContentfulStatusCode);
    }
    log(`${c.req.method} ${c.req.path}: INTERNAL: ${err.stack ?? String(err)}`);
    return c.json(errorBody('INTERNAL', 'internal error; the server log has the details'), 500);
  };
}

interface ZodIssueLike {
  path: PropertyKey[];
  message: string;
}

/** One readable line from zod issues: `query.size: expected a number; body.name: required`. */
export function describeIssues(target: string, issues: readonly ZodIssueLike[]): string {
  const parts = issues.slice(0, 3).map((i) => {
    const where = [target, ...i.path.map(String)].join('.');
    return `${where}: ${i.message}`;
  });
  if (issues.length > 3) parts.push(`and ${issues.length - 3} more`);
  return `invalid request: ${parts.join('; ')}`;
}

/** The defaultHook for @hono/zod-openapi: validation failures become API_INVALID_REQUEST. */
export function validationHook(result: { success: boolean; target: string; error?: { issues: ZodIssueLike[] } }): void {
  if (!result.success) {
    const target = result.target === 'json' ? 'body' : result.target === 'param' ? 'path' : result.target;
    throw new ApiError('API_INVALID_REQUEST', describeIssues(target, result.error?.issues ?? []));
  }
}

export const notFound = (c: Context): Response => c.json(errorBody('API_NOT_FOUND', `no route ${c.req.method} ${c.req.path}; see /openapi.json`), 404);
