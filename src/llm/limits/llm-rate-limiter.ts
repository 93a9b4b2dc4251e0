import type { CallRecord } from '../call/call-record';
import type { AttemptRecord } from '../call/call-record.types';
import type { CallDeadline } from '../resilience/call-deadline';

/** Budget held for one attempt until it is settled with what the attempt really cost. */
export interface RateLimitReservation {
  /** How long the attempt waited for budget, in ms. */
  readonly waitedMs: number;
  /**
   * Called once after the attempt, success or failure: reconciles the token estimate with the
   * real usage (`call.response`) and corrects the local view with the provider's
   * `x-ratelimit-remaining-*` / `x-ratelimit-reset-*` headers (`attempt.responseHeaders`).
   */
  settle(call: CallRecord, attempt: AttemptRecord): void;
  /**
   * Gives the budget back unspent, instead of `settle`, when the attempt is not sent after all
   * (the circuit opened while the call waited for budget).
   */
  release?(): void;
}

/**
 * Requests-per-minute and tokens-per-minute budgets, acquired before every attempt (retries spend
 * budget too). A port with the same name as its injection token: replace it to plug in your own.
 *
 * @example
 * const reservation = await limiter.acquire(call, deadline); // may wait, FIFO, within the deadline
 * try { ... } finally { reservation.settle(call, attempt); }
 */
export interface LlmRateLimiter {
  /**
   * Resolves when the attempt may be sent. Waits first come first served while the deadline
   * allows; rejects at once with a non-retryable `rate_limited` {@link LlmError} carrying
   * `retryAfterMs` when the wait would pass the deadline or the wait queue is full.
   */
  acquire(call: CallRecord, deadline: CallDeadline): Promise<RateLimitReservation>;
}

export const LlmRateLimiter = Symbol('LlmRateLimiter');

const FREE: RateLimitReservation = { waitedMs: 0, settle: () => undefined };

/** The limiter when no upstream configures a budget: every attempt goes at once. */
export class UnlimitedRateLimiter implements LlmRateLimiter {
  acquire(): Promise<RateLimitReservation> {
    return Promise.resolve(FREE);
  }
}

/**
 * The reservation every attempt gets at once from `limiter`, when it is the unlimited one (no
 * upstream sets a budget): the limiter layer then has no promise to wait for. Undefined for any
 * other limiter.
 */
export function immediateReservation(limiter: LlmRateLimiter): RateLimitReservation | undefined {
  return limiter instanceof UnlimitedRateLimiter ? FREE : undefined;
}
