import type { IBackoff, IBackoffFactory, IHalfOpenAfterBackoffContext } from 'cockatiel';

type Context = IHalfOpenAfterBackoffContext;

/**
 * How long the circuit stays open, as cockatiel's `halfOpenAfter` backoff. While the outage is
 * young (open for less than `steadyMs` since the circuit first opened: the time callers may wait
 * for a probe), every break lasts `firstMs`, so a short outage is noticed within a break of its
 * end. After that each failed probe doubles the break, up to `maxMs`, so a long outage is probed
 * once per `maxMs` and callers fail fast. A good probe closes the circuit; the next opening starts
 * over. Polly's break-duration generator and Envoy's ejection multiplier work alike.
 *
 * No jitter: the duration in force is what `retryAfterMs`, health and the waiting calls read, so
 * it must be exact; one breaker per upstream and model has no herd to spread.
 *
 * @example
 * // 0.25 s breaks for the first 5 s of an outage, then 0.5, 1, 2, 4, 8, 16, 30, 30 s...
 * const durations = new BreakDurations(250, 30_000, 5_000, (ms) => (current = ms));
 * circuitBreaker(handleAll, { halfOpenAfter: durations, breaker });
 */
export class BreakDurations implements IBackoffFactory<Context> {
  constructor(
    private readonly firstMs: number,
    private readonly maxMs: number,
    private readonly steadyMs: number,
    /** Told the duration of each break when cockatiel opens the circuit. */
    private readonly onBreak: (durationMs: number) => void = () => undefined,
    /** Whether a probe's error proved nothing (see breaker.policy.ts): the next break is the first's. */
    private readonly inconclusive: (error: unknown) => boolean = () => false,
  ) {}

  next(): IBackoff<Context> {
    return this.breakOf(Math.min(this.firstMs, this.maxMs), Date.now());
  }

  private breakOf(durationMs: number, openedAt: number): IBackoff<Context> {
    this.onBreak(durationMs);
    return {
      duration: durationMs,
      next: (context) => {
        const result = context.result;
        if ('error' in result && this.inconclusive(result.error)) {
          return this.breakOf(Math.min(this.firstMs, this.maxMs), openedAt);
        }
        const young = Date.now() - openedAt < this.steadyMs;
        return this.breakOf(young ? durationMs : Math.min(this.maxMs, durationMs * 2), openedAt);
      },
    };
  }
}
