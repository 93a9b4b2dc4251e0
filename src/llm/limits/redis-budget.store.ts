import type { Redis } from 'ioredis';
import {
  type BudgetCorrection,
  type BudgetNeed,
  type BudgetStore,
  type BudgetTake,
  type TakeResult,
  windowGuardMs,
} from './budget.store';
import { pacingOf } from './budget-pacing';
import { ADJUST_SCRIPT, CORRECT_SCRIPT, IMPORT_SCRIPT, TAKE_SCRIPT } from './redis-budget.scripts';
import type { WindowEntry } from './sliding-window.log';

/** The scripts as ioredis commands (EVALSHA, with EVAL when Redis lost its script cache). */
interface BudgetCommands {
  llmBudgetTake(...args: Array<string | number>): Promise<number[]>;
  llmBudgetAdjust(...args: Array<string | number>): Promise<number>;
  llmBudgetCorrect(...args: Array<string | number>): Promise<number>;
  llmBudgetImport(...args: Array<string | number>): Promise<number>;
}

const COMMANDS: Record<keyof BudgetCommands, string> = {
  llmBudgetTake: TAKE_SCRIPT,
  llmBudgetAdjust: ADJUST_SCRIPT,
  llmBudgetCorrect: CORRECT_SCRIPT,
  llmBudgetImport: IMPORT_SCRIPT,
};

/** A provider correction added to a shared window, counted there until `until`. */
interface ProviderHold {
  requests: number;
  tokens: number;
  until: number;
}

const MAX_KEPT_HOLDS = 64;

/**
 * Budgets in Redis, shared by every replica that uses the same Redis, key prefix and upstream
 * names. One script call per operation, atomic per budget.
 */
export class RedisBudgetStore implements BudgetStore {
  private readonly commands: BudgetCommands;
  private readonly lastUsage = new Map<string, SharedUsage>();
  /**
   * The provider corrections this process added per budget, each counted only until the
   * provider's reset: {@link sharedUsage} leaves them out of what a fallback holds for a window.
   */
  private readonly corrections = new Map<string, ProviderHold[]>();

  constructor(
    client: Redis,
    private readonly keyPrefix: string,
  ) {
    for (const [name, lua] of Object.entries(COMMANDS)) {
      if (!(name in client)) client.defineCommand(name, { numberOfKeys: 4, lua });
    }
    this.commands = client as unknown as BudgetCommands;
  }

  async take(key: string, take: BudgetTake): Promise<TakeResult> {
    return this.takeOrPeek(key, take, true);
  }

  /**
   * What the shared window held at the last take or peek of `key` that Redis answered, without
   * the provider corrections this process added that were still counted then: those last until
   * the provider's reset (often under a second), and a fallback holds what it is given for a whole
   * window (it refused most calls for a minute after Redis went away).
   */
  sharedUsage(key: string): SharedUsage | undefined {
    const usage = this.lastUsage.get(key);
    if (!usage) return undefined;
    let requests = usage.requests;
    let tokens = usage.tokens;
    for (const hold of this.corrections.get(key) ?? []) {
      if (hold.until <= usage.at) continue;
      requests -= hold.requests;
      tokens -= hold.tokens;
    }
    return { requests: Math.max(0, requests), tokens: Math.max(0, tokens), at: usage.at };
  }

  async peek(key: string, take: BudgetTake): Promise<TakeResult> {
    return this.takeOrPeek(key, take, false);
  }

  async adjust(key: string, id: string, need: BudgetNeed): Promise<void> {
    await this.commands.llmBudgetAdjust(...this.keys(key), id, need.requests, need.tokens);
  }

