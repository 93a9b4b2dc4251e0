import {
  type BudgetCorrection,
  type BudgetLimits,
  type BudgetNeed,
  type BudgetStore,
  type BudgetTake,
  type TakeResult,
  windowGuardMs,
} from './budget.store';
import { pacingOf } from './budget-pacing';
import { PacedWindow } from './paced-window';
import type { WindowEntry } from './sliding-window.log';

/**
 * Budgets in this process. Alone (no Redis), or as the fallback of Redis, it cannot see the other
 * replicas, so it enforces `1/replicas` of every limit: the fair share that keeps N replicas
 * together under the provider's quota. Paced as the take says (see budget-pacing.ts); as the
 * fallback, with no burst allowance, since every replica falls back at once.
 */
export class MemoryBudgetStore implements BudgetStore {
  private readonly logs = new Map<string, PacedWindow>();
  private corrections = 0;

  /** @param markLocal mark admissions for copying to Redis later (when it is the fallback) */
  constructor(private readonly markLocal = false) {}

  take(key: string, take: BudgetTake): Promise<TakeResult> {
    return Promise.resolve(this.takeNow(key, take));
  }

  /** Synchronous `take`: the in-memory limiter needs no promise per check. */
  takeNow(key: string, take: BudgetTake, now = Date.now()): TakeResult {
    const limits = share(take.limits, take.replicas);
    const entry = { id: take.id, ...capped(take.need, limits), local: this.markLocal };
    return this.log(key).take(
      now,
      entry,
      limits,
      now + take.windowMs + windowGuardMs(take.windowMs),
      this.pacing(take, limits),
    );
  }

  peek(key: string, take: BudgetTake): Promise<TakeResult> {
    const limits = share(take.limits, take.replicas);
    const need = capped(take.need, limits);
    return Promise.resolve(this.log(key).peek(Date.now(), need, limits, this.pacing(take, limits)));
  }

  adjust(key: string, id: string, need: BudgetNeed): Promise<void> {
    this.logs.get(key)?.adjust(id, need);
    return Promise.resolve();
  }

  correct(
    key: string,
    correction: BudgetCorrection,
    _windowMs: number,
    replicas: number,
  ): Promise<void> {
    const now = Date.now();
    const log = this.log(key).window;
    const used = log.usage(now)[correction.dimension];
    // The provider counts every replica; this process only sees its own share of both.
    const ours = Math.floor(correction.limit / replicas) - used;
    const theirs = Math.floor(correction.remaining / replicas);
    if (ours > theirs) {
      const amount = ours - theirs;
      log.add({
        id: `provider:${++this.corrections}`,
        requests: correction.dimension === 'requests' ? amount : 0,
        tokens: correction.dimension === 'tokens' ? amount : 0,
        expiresAt: now + correction.resetMs,
        local: false,
      });
    }
    return Promise.resolve();
  }

  /**
   * Called when this replica leaves Redis, with the whole window's use as Redis last reported it:
   * holds back what its share would otherwise allow beyond its part of the room the window really
   * had. A replica below its share (another one above it) may then admit at most
   * `(limit − shared use) / replicas` until that window has passed, so all replicas together stay
   * under the limit across the switch; its own entries leaving the window free room as usual.
   */
  holdForOthers(key: string, take: BudgetTake, shared: BudgetNeed, sharedAt: number): void {
    const now = Date.now();
    const expiresAt = sharedAt + take.windowMs + windowGuardMs(take.windowMs);
    if (expiresAt <= now) return;
    const limits = share(take.limits, take.replicas);
    const log = this.log(key).window;
    const own = log.usage(now);
    const held = (
      dimension: keyof BudgetNeed,
      whole: number | undefined,
      part: number | undefined,
    ) => {
      if (whole === undefined || part === undefined) return 0;
      const room = Math.max(0, whole - shared[dimension]);
      return Math.max(0, part - own[dimension] - Math.floor(room / take.replicas));
    };
    const requests = held('requests', take.limits.rpm, limits.rpm);
    const tokens = held('tokens', take.limits.tpm, limits.tpm);
    if (requests === 0 && tokens === 0) return;
    log.add({ id: `others:${++this.corrections}`, requests, tokens, expiresAt, local: false });
  }

  /** What this process counts in a budget's window now. */
  usage(key: string, now = Date.now()): BudgetNeed {
    return this.logs.get(key)?.window.usage(now) ?? { requests: 0, tokens: 0 };
  }

  /**
   * Records an admission made elsewhere (Redis), so this store knows this replica's recent use:
   * its window, its interval and its place in the schedule of its share.
   */
  record(key: string, take: BudgetTake, now = Date.now()): void {
    const expiresAt = now + take.windowMs + windowGuardMs(take.windowMs);
    const log = this.log(key);
    // Nothing else may read a shadow log for a while: it must not grow without bound.
    log.window.prune(now);
    const limits = share(take.limits, take.replicas);
    log.admit(
      now,
      { id: take.id, ...take.need, local: false },
      expiresAt,
      this.pacing(take, limits),
    );
  }

  /** Per key, the admissions made while Redis was away that are still in their window. */
  localEntries(now = Date.now()): Array<{ key: string; entries: WindowEntry[] }> {
    return [...this.logs].map(([key, log]) => ({ key, entries: log.window.localEntries(now) }));
  }

  private log(key: string): PacedWindow {
    let log = this.logs.get(key);
    if (!log) this.logs.set(key, (log = new PacedWindow()));
    return log;
  }

  private pacing(take: BudgetTake, limits: BudgetLimits) {
    return pacingOf(limits, take.windowMs, take.intervalMs, !this.markLocal);
  }
}

/** This replica's share of each limit (at least 1, so a tiny budget still moves). */
export function share(limits: BudgetLimits, replicas: number): BudgetLimits {
  const part = (limit: number | undefined) =>
    limit === undefined ? undefined : Math.max(1, Math.floor(limit / replicas));
  return replicas === 1 ? limits : { rpm: part(limits.rpm), tpm: part(limits.tpm) };
}

/** A need larger than the whole budget takes the whole budget rather than waiting forever. */
export function capped(need: BudgetNeed, limits: BudgetLimits): BudgetNeed {
  return { requests: need.requests, tokens: Math.min(need.tokens, limits.tpm ?? need.tokens) };
}
