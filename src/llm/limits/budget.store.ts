/** Which side of a budget: requests or tokens per window. */
export type BudgetDimension = 'requests' | 'tokens';

/** What one attempt reserves. */
export interface BudgetNeed {
  requests: number;
  tokens: number;
}

/** Limits per window in force right now (adaptive rate applied); a missing one is unlimited. */
export interface BudgetLimits {
  rpm?: number;
  tpm?: number;
}

/** One reservation request against a budget. */
export interface BudgetTake {
  /** Unique id of the reservation: settling it later corrects its tokens. */
  id: string;
  need: BudgetNeed;
  limits: BudgetLimits;
  windowMs: number;
  /** The short interval admissions are paced over (0: not paced); see budget-pacing.ts. */
  intervalMs: number;
  /** Replicas sharing the quota: a store that cannot coordinate them takes this share only. */
  replicas: number;
}

/** Admitted, or how long until the need fits (`undefined`: not within one window). */
export type TakeResult =
  | { admitted: true }
  | {
      admitted: false;
      waitMs: number | undefined;
      /** The budget that was short. */
      dimension: BudgetDimension;
      /** Until every entry now in the window has left it. */
      drainMs: number;
    };

/** The provider's view of one budget, from `x-ratelimit-remaining-*` / `-reset-*`. */
export interface BudgetCorrection {
  dimension: BudgetDimension;
  remaining: number;
  resetMs: number;
  /** The limit the local view counts against (adaptive rate applied). */
  limit: number;
}

/**
 * Where budgets are counted: a sliding-window log per budget key, in memory or in Redis. Every
 * operation is atomic per key; none waits (waiting is the queue's job).
 */
export interface BudgetStore {
  /** Reserves the need when it fits both limits now; else says how long until it would. */
  take(key: string, take: BudgetTake): Promise<TakeResult>;
  /** Like `take`, without reserving: the wait before a need of this size would fit. */
  peek(key: string, take: BudgetTake): Promise<TakeResult>;
  /** Replaces what a reservation counts (0 and 0 release it). A gone reservation is ignored. */
  adjust(key: string, id: string, need: BudgetNeed): Promise<void>;
  /**
   * Lowers the local view to the provider's: when the provider says fewer remain than the store
   * counts, the difference is held until the provider's reset. Never raises the budget.
   */
  correct(
    key: string,
    correction: BudgetCorrection,
    windowMs: number,
    replicas: number,
  ): Promise<void>;
}

/**
 * How much longer than the window an entry is held: absorbs the jitter between this process
 * admitting a request and the provider counting it, so a provider that counts the same sliding
 * window never sees one request too many at the window's edge. 1 % of the window, at most 500 ms.
 */
export function windowGuardMs(windowMs: number): number {
  return Math.min(500, Math.ceil(windowMs / 100));
}
