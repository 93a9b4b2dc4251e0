/** One budget as a meter sees it: the provider's per-minute limit and what one unit may hold. */
export interface MeterBudget {
  /** The limit per minute (`rpm` or `tpm`). */
  perMinute: number;
  /** What the enforcement unit allows: the window, one interval, or the bucket's size. */
  capacity: number;
}

/** What a meter holds right now, in its own unit, for the `x-ratelimit-*` headers. */
export interface MeterUsage {
  used: number;
  remaining: number;
  /** Until the meter is back to its full allowance. */
  resetMs: number;
}

/**
 * Counts one dimension (requests or tokens) the way one enforcement mode does. Only admitted
 * requests are taken, so a refused request spends nothing, as with OpenAI and Azure.
 */
export interface RateMeter {
  /** Milliseconds until `amount` fits (0: now); the caller has ruled out what never fits. */
  waitFor(amount: number, budget: MeterBudget, now: number): number;
  /** Takes `amount`; the returned function corrects it once the real amount is known. */
  take(amount: number, budget: MeterBudget, now: number): (actual: number) => void;
  usage(budget: MeterBudget, now: number): MeterUsage;
}

interface LogEntry {
  at: number;
  amount: number;
}

/** A sliding window: whatever was admitted in the last `windowMs` counts (the minute of old). */
export class SlidingLogMeter implements RateMeter {
  private entries: LogEntry[] = [];

  constructor(private readonly windowMs: number) {}

  waitFor(amount: number, budget: MeterBudget, now: number): number {
    let used = this.used(now);
    if (used + amount <= budget.capacity) return 0;
    // The wait until enough of the oldest entries have left for the request to fit.
    for (const entry of this.entries) {
      used -= entry.amount;
      if (used + amount <= budget.capacity) return entry.at + this.windowMs - now;
    }
    return 0;
  }

  take(amount: number, _budget: MeterBudget, now: number): (actual: number) => void {
    const entry = { at: now, amount };
    this.entries.push(entry);
    return (actual) => (entry.amount = actual);
  }

  usage(budget: MeterBudget, now: number): MeterUsage {
    const used = this.used(now);
    const oldest = this.entries[0];
    const resetMs = oldest ? oldest.at + this.windowMs - now : 0;
    return { used, remaining: Math.max(0, budget.capacity - used), resetMs };
  }

  private used(now: number): number {
    // Entries are in arrival order, so the expired ones are a prefix.
    let expired = 0;
    while (expired < this.entries.length && this.entries[expired]!.at + this.windowMs <= now) {
      expired++;
    }
    if (expired > 0) this.entries.splice(0, expired);
    return this.entries.reduce((sum, entry) => sum + entry.amount, 0);
  }
}

/**
 * Fixed intervals aligned on the clock (`intervalMs` of 1 s or 10 s), as Azure OpenAI
 * "evaluates the rate of incoming requests over a small period of time, typically 1 or 10
 * seconds". An interval with nothing in it admits one request of any size, so a request larger
 * than one interval's share is slow, not impossible.
 */
export class FixedIntervalMeter implements RateMeter {
  private start = Number.NEGATIVE_INFINITY;
  private used = 0;

  constructor(private readonly intervalMs: number) {}

  waitFor(amount: number, budget: MeterBudget, now: number): number {
    this.roll(now);
    if (this.used === 0 || this.used + amount <= budget.capacity) return 0;
    return this.start + this.intervalMs - now;
  }

  take(amount: number, _budget: MeterBudget, now: number): (actual: number) => void {
    this.roll(now);
    this.used += amount;
    const start = this.start;
    return (actual) => {
      // A correction after the interval ended has nothing left to correct.
      if (this.start === start) this.used += actual - amount;
    };
  }

  usage(budget: MeterBudget, now: number): MeterUsage {
    this.roll(now);
    const remaining = Math.max(0, budget.capacity - this.used);
    return {
      used: this.used,
      remaining,
      resetMs: this.used > 0 ? this.start + this.intervalMs - now : 0,
    };
  }

  private roll(now: number): void {
    const start = Math.floor(now / this.intervalMs) * this.intervalMs;
    if (start === this.start) return;
    this.start = start;
    this.used = 0;
  }
}

/**
 * A token bucket: it holds up to `capacity` and refills continuously at the per-minute limit.
 * A request larger than the whole bucket is admitted once the bucket is full, leaving it in
 * debt, so it is slow, not impossible.
 */
export class TokenBucketMeter implements RateMeter {
  private level: number | undefined;
  private at = 0;

  waitFor(amount: number, budget: MeterBudget, now: number): number {
    const level = this.refill(budget, now);
    const needed = Math.min(amount, budget.capacity);
    if (level >= needed) return 0;
    return Math.ceil(((needed - level) * 60_000) / budget.perMinute);
  }

  take(amount: number, budget: MeterBudget, now: number): (actual: number) => void {
    this.level = this.refill(budget, now) - amount;
    return (actual) => {
      if (this.level !== undefined) this.level -= actual - amount;
    };
  }

  usage(budget: MeterBudget, now: number): MeterUsage {
    const level = this.refill(budget, now);
    const missing = budget.capacity - level;
    return {
      used: Math.max(0, missing),
      remaining: Math.max(0, Math.floor(level)),
      resetMs: Math.max(0, Math.ceil((missing * 60_000) / budget.perMinute)),
    };
  }

  private refill(budget: MeterBudget, now: number): number {
    const refilled =
      (this.level ?? budget.capacity) + ((now - this.at) * budget.perMinute) / 60_000;
    this.level = Math.min(budget.capacity, refilled);
    this.at = now;
    return this.level;
  }
}
