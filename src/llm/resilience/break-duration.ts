import type { IBackoff, IBackoffFactory, IHalfOpenAfterBackoffContext } from 'cockatiel';

type Context = IHalfOpenAfterBackoffContext;

/**
 * How long the circuit stays open, as cockatiel's `halfOpenAfter` backoff: the first break lasts
 * `firstMs`, each failed probe doubles it, up to `maxMs`; a good probe closes the circuit and the
 * next opening starts short again. Polly's break-duration generator and Envoy's ejection multiplier
 * do the same: a blip costs seconds, a long outage is probed once per `maxMs`.
 *
 * No jitter: the duration in force is what `retryAfterMs`, health and the waiting calls read, so
 * it must be exact; one breaker per upstream and model has no herd to spread.
 *
 * @example
 * const durations = new BreakDurations(2_000, 30_000, (ms) => (current = ms));
 * circuitBreaker(handleAll, { halfOpenAfter: durations, breaker });
 */
export class BreakDurations implements IBackoffFactory<Context> {
  constructor(
    private readonly firstMs: number,
    private readonly maxMs: number,
    /** Told the duration of each break when cockatiel opens the circuit. */
    private readonly onBreak: (durationMs: number) => void = () => undefined,
  ) {}

  next(): IBackoff<Context> {
    return this.breakOf(Math.min(this.firstMs, this.maxMs));
  }

  private breakOf(durationMs: number): IBackoff<Context> {
    this.onBreak(durationMs);
    return {
      duration: durationMs,
      next: () => this.breakOf(Math.min(this.maxMs, durationMs * 2)),
    };
  }
}
