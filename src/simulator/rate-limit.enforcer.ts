import {
  FixedIntervalMeter,
  SlidingLogMeter,
  TokenBucketMeter,
  type MeterBudget,
  type RateMeter,
} from './rate-limit.meter';
import type { SimEnforcement } from './simulator.types';

/** Every `SimEnforcement`, for validation and error messages. */
export const SIM_ENFORCEMENTS: readonly SimEnforcement[] = ['sliding', 'interval', 'bucket'];

/** The budgets in force and how they are counted; a missing or 0 limit is unlimited. */
export interface RateLimits {
  rpm?: number;
  tpm?: number;
  /**
   * `sliding`: `rpm`/`tpm` within any `windowMs`. `interval`: `limit × intervalMs / 60 000`
   * within each clock-aligned interval. `bucket`: a bucket of `limit × burstMs / 60 000`
   * refilled at the per-minute rate.
   */
  enforcement: SimEnforcement;
  windowMs: number;
  intervalMs: number;
  burstMs: number;
}

/** One dimension's state, for the `x-ratelimit-*` headers; `limit` is per minute. */
export interface DimensionSnapshot {
  limit: number;
  used: number;
  remaining: number;
  resetMs: number;
}

/** The state of every configured dimension right now. */
export interface RateSnapshot {
  limits: RateLimits;
  requests?: DimensionSnapshot;
  tokens?: DimensionSnapshot;
}

/** Why a request was refused; `waitMs` is undefined when it can never fit (too large). */
export interface RateRejection {
  dimension: 'requests' | 'tokens';
  /** The allowance of the enforcement unit (window, interval or bucket). */
  limit: number;
  used: number;
  requested: number;
  waitMs: number | undefined;
  snapshot: RateSnapshot;
}

/** An admitted request; its tokens are corrected with the real usage after the answer. */
export interface RateAdmission {
  settle(tokens: number): void;
}

type Dimension = 'requests' | 'tokens';

/**
 * Admits or refuses requests under `rpm`/`tpm` the way the configured mode does. Only admitted
 * requests are counted, so a refused request spends no budget, as with the providers.
 *
 * @example
 * const enforcer = new RateEnforcer(limits);
 * const rejection = enforcer.check(limits, 20);
 * if (!rejection) enforcer.admit(limits, 20).settle(usage.total_tokens);
 */
export class RateEnforcer {
  private readonly meters: Record<Dimension, RateMeter>;

  constructor(limits: RateLimits) {
    this.meters = { requests: newMeter(limits), tokens: newMeter(limits) };
  }

  /** Which limits this enforcer can serve; another key needs a fresh enforcer. */
  static keyOf(limits: RateLimits): string {
    if (limits.enforcement === 'sliding') return `sliding/${limits.windowMs}`;
    if (limits.enforcement === 'interval') return `interval/${limits.intervalMs}`;
    return 'bucket';
  }

  /** Refuses the request when it would exceed a limit now, without admitting it. */
  check(limits: RateLimits, requestedTokens: number, now = Date.now()): RateRejection | undefined {
    const wanted: Array<[Dimension, number | undefined, number]> = [
      ['requests', limits.rpm, 1],
      ['tokens', limits.tpm, requestedTokens],
    ];
    for (const [dimension, perMinute, amount] of wanted) {
      if (!perMinute) continue;
      const budget = budgetOf(limits, dimension, perMinute);
      const meter = this.meters[dimension];
      const waitMs = amount > perMinute ? undefined : meter.waitFor(amount, budget, now);
      if (waitMs === 0) continue;
      const snapshot = this.snapshot(limits, now);
      const usage = snapshot[dimension]!;
      if (waitMs !== undefined) snapshot[dimension] = { ...usage, remaining: 0, resetMs: waitMs };
      const used = Math.round(usage.used);
      return { dimension, limit: budget.capacity, used, requested: amount, waitMs, snapshot };
    }
    return undefined;
  }

  /** Admits a request with its estimated tokens. */
  admit(limits: RateLimits, tokens: number, now = Date.now()): RateAdmission {
    const take = (dimension: Dimension, perMinute: number | undefined, amount: number) =>
      perMinute
        ? this.meters[dimension].take(amount, budgetOf(limits, dimension, perMinute), now)
        : () => undefined;
    take('requests', limits.rpm, 1);
    return { settle: take('tokens', limits.tpm, tokens) };
  }

  /** Usage of every configured dimension right now. */
  snapshot(limits: RateLimits, now = Date.now()): RateSnapshot {
    const snapshot: RateSnapshot = { limits };
    for (const [dimension, perMinute] of [
      ['requests', limits.rpm],
      ['tokens', limits.tpm],
    ] as const) {
      if (!perMinute) continue;
      const usage = this.meters[dimension].usage(budgetOf(limits, dimension, perMinute), now);
      snapshot[dimension] = { limit: perMinute, ...usage };
    }
    return snapshot;
  }
}

function newMeter(limits: RateLimits): RateMeter {
  if (limits.enforcement === 'sliding') return new SlidingLogMeter(limits.windowMs);
  if (limits.enforcement === 'interval') return new FixedIntervalMeter(limits.intervalMs);
  return new TokenBucketMeter();
}

// A unit always allows one request, so a low limit with a short interval slows, never blocks.
function budgetOf(limits: RateLimits, dimension: Dimension, perMinute: number): MeterBudget {
  if (limits.enforcement === 'sliding') return { perMinute, capacity: perMinute };
  const spanMs = limits.enforcement === 'interval' ? limits.intervalMs : limits.burstMs;
  const share = (perMinute * spanMs) / 60_000;
  const capacity = dimension === 'requests' ? Math.max(1, Math.floor(share)) : share;
  return { perMinute, capacity };
}
