import { Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import type { CallRecord } from '../call/call-record';
import type { ResolvedLlmOptions } from '../llm-module.options';
import type { LlmCallObserver } from '../observability/llm-call-observer';
import type { LlmTelemetry } from '../observability/llm-telemetry';
import type { CallDeadline } from '../resilience/call-deadline';
import { isLlmError } from '../resilience/llm.errors';
import type { BudgetStore } from './budget.store';
import { FailoverBudgetStore } from './failover-budget.store';
import { LimiterRedisConnection } from './limiter-redis.connection';
import { LimiterMetrics } from './limiter.metrics';
import {
  type LlmRateLimiter,
  type RateLimitReservation,
  UnlimitedRateLimiter,
} from './llm-rate-limiter';
import { MemoryBudgetStore } from './memory-budget.store';
import { type RateBudget } from './rate-budget';
import { tooLargeError } from './rate-limit.errors';
import { type Budgets, budgetsOf } from './rate-budget.factory';
import { ReplicaRegistry } from './replica-registry';
import { ReservationSettler } from './reservation.settle';
import { estimateTokens, warmUpTokenizer } from './token-estimator';

/**
 * The limiter when budgets are configured: RPM/TPM per upstream (and per model), FIFO waits
 * within the deadline, reconciliation with the real usage and the provider's headers, adaptive
 * rate; in memory, or in Redis with a local fallback. Also a call observer: a stream's usage is
 * only known when the call ends.
 */
export class BudgetRateLimiter
  implements LlmRateLimiter, LlmCallObserver, OnModuleInit, OnModuleDestroy
{
  private readonly logger = new Logger('LlmRateLimiter');
  private readonly connection?: LimiterRedisConnection;
  private readonly store: BudgetStore;
  private readonly failover?: FailoverBudgetStore;
  private readonly registry?: ReplicaRegistry;
  private readonly budgets: Budgets;
  private readonly metrics: LimiterMetrics;
  /** Calls to upstreams and models without a budget: at once, unless held after a 429. */
  private readonly unbudgeted: UnlimitedRateLimiter;
  private readonly estimates = new WeakMap<CallRecord, { model: string; tokens: number }>();
  private readonly settler = new ReservationSettler((error) => this.warnOnce(error));
  // Ids unique across replicas: they share one Redis log.
  private readonly idPrefix = randomBytes(6).toString('base64url');
  private sequence = 0;
  private warnedFailure = false;

  constructor(options: ResolvedLlmOptions, telemetry: LlmTelemetry) {
    this.metrics = new LimiterMetrics({
      budgets: () => this.budgets.all(),
      fallbackActive: () => this.failover?.fallbackActive,
    });
    this.unbudgeted = new UnlimitedRateLimiter(this.metrics);
    const redis = options.redis;
    if (redis) {
      this.connection = new LimiterRedisConnection(redis);
      this.failover = new FailoverBudgetStore(
        this.connection,
        redis.keyPrefix,
        redis.timeoutMs,
        () => this.metrics.fellBack(),
      );
      this.registry = new ReplicaRegistry(this.connection.client, redis.keyPrefix, this.idPrefix);
    }
    this.store = this.failover ?? new MemoryBudgetStore();
    this.budgets = budgetsOf(
      options,
      this.store,
      (budget, reason) => this.metrics.rejected(budget, reason),
      () => this.registry?.count,
    );
    telemetry.register(this);
  }

  async onModuleInit(): Promise<void> {
    // About 150 ms once, at boot rather than on the first call that needs a token estimate.
    if ([...this.budgets.all()].some((budget) => budget.config.tpm !== undefined)) {
      warmUpTokenizer();
    }
    await this.connection?.connect();
    await this.registry?.start();
  }

  async onModuleDestroy(): Promise<void> {
    for (const budget of this.budgets.all()) budget.close();
    this.unbudgeted.onModuleDestroy();
    this.failover?.close();
    await this.registry?.stop();
    this.metrics.close();
    await this.connection?.close();
  }

  async acquire(call: CallRecord, deadline: CallDeadline): Promise<RateLimitReservation> {
    const budget = this.budgets.for(call.upstream.name, call.model);
    if (!budget) return this.unbudgeted.acquire(call, deadline);
    const startedAt = Date.now();
    const tokens = budget.config.tpm === undefined ? 0 : this.estimate(call, budget);
    if (budget.config.tpm !== undefined && tokens > budget.config.tpm) {
      this.metrics.rejected(budget, 'too_large');
      throw tooLargeError(budget.config, call.model, tokens);
    }
    const id = `${this.idPrefix}:${++this.sequence}`;
    const context = {
      upstream: call.upstream.name,
      model: call.model,
      attempts: call.attemptCount,
    };
    try {
      await budget.acquire(id, { requests: 1, tokens }, deadline, context);
    } catch (error) {
      if (isLlmError(error)) throw error;
      // The limiter must never break a call: an unexpected failure lets the attempt go.
      this.warnOnce(error);
      return this.unbudgeted.free;
    }
    const waitedMs = Date.now() - startedAt;
    this.metrics.waited(budget, waitedMs);
    return {
      waitedMs,
      settle: (record, attempt) =>
        this.settler.settle({ budget, id, estimate: tokens }, record, attempt),
      release: () =>
        void budget
          .adjust(id, { requests: 0, tokens: 0 }, true)
          .catch((error) => this.warnOnce(error)),
    };
  }

  onCallEnd(call: CallRecord): void {
    this.settler.callEnded(call);
  }

  private estimate(call: CallRecord, budget: RateBudget): number {
    const cached = this.estimates.get(call);
    if (cached?.model === call.model) return cached.tokens;
    const tokens = estimateTokens(call.request, call.model, budget.config.completionTokens);
    this.estimates.set(call, { model: call.model, tokens });
    return tokens;
  }

  private warnOnce(error: unknown): void {
    if (this.warnedFailure) return;
    this.warnedFailure = true;
    this.logger.warn(`The rate limiter failed and let the attempt through: ${String(error)}`);
  }
}
