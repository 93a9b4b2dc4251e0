import { Logger } from '@nestjs/common';
import {
  type BudgetCorrection,
  type BudgetNeed,
  type BudgetStore,
  type BudgetTake,
  type TakeResult,
} from './budget.store';
import { type LimiterRedisConnection } from './limiter-redis.connection';
import { MemoryBudgetStore } from './memory-budget.store';
import { RedisBudgetStore } from './redis-budget.store';

/** How often a replica on its local share checks whether Redis answers again. */
const PROBE_INTERVAL_MS = 500;

/**
 * Budgets in Redis, with this replica's fair share in memory while Redis is unreachable. Every
 * Redis operation is bounded by `timeoutMs`; the first failure switches to the local store (one
 * warning), a probe and the connection's `ready` event switch back (one log line), after copying
 * what was admitted locally into Redis so the shared window, pacing interval and schedule know it
 * (else an emptied Redis would let the next interval carry this replica's share twice). The local
 * store shadows
 * every Redis admission, so a fallback starts with this replica's own recent use, not empty.
 */
export class FailoverBudgetStore implements BudgetStore {
  private readonly redis: RedisBudgetStore;
  private readonly local = new MemoryBudgetStore(true);
  /** Per budget, the last take: its limits, window and interval, for copying into Redis. */
  private readonly takes = new Map<string, BudgetTake>();
  /** Budgets whose local window already holds back for the others since the last fallback. */
  private readonly held = new Set<string>();
  private readonly logger = new Logger('LlmRateLimiter');
  private onLocal = false;
  private probe?: NodeJS.Timeout;
  private recovering = false;

  constructor(
    private readonly connection: LimiterRedisConnection,
    keyPrefix: string,
    private readonly timeoutMs: number,
    /** Told each time the store leaves Redis (metrics). */
    private readonly onFallback: () => void,
  ) {
    this.redis = new RedisBudgetStore(connection.client, keyPrefix);
    connection.client.on('ready', this.onReady);
  }

  /** True while budgets are counted locally (Redis unreachable). */
  get fallbackActive(): boolean {
    return this.onLocal;
  }

  async take(key: string, take: BudgetTake): Promise<TakeResult> {
    this.takes.set(key, take);
    const shared = await this.viaRedis(() => this.redis.take(key, take));
    if (shared === undefined) {
      this.holdForOthers(key, take);
      return this.local.take(key, take);
    }
    if (shared.admitted) this.local.record(key, take);
    return shared;
  }

  async peek(key: string, take: BudgetTake): Promise<TakeResult> {
    return (await this.viaRedis(() => this.redis.peek(key, take))) ?? this.local.peek(key, take);
  }

  async adjust(key: string, id: string, need: BudgetNeed): Promise<void> {
    await this.local.adjust(key, id, need);
    await this.viaRedis(() => this.redis.adjust(key, id, need));
  }

  async correct(
    key: string,
    correction: BudgetCorrection,
    windowMs: number,
    replicas: number,
  ): Promise<void> {
    // Redis counts at least this replica's own use, so its room is at most the limit minus that:
    // a provider that reports at least as much room changes nothing, and costs no round trip.
    const own = this.local.usage(key)[correction.dimension];
    if (correction.remaining >= correction.limit - own) return;
    const done = await this.viaRedis(async () => {
      await this.redis.correct(key, correction, windowMs);
      return true;
    });
    if (!done) await this.local.correct(key, correction, windowMs, replicas);
  }

  /**
   * Once per budget and fallback: the local share starts from what Redis last said the whole
   * window held, not only from this replica's own use, so a replica that used less than its share
   * does not add the difference on top of one that used more.
   */
  private holdForOthers(key: string, take: BudgetTake): void {
    if (this.held.has(key)) return;
    this.held.add(key);
    const shared = this.redis.sharedUsage(key);
    if (shared) this.local.holdForOthers(key, take, shared, shared.at);
  }

  /** Stops probing and listening; the connection itself is closed by its owner. */
  close(): void {
    clearInterval(this.probe);
    this.connection.client.off('ready', this.onReady);
  }

  /** The Redis result, or `undefined` when Redis is not usable (then the local store answers). */
  private async viaRedis<T>(operation: () => Promise<T>): Promise<T | undefined> {
    if (this.onLocal) return undefined;
    if (!this.connection.ready) {
      // With the last connection error: a refused password must read as such, not as an outage.
      this.fallBack(this.connection.notReadyReason);
      return undefined;
    }
    try {
      return await this.bounded(operation());
    } catch (error) {
      this.fallBack(error instanceof Error ? error.message : String(error));
      return undefined;
    }
  }

  private fallBack(reason: string): void {
    if (this.onLocal) return;
    this.onLocal = true;
    this.held.clear();
    this.logger.warn(
      `Redis at ${this.connection.address} ${describeRedisFailure(reason)} (${reason}): rate-limit ` +
        `budgets fall back to this replica's share (1/N of each, N the replicas alive as Redis last ` +
        `counted them, else limits.replicas) until Redis answers again.`,
    );
    this.onFallback();
    this.probe = setInterval(() => void this.tryRecover(), PROBE_INTERVAL_MS);
    this.probe.unref();
  }

  private readonly onReady = (): void => void this.tryRecover();

  /** Back to Redis once it answers, after handing it what was admitted here meanwhile. */
  private async tryRecover(): Promise<void> {
    if (!this.onLocal || this.recovering || !this.connection.ready) return;
    this.recovering = true;
    try {
      await this.bounded(this.connection.client.ping());
      for (const { key, entries } of this.local.localEntries()) {
        const take = this.takes.get(key) ?? { limits: {}, windowMs: 60_000, intervalMs: 0 };
        await this.bounded(this.redis.import(key, entries, take));
        for (const entry of entries) entry.local = false;
      }
      this.onLocal = false;
      clearInterval(this.probe);
      this.logger.log(
        `Redis at ${this.connection.address} answers again: rate-limit budgets are shared by ` +
          `every replica again.`,
      );
    } catch {
      // Still unreachable: the next probe or `ready` event tries again.
    } finally {
      this.recovering = false;
    }
  }

  private async bounded<T>(promise: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        promise,
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`no answer within ${this.timeoutMs} ms`)),
            this.timeoutMs,
          );
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }
}

/**
 * What a Redis failure means: a wrong or missing password is not an outage, and whoever reads
 * the log must fix the URL's credentials rather than wait for Redis.
 *
 * @example
 * describeRedisFailure('WRONGPASS invalid username-password pair'); // 'refused our credentials ...'
 */
export function describeRedisFailure(reason: string): string {
  if (/\b(WRONGPASS|NOAUTH|NOPERM)\b|invalid password|ERR AUTH/i.test(reason)) {
    return 'refused our credentials (check the user and password in the Redis URL)';
  }
  return 'is unreachable';
}
