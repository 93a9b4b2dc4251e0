import type { BudgetDimension, BudgetLimits, BudgetNeed, TakeResult } from './budget.store';

/** One reservation in the window, until `expiresAt`. */
export interface WindowEntry extends BudgetNeed {
  id: string;
  expiresAt: number;
  /** Admitted by this process while it could not use Redis: to be copied there when it is back. */
  local: boolean;
}

/**
 * The exact sliding window of one budget: every reservation is kept until it leaves the window,
 * with running sums, so a request is admitted only if the last window (not a fixed minute) holds
 * room for it. The same algorithm runs in Redis (redis-budget.scripts.ts).
 */
export class SlidingWindowLog {
  /** Sorted by `expiresAt`, oldest first. */
  private entries: WindowEntry[] = [];
  private readonly byId = new Map<string, WindowEntry>();
  private used: BudgetNeed = { requests: 0, tokens: 0 };

  /** Admits the need when both limits leave room, else says how long until they would. */
  take(
    now: number,
    entry: Omit<WindowEntry, 'expiresAt'>,
    limits: BudgetLimits,
    expiresAt: number,
  ): TakeResult {
    const result = this.peek(now, entry, limits);
    if (result.admitted) this.add({ ...entry, expiresAt });
    return result;
  }

  /** The wait before `need` fits, without reserving it. */
  peek(now: number, need: BudgetNeed, limits: BudgetLimits): TakeResult {
    this.prune(now);
    let requests = excess(this.used.requests + need.requests, limits.rpm);
    let tokens = excess(this.used.tokens + need.tokens, limits.tpm);
    if (requests <= 0 && tokens <= 0) return { admitted: true };
    const drainMs = (this.entries.at(-1)?.expiresAt ?? now) - now;
    let dimension: BudgetDimension = requests > 0 ? 'requests' : 'tokens';
    for (const entry of this.entries) {
      requests -= entry.requests;
      tokens -= entry.tokens;
      if (requests <= 0 && tokens <= 0) {
        return { admitted: false, waitMs: entry.expiresAt - now, dimension, drainMs };
      }
      // The dimension still short after this entry is the one that decides the wait.
      dimension = tokens > 0 ? 'tokens' : 'requests';
    }
    return { admitted: false, waitMs: undefined, dimension, drainMs };
  }

  /** Adds an entry whatever the limits (a shadow of Redis, or the provider's own count). */
  add(entry: WindowEntry): void {
    let at = this.entries.length;
    while (at > 0 && this.entries[at - 1]!.expiresAt > entry.expiresAt) at--;
    this.entries.splice(at, 0, entry);
    this.byId.set(entry.id, entry);
    this.used.requests += entry.requests;
    this.used.tokens += entry.tokens;
  }

  /** Replaces what an entry counts; ignored when it already left the window. */
  adjust(id: string, need: BudgetNeed): boolean {
    const entry = this.byId.get(id);
    if (!entry) return false;
    this.used.requests += need.requests - entry.requests;
    this.used.tokens += need.tokens - entry.tokens;
    entry.requests = need.requests;
    entry.tokens = need.tokens;
    return true;
  }

  /** What an entry counts now, or `undefined` once it left the window. */
  amount(id: string): BudgetNeed | undefined {
    const entry = this.byId.get(id);
    return entry && { requests: entry.requests, tokens: entry.tokens };
  }

  /** What the window holds now. */
  usage(now: number): BudgetNeed {
    this.prune(now);
    return { ...this.used };
  }

  /** Entries admitted locally that are still in the window (live: clear `local` once copied). */
  localEntries(now: number): WindowEntry[] {
    this.prune(now);
    return this.entries.filter((entry) => entry.local);
  }

  get size(): number {
    return this.entries.length;
  }

  /** Drops the entries that left the window by `now`. */
  prune(now: number): void {
    let expired = 0;
    while (expired < this.entries.length && this.entries[expired]!.expiresAt <= now) {
      const entry = this.entries[expired++]!;
      this.byId.delete(entry.id);
      this.used.requests -= entry.requests;
      this.used.tokens -= entry.tokens;
    }
    if (expired > 0) this.entries.splice(0, expired);
  }
}

function excess(total: number, limit: number | undefined): number {
  return limit === undefined ? Number.NEGATIVE_INFINITY : total - limit;
}
