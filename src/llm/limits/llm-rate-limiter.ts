import type { OnModuleDestroy } from '@nestjs/common';
import type { CallRecord } from '../call/call-record';
import type { AttemptRecord } from '../call/call-record.types';
import type { CallDeadline } from '../resilience/call-deadline';
import { LimiterMetrics } from './limiter.metrics';
import { UpstreamHolds } from './upstream-holds';

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

/**
 * The limiter when no upstream configures a budget: every attempt goes at once, unless its
 * upstream answered a 429 with a wait that has not passed (see {@link UpstreamHolds}).
 */
export class UnlimitedRateLimiter implements LlmRateLimiter, OnModuleDestroy {
  private readonly metrics: LimiterMetrics;
  private readonly ownsMetrics: boolean;
  private readonly holds: UpstreamHolds;
  /** Settling an attempt only learns of a 429 with a wait (and how long attempts take). */
  private readonly settle = (call: CallRecord, attempt: AttemptRecord): void =>
    this.holds.attempted(call, attempt);
  /** The reservation of an attempt that did not wait. */
  readonly free: RateLimitReservation = { waitedMs: 0, settle: this.settle };

  /** @param metrics the limiter's instruments, when a budget limiter delegates its unbudgeted calls */
  constructor(metrics?: LimiterMetrics) {
    this.ownsMetrics = metrics === undefined;
    this.metrics =
      metrics ?? new LimiterMetrics({ budgets: () => [], fallbackActive: () => undefined });
    this.holds = new UpstreamHolds(this.metrics);
  }

  async acquire(call: CallRecord, deadline: CallDeadline): Promise<RateLimitReservation> {
    if (!this.holds.isHeld(call)) return this.free;
    const waitedMs = await this.holds.wait(call, deadline);
    return { waitedMs, settle: this.settle };
  }

  /** The reservation `call` gets without waiting, or undefined while its upstream is held. */
  immediate(call: CallRecord): RateLimitReservation | undefined {
    return this.holds.isHeld(call) ? undefined : this.free;
  }

  onModuleDestroy(): void {
    this.holds.close();
    if (this.ownsMetrics) this.metrics.close();
  }
}

/**
 * The reservation an attempt of `call` gets at once from `limiter`, when it is the unlimited one
 * (no upstream sets a budget) and the call's upstream is not held: the limiter layer then has no
 * promise to wait for. Undefined otherwise.
 */
export function immediateReservation(
  limiter: LlmRateLimiter,
  call: CallRecord,
): RateLimitReservation | undefined {
  return limiter instanceof UnlimitedRateLimiter ? limiter.immediate(call) : undefined;
}
