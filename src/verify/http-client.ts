// JSON over HTTP for remote suspects, built to fail loudly rather than hang: every attempt has a
// timeout that covers the body as well as the headers (AbortController), 5xx / 429 / network
// errors and timeouts are retried with exponential backoff and full jitter (AWS Architecture
// Blog, "Exponential Backoff And Jitter", 2015), other 4xx are not (asking again will not help),
// a shared budget caps the attempts of a whole verification, and bodies are read up to a bound.
import { VerifyError } from './errors.js';

export interface RemoteOptions {
  /** Per attempt, headers and body together (default 10 s). */
  readonly timeoutMs?: number;
  /** Retries after the first attempt (default 3). */
  readonly retries?: number;
  /** First backoff ceiling; doubles per retry (default 200 ms). */
  readonly backoffMs?: number;
  readonly maxBackoffMs?: number;
  /** Requests in flight at once (default 4). */
  readonly concurrency?: number;
  /** Attempts allowed for the whole verification, retries included (default 200). */
  readonly maxRequests?: number;
  readonly maxResponseBytes?: number;
  /** Extra request headers (e.g. Authorization); never printed. */
  readonly headers?: Readonly<Record<string, string>>;
  /** Jitter source in [0, 1) (default Math.random); tests pass their own. */
  readonly random?: () => number;
}

export const REMOTE_DEFAULTS = { timeoutMs: 10_000, retries: 3, backoffMs: 200, maxBackoffMs: 5_000, concurrency: 4, maxRequests: 200, maxResponseBytes: 16 * 1024 * 1024 } as const;

/** Counts attempts against the budget; shared by every request of one verification. */
export class RequestBudget {
  used = 0;
  constructor(readonly max: number) {
    if (!Number.isSafeInteger(max) || max < 1) throw new RangeError(`request budget must be a positive integer, got ${max}`);
  }
  take(url: string): void {
    if (this.used >= this.max) throw new VerifyError('VERIFY_REMOTE_BUDGET', `the request budget of ${this.max} requests ran out before every trigger was answered by ${url} (raise --max-requests or check the endpoint)`);
    this.used++;
  }
}

/** The URL without user:password, for messages and records. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    return u.toString();
  } catch {
    return '(invalid URL)';
  }
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });

async function readBounded(res: Response, max: number, where: string): Promise<string> {
  const len = Number(res.headers.get('content-length') ?? NaN);
  if (len > max) throw new VerifyError('VERIFY_REMOTE_BAD_RESPONSE', `${where} announced a ${len}-byte body, more than the ${max} allowed`);
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > max) {
      await reader.cancel().catch(() => undefined);
      throw new VerifyError('VERIFY_REMOTE_BAD_RESPONSE', `${where} sent more than ${max} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

const RETRYABLE = (status: number) => status === 429 || status >= 500;

/** Retry-After in seconds (RFC 9110 §10.2.3; HTTP dates are ignored), as milliseconds. */
function retryAfterMs(res: Response): number | undefined {
  const v = res.headers.get('retry-after');
  return v !== null && /^\d{1,6}$/.test(v.trim()) ? Number(v) * 1000 : undefined;
}

/**
 * Sends one JSON request with the retry policy above and returns the parsed body. `signal`
 * aborts everything (another request of the same verification failed).
 */
export async function requestJson(
  url: string,
  init: { method: 'GET' | 'POST'; body?: unknown },
  options: RemoteOptions,
  budget: RequestBudget,
  signal?: AbortSignal,
): Promise<unknown> {
  const o = { ...REMOTE_DEFAULTS, ...options };
  const shown = redactUrl(url);
  const random = options.random ?? Math.random;
  const body = init.body === undefined ? undefined : JSON.stringify(init.body);
  let last: VerifyError | undefined;
  for (let attempt = 0; attempt <= o.retries; attempt++) {
    signal?.throwIfAborted();
    budget.take(shown);
    const controller = new AbortController();
    const onOuterAbort = () => controller.abort(signal?.reason);
    signal?.addEventListener('abort', onOuterAbort, { once: true });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, o.timeoutMs);
    let waitHint: number | undefined;
    try {
      const res = await fetch(url, {
        method: init.method,
        headers: { accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...o.headers },
        ...(body === undefined ? {} : { body }),
        signal: controller.signal,
        // SSRF: a redirect could lead past the endpoint allow-list to any host; none is followed.
        redirect: 'manual',
      });
      if (res.status >= 300 && res.status < 400) {
        await res.body?.cancel().catch(() => undefined);
        throw new VerifyError('VERIFY_REMOTE_REDIRECT', `${shown} answered HTTP ${res.status} (a redirect); Hallmark follows no redirects: give the final URL of the endpoint`);
      }
      const text = await readBounded(res, o.maxResponseBytes, shown);
      if (res.ok) {
        try {
          return JSON.parse(text) as unknown;
        } catch {
          throw new VerifyError('VERIFY_REMOTE_BAD_RESPONSE', `${shown} answered HTTP ${res.status} with a body that is not JSON`);
        }
      }
      // The body is the remote's words, not ours: it never reaches a message, a record or a log.
      const err = new VerifyError('VERIFY_REMOTE_HTTP', `${shown} answered HTTP ${res.status}`);
      if (!RETRYABLE(res.status)) throw err;
      last = err;
      waitHint = retryAfterMs(res);
    } catch (err) {
      if (err instanceof VerifyError) throw err; // a 4xx, a redirect or a bad body: asking again will not help
      if (signal?.aborted) throw signal.reason instanceof Error ? signal.reason : err;
      last = timedOut
        ? new VerifyError('VERIFY_REMOTE_TIMEOUT', `${shown} did not answer within ${o.timeoutMs} ms`, { cause: err })
        : new VerifyError('VERIFY_REMOTE_UNREACHABLE', `${shown} could not be reached: ${causeOf(err)}`, { cause: err });
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onOuterAbort);
    }
    if (attempt < o.retries) {
      const ceiling = Math.min(o.maxBackoffMs, o.backoffMs * 2 ** attempt);
      await sleep(Math.min(o.maxBackoffMs, Math.max(waitHint ?? 0, ceiling * random())), signal);
    }
  }
  const e = last ?? new VerifyError('VERIFY_REMOTE_UNREACHABLE', `${shown} gave no answer`);
  throw new VerifyError(e.code, `${e.message} (gave up after ${o.retries + 1} attempts)`, { cause: e });
}

function causeOf(err: unknown): string {
  const c = (err as { cause?: { code?: string; message?: string } }).cause;
  return c?.code ?? c?.message ?? (err as Error).message ?? String(err);
}

/** Runs fn over items with at most `limit` in flight; the first failure aborts the rest. */
export async function mapWithConcurrency<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number, signal: AbortSignal) => Promise<R>): Promise<R[]> {
  if (!Number.isSafeInteger(limit) || limit < 1) throw new RangeError(`concurrency must be a positive integer, got ${limit}`);
  const results = new Array<R>(items.length);
  const controller = new AbortController();
  let next = 0;
  let failure: unknown;
  const worker = async () => {
    while (next < items.length && failure === undefined) {
      const i = next++;
      try {
        results[i] = await fn(items[i]!, i, controller.signal);
      } catch (err) {
        if (failure === undefined) {
          failure = err;
          controller.abort(err);
        }
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure !== undefined) throw failure;
  return results;
}
