/** A 429 that got through halves the rate... */
const DECREASE_FACTOR = 0.5;
/** ...never below a tenth of the configured limit, so the budget keeps probing the provider. */
const MIN_FRACTION = 0.1;
/** Sustained success adds back 5 % of the configured limit... */
const INCREASE_STEP = 0.05;
/** ...per twelfth of the window (5 s of a minute: from half back to whole in 50 s). */
const PERIODS_PER_WINDOW = 12;

/**
 * Additive-increase, multiplicative-decrease of one budget's rate, as TCP does with its window. A
 * 429 the provider sent although the limiter let the request through means the configured limit
 * is above what the provider grants right now (limits set too high, or the key is shared with
 * another service): the rate halves, at most once per period so one burst of 429s counts once.
 * Successes with no 429 for a whole period raise it by one step, back up to the configured limit.
 *
 * @example
 * const rate = new AdaptiveRate(60_000);
 * rate.throttled(Date.now()); // rate.fraction === 0.5
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

  /** An upstream 429: halves the rate unless it was just halved. @returns whether it changed */
  throttled(now: number): boolean {
    if (!this.enabled) return false;
    this.quietSince = now;
    if (now - this.lastDecreaseAt < this.periodMs) return false;
    this.lastDecreaseAt = now;
    const next = Math.max(MIN_FRACTION, this.current * DECREASE_FACTOR);
    const changed = next !== this.current;
    this.current = next;
    return changed;
  }

  /** A successful attempt: one step up after a whole period without 429. @returns whether it changed */
  succeeded(now: number): boolean {
    if (this.current >= 1 || now - this.quietSince < this.periodMs) return false;
    this.quietSince = now;
    // Rounded: 0.5 + 10 × 0.05 must be exactly 1, not 0.9999… (one request short of the limit).
    this.current = Math.min(1, Math.round((this.current + INCREASE_STEP) * 1000) / 1000);
    return true;
  }

  /** `limit` scaled by the current fraction, at least 1. */
  apply(limit: number | undefined): number | undefined {
    return limit === undefined ? undefined : Math.max(1, Math.floor(limit * this.current));
  }
}
