import type { BudgetDimension, BudgetNeed } from './budget.store';
import { amountOf, type Pacing } from './budget-pacing';

const DIMENSIONS: readonly BudgetDimension[] = ['requests', 'tokens'];

/**
 * The generic cell rate algorithm (GCRA, as redis-cell implements it) of one budget: per
 * dimension a single theoretical arrival time (TAT). An admission may go when `TAT − burst ≤ now`
 * and moves the TAT one emission interval per unit past `max(TAT, now)`; so admissions are spread
 * evenly, at most `burstMs` ahead of the schedule. The same algorithm runs in Redis.
 *
 * @example
 * const pacer = new GcraPacer();
 * if (pacer.wait(now, pacing).ms <= 0) pacer.charge(now, need, pacing);
 */
export class GcraPacer {
  private readonly tat: Record<BudgetDimension, number> = { requests: 0, tokens: 0 };
  /** The emission interval last charged per dimension: adjustments move the TAT by it. */
  private readonly emission: Record<BudgetDimension, number> = { requests: 0, tokens: 0 };

  /**
   * How long until an admission may go (≤ 0: now), and the dimension that decides.
   *
   * @param ahead what is to be admitted before it (calls waiting ahead in the queue)
   */
  wait(
    now: number,
    pacing: Pacing,
    ahead: BudgetNeed = { requests: 0, tokens: 0 },
  ): { ms: number; dimension: BudgetDimension } {
    let result = { ms: Number.NEGATIVE_INFINITY, dimension: 'requests' as BudgetDimension };
    for (const dimension of DIMENSIONS) {
      const pace = pacing[dimension];
      if (!pace) continue;
      const start = Math.max(this.tat[dimension], now);
      const ms = start + amountOf(ahead, dimension) * pace.emissionMs - pacing.burstMs - now;
      if (ms > result.ms) result = { ms, dimension };
    }
    return result;
  }

  /** Moves the schedule past an admission of `need`. */
  charge(now: number, need: BudgetNeed, pacing: Pacing): void {
    for (const dimension of DIMENSIONS) {
      const pace = pacing[dimension];
      if (!pace) continue;
      this.emission[dimension] = pace.emissionMs;
      this.tat[dimension] =
        Math.max(this.tat[dimension], now) + amountOf(need, dimension) * pace.emissionMs;
    }
  }

  /** Moves the schedule by what a reservation's correction adds (or, negative, gives back). */
  adjust(delta: BudgetNeed): void {
    for (const dimension of DIMENSIONS) {
      this.tat[dimension] += amountOf(delta, dimension) * this.emission[dimension];
    }
  }
}
