// Per-client query budgets: a token bucket per client, counted in inputs (a batch of 50 costs
// 50). Over budget -> GUARD_RATE_LIMITED with the seconds until the request would fit
// (Retry-After). A throttled client (suspected extraction) refills at a fraction of the rate.
import { GuardError } from './errors.js';

export interface RateLimitOptions {
  /** Inputs per second refilled (default 200). */
  readonly perSecond?: number;
  /** Bucket size in inputs (default 2000); also the largest batch that can ever pass. */
  readonly burst?: number;
  /** Rate factor for throttled clients (default 0.05). */
  readonly throttleFactor?: number;
}

export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  private readonly throttled = new Set<string>();
  readonly perSecond: number;
  readonly burst: number;
  readonly throttleFactor: number;

  constructor(o: RateLimitOptions = {}, private readonly now: () => number = Date.now) {
    this.perSecond = o.perSecond ?? 200;
    this.burst = o.burst ?? 2000;
    this.throttleFactor = o.throttleFactor ?? 0.05;
    if (!(this.perSecond > 0) || !(this.burst >= 1) || !(this.throttleFactor > 0 && this.throttleFactor <= 1)) throw new RangeError('rate limits must be positive (throttle factor in (0, 1])');
  }

  throttle(client: string): void {
    this.throttled.add(client);
  }

  /** Takes `n` tokens or throws GUARD_RATE_LIMITED (with retryAfter seconds on the error). */
  take(client: string, n: number): void {
    const t = this.now();
    const rate = this.perSecond * (this.throttled.has(client) ? this.throttleFactor : 1);
    const b = this.buckets.get(client) ?? { tokens: this.burst, at: t };
    b.tokens = Math.min(this.burst, b.tokens + ((t - b.at) / 1000) * rate);
    b.at = t;
    this.buckets.set(client, b);
    if (b.tokens >= n) {
      b.tokens -= n;
      return;
    }
    const retryAfter = Math.max(1, Math.ceil((n - b.tokens) / rate));
    throw Object.assign(new GuardError('GUARD_RATE_LIMITED', `over the query budget (${this.perSecond * (this.throttled.has(client) ? this.throttleFactor : 1)} inputs/s, burst ${this.burst}); retry after ${retryAfter} s`), { retryAfter });
  }
}
