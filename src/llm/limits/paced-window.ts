import type { BudgetDimension, BudgetLimits, BudgetNeed, TakeResult } from './budget.store';
import { intervalLimits, type Pacing } from './budget-pacing';
import { GcraPacer } from './gcra.pacer';
import { SlidingWindowLog, type WindowEntry } from './sliding-window.log';

type Entry = Omit<WindowEntry, 'expiresAt'>;

/**
 * One budget in memory: the window's exact log (the minute's budget), and when paced, a log of the
 * last interval (no interval admits more than its share) and the GCRA schedule that spreads
 * admissions within it. redis-budget.scripts.ts runs the same checks in Redis.
 */
export class PacedWindow {
  readonly window = new SlidingWindowLog();
  private readonly interval = new SlidingWindowLog();
  private readonly pacer = new GcraPacer();

  /** Admits `entry` when the window, the interval and the schedule all allow it now. */
  take(
    now: number,
    entry: Entry,
    limits: BudgetLimits,
    expiresAt: number,
    pacing: Pacing | undefined,
  ): TakeResult {
    const result = this.check(now, entry, limits, pacing);
    if (result.admitted) this.admit(now, entry, expiresAt, pacing);
    return result;
  }

  /**
   * The wait before `total` (the calls ahead in the queue and this one) would be admitted: the
   * window's room for all of them, and one emission interval per request ahead. Behind others the
   * burst allowance is not counted: a backlog drains at the schedule's pace, and where the
   * interval admits one request (a limit under 120 per minute) the allowance never applies.
   */
  peek(now: number, total: BudgetNeed, limits: BudgetLimits, pacing?: Pacing): TakeResult {
    const result = this.window.peek(now, total, limits);
    if (!pacing) return result;
    const ahead = { requests: Math.max(0, total.requests - 1), tokens: 0 };
    const pace = this.pacer.wait(
      now,
      ahead.requests > 0 ? { ...pacing, burstMs: 0 } : pacing,
      ahead,
    );
    return combine(result, [], pace);
  }

  /** Counts an admission whatever the limits (a shadow of one Redis made). */
  admit(now: number, entry: Entry, expiresAt: number, pacing: Pacing | undefined): void {
    this.window.add({ ...entry, expiresAt });
    if (!pacing) return;
    this.interval.prune(now);
    this.interval.add({ ...entry, expiresAt: now + pacing.holdMs });
    this.pacer.charge(now, entry, pacing);
  }

  /** Replaces what a reservation counts in the window, the interval and the schedule. */
  adjust(id: string, need: BudgetNeed): void {
    const before = this.window.amount(id);
    if (!before || !this.window.adjust(id, need)) return;
    this.interval.adjust(id, need);
    this.pacer.adjust({
      requests: need.requests - before.requests,
      tokens: need.tokens - before.tokens,
    });
  }

  private check(
    now: number,
    need: BudgetNeed,
    limits: BudgetLimits,
    pacing: Pacing | undefined,
  ): TakeResult {
    const result = this.window.peek(now, need, limits);
    if (!pacing) return result;
    const caps = intervalLimits(pacing);
    // A request larger than the interval's share takes the whole interval, then waits its turn in
    // the schedule, rather than never fitting.
    const fitted = {
      requests: need.requests,
      tokens: Math.min(need.tokens, caps.tpm ?? need.tokens),
    };
    const interval = this.interval.peek(now, fitted, caps);
    return combine(result, [interval], this.pacer.wait(now, pacing));
  }
}

/**
 * Admitted when the window, every other check and the schedule allow it; else the longest wait
 * among them (a need beyond the window's room stays "not within one window").
 */
function combine(
  window: TakeResult,
  others: TakeResult[],
  pace: { ms: number; dimension: BudgetDimension },
): TakeResult {
  const short = [window, ...others].filter(
    (r): r is Exclude<TakeResult, { admitted: true }> => !r.admitted,
  );
  if (short.length === 0 && pace.ms <= 0) return { admitted: true };
  if (!window.admitted && window.waitMs === undefined) return window;
  let waitMs = Math.max(0, Math.ceil(pace.ms));
  let dimension = pace.dimension;
  for (const result of short) {
    if ((result.waitMs ?? 0) > waitMs) ({ waitMs = 0, dimension } = result);
  }
  const drainMs = Math.max(window.admitted ? 0 : window.drainMs, waitMs);
  return { admitted: false, waitMs, dimension, drainMs };
}
