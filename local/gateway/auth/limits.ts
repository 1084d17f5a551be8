// GoTrue's rate limits ([auth.rate_limit], docs/supabase-standin-spec.md §8): per-client-address token
// buckets over 5 minutes (burst = the limit, refilled evenly), a project-wide hourly email budget, and the
// per-address resend interval (max_frequency). Kept in memory per gateway, as GoTrue keeps them per process.
import { AuthError } from "./users.ts";

const FIVE_MINUTES = 300;

/** Token bucket per key: `limit` requests at once, refilled at `limit` per `windowSeconds`. */
export class Buckets {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  constructor(
    private readonly limit: number,
    private readonly windowSeconds = FIVE_MINUTES,
    private readonly now: () => number = () => Date.now() / 1000,
  ) {}

  private level(key: string): { tokens: number; at: number } {
    const t = this.now();
    const b = this.buckets.get(key) ?? { tokens: this.limit, at: t };
    b.tokens = Math.min(this.limit, b.tokens + ((t - b.at) * this.limit) / this.windowSeconds);
    b.at = t;
    this.buckets.set(key, b);
    // Full buckets carry no information; dropping them keeps the map as small as the active clients.
    if (this.buckets.size > 10_000) for (const [k, v] of this.buckets) if (v.tokens >= this.limit) this.buckets.delete(k);
    return b;
  }

  /** Whether one more request fits now (without taking it). */
  allows(key: string): boolean {
    return this.level(key).tokens >= 1;
  }

  /** Takes one request's token; false when the bucket is empty. */
  take(key: string): boolean {
    const b = this.level(key);
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }
}

/** GoTrue's 429 for a client address over a bucket's limit. */
export function requireToken(buckets: Buckets, address: string): void {
  if (!buckets.take(address || "unknown")) throw new AuthError(429, "over_request_rate_limit", "Request rate limit reached");
}

export const emailRateLimitError = () => new AuthError(429, "over_email_send_rate_limit", "email rate limit exceeded");

/** GoTrue's message for a second mail of one kind to one address within max_frequency. */
export function frequencyError(secondsLeft: number): AuthError {
  return new AuthError(429, "over_email_send_rate_limit", `For security purposes, you can only request this after ${Math.max(1, Math.ceil(secondsLeft))} seconds.`);
}

/** max_frequency for mail asked for by address: one per key per interval, known address or not. */
export class AddressThrottle {
  private readonly last = new Map<string, number>();
  constructor(
    private readonly intervalSeconds: number,
    private readonly now: () => number = () => Date.now() / 1000,
  ) {}

  /** Throws GoTrue's 429 when `key` was used less than the interval ago; otherwise records this use. */
  use(key: string): void {
    const t = this.now();
    const previous = this.last.get(key);
    if (previous !== undefined && t - previous < this.intervalSeconds) throw frequencyError(previous + this.intervalSeconds - t);
    this.mark(key);
  }

  /** Records a mail for `key` sent by a path that checked the interval itself (a stored sent_at). */
  mark(key: string): void {
    const t = this.now();
    this.last.set(key, t);
    if (this.last.size > 10_000) for (const [k, v] of this.last) if (t - v >= this.intervalSeconds) this.last.delete(k);
  }
}

/** Throws GoTrue's 429 when a stored `sent_at` is within max_frequency of now. */
export function checkSentWithin(sentAt: Date | null | undefined, intervalSeconds: number): void {
  if (!sentAt) return;
  const left = sentAt.getTime() / 1000 + intervalSeconds - Date.now() / 1000;
  if (left > 0) throw frequencyError(left);
}
