/** A 429 that got through takes 5 % off the rate... */
const DECREASE_STEP = 0.05;
/** ...never below a tenth of the configured limit, so the budget keeps probing the provider. */
const MIN_FRACTION = 0.1;
/** Success with no 429 for a whole period adds 5 % of the configured limit back... */
const INCREASE_STEP = 0.05;
/** ...and a period is a sixtieth of the window: 1 s of a minute. */
const PERIODS_PER_WINDOW = 60;

/**
 * Additive-increase, multiplicative-decrease of one budget's rate, as TCP does with its window. A
 * 429 the provider sent although the limiter let the request through means the configured limit
 * may be above what the provider grants right now (limits set too high, or the key is shared with
 * another service). The rate drops by 5 %, at most once per period (1 s of a minute window), so it
 * falls in proportion to how often 429s come: a 429 every few seconds costs a few percent for a
 * second, while 429s every second halve the rate within 14 s. Each period of success without a
 * 429 adds 5 % of the limit back, so one provider hiccup is forgotten within a second or two.
 *
 * @example
 * const rate = new AdaptiveRate(60_000);
 * rate.throttled(Date.now()); // rate.fraction === 0.95
 */
export class AdaptiveRate {
  private current = 1;
  private lastDecreaseAt = Number.NEGATIVE_INFINITY;
  private quietSince = Number.NEGATIVE_INFINITY;
  private readonly periodMs: number;

  constructor(
    windowMs: number,
    private readonly enabled = true,
  ) {
    this.periodMs = windowMs / PERIODS_PER_WINDOW;
  }

  /** The share of the configured limits in force, from 0.1 to 1. */
  get fraction(): number {
    return this.current;
  }

  /** An upstream 429: 5 % less unless lowered within the last period. @returns whether it changed */
  throttled(now: number): boolean {
    if (!this.enabled) return false;
    this.quietSince = now;
    if (now - this.lastDecreaseAt < this.periodMs) return false;
    this.lastDecreaseAt = now;
    const next = Math.max(MIN_FRACTION, round(this.current * (1 - DECREASE_STEP)));
    const changed = next !== this.current;
    this.current = next;
    return changed;
  }

  /** A successful attempt: one step up after a whole period without 429. @returns whether it changed */
  succeeded(now: number): boolean {
    if (this.current >= 1 || now - this.quietSince < this.periodMs) return false;
    this.quietSince = now;
    this.current = Math.min(1, round(this.current + INCREASE_STEP));
    return true;
  }

  /** `limit` scaled by the current fraction, at least 1. */
  apply(limit: number | undefined): number | undefined {
    return limit === undefined ? undefined : Math.max(1, Math.floor(limit * this.current));
  }
}

/** Rounded: 0.95 + 0.05 must be exactly 1, not 0.9999… (one request short of the limit). */
function round(fraction: number): number {
  return Math.round(fraction * 10_000) / 10_000;
}