  async correct(key: string, correction: BudgetCorrection, windowMs: number): Promise<void> {
    const { dimension, remaining, resetMs, limit } = correction;
    const id = `provider:${Date.now()}:${Math.random().toString(36).slice(2)}`;
    const dim = dimension === 'requests' ? 'r' : 't';
    const added = await this.commands.llmBudgetCorrect(
      ...this.keys(key),
      id,
      dim,
      remaining,
      Math.round(resetMs),
      limit,
      ttl(windowMs),
    );
    const now = Date.now();
    const holds = (this.corrections.get(key) ?? []).filter((hold) => hold.until > now);
    if (Number(added) > 0) {
      const amount = Number(added);
      holds.push({
        requests: dim === 'r' ? amount : 0,
        tokens: dim === 't' ? amount : 0,
        until: now + resetMs,
      });
    }
    // Bounded: only the live ones are kept, and at most the latest few.
    this.corrections.set(key, holds.slice(-MAX_KEPT_HOLDS));
  }

  /**
   * Adds entries admitted elsewhere (a replica on its own share while Redis was away), keeping the
   * time each has left in its window. When `take` (the budget's limits, window and interval) says
   * the budget is paced, those still in their pacing interval count in the interval too, and the
   * GCRA schedule replays them in admission order: a replica coming back to an empty Redis must
   * not let the next second carry its share twice.
   */
  async import(
    key: string,
    entries: WindowEntry[],
    take: Pick<BudgetTake, 'limits' | 'windowMs' | 'intervalMs'>,
    now = Date.now(),
  ): Promise<void> {
    if (entries.length === 0) return;
    const { windowMs } = take;
    const holdMs = windowMs + windowGuardMs(windowMs);
    const pacing = pacingOf(take.limits, windowMs, take.intervalMs, true);
    const args = [...entries]
      .sort((a, b) => a.expiresAt - b.expiresAt)
      .flatMap((e) => [
        e.id,
        e.requests,
        e.tokens,
        Math.max(1, e.expiresAt - now),
        Math.max(0, now - (e.expiresAt - holdMs)),
      ]);
    await this.commands.llmBudgetImport(
      ...this.keys(key),
      ttl(windowMs),
      pacing?.holdMs ?? 0,
      pacing?.requests?.emissionMs ?? 0,
      pacing?.tokens?.emissionMs ?? 0,
      ...args,
    );
  }

  private async takeOrPeek(key: string, take: BudgetTake, reserve: boolean): Promise<TakeResult> {
    const { need, limits, windowMs } = take;
    const pacing = pacingOf(limits, windowMs, take.intervalMs, true);
    const reply = await this.commands.llmBudgetTake(
      ...this.keys(key),
      take.id,
      need.requests,
      need.tokens,
      limits.rpm ?? 0,
      limits.tpm ?? 0,
      windowMs + windowGuardMs(windowMs),
      ttl(windowMs),
      reserve ? 1 : 0,
      pacing?.holdMs ?? 0,
      pacing?.requests?.cap ?? 0,
      pacing?.tokens?.cap ?? 0,
      pacing?.requests?.emissionMs ?? 0,
      pacing?.tokens?.emissionMs ?? 0,
      pacing?.burstMs ?? 0,
    );
    const [requests, tokens] = reply[0] === 1 ? reply.slice(1, 3) : reply.slice(4, 6);
    if (requests !== undefined && tokens !== undefined) {
      this.lastUsage.set(key, { requests, tokens, at: Date.now() });
    }
    if (reply[0] === 1) return { admitted: true };
    const waitMs = reply[1] ?? -1;
    return {
      admitted: false,
      waitMs: waitMs < 0 ? undefined : waitMs,
      dimension: reply[2] === 2 ? 'tokens' : 'requests',
      drainMs: reply[3] ?? 0,
    };
  }

  private keys(key: string): [string, string, string, string] {
    // One hash tag per budget: its keys land on the same cluster slot.
    const base = `${this.keyPrefix}{${key}}`;
    return [`${base}:log`, `${base}:amounts`, `${base}:used`, `${base}:interval`];
  }
}

/** The whole window's use (every replica's), as Redis last reported it, and when. */
export interface SharedUsage extends BudgetNeed {
  at: number;
}

/** Keys outlive their last entry a little, then vanish on their own when a budget goes idle. */
function ttl(windowMs: number): number {
  return 2 * windowMs + windowGuardMs(windowMs);
}
