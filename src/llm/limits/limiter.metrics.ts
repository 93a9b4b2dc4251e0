import {
  Attributes,
  BatchObservableCallback,
  Counter,
  Histogram,
  metrics,
  ObservableGauge,
} from '@opentelemetry/api';
import { GEN_AI } from '../observability/gen-ai.semconv';
import { LLM_METER_NAME } from '../observability/llm-metrics';
import {
  LLM_METRIC_ATTRIBUTES as ATTR,
  LLM_METRICS,
  WAIT_BUCKETS_S,
} from '../observability/llm-metric.names';
import type { RateBudget } from './rate-budget';
import type { RateLimitRejection } from './rate-limit.errors';

/** The model label of an upstream's shared budget (every model without its own). */
export const SHARED_BUDGET_MODEL = '*';

// From "no wait" to a minute, where budget waits live.

/** What the gauges read at collection time. */
export interface LimiterState {
  budgets(): Iterable<RateBudget>;
  /** `undefined` without Redis: the gauge is only reported when Redis is configured. */
  fallbackActive(): boolean | undefined;
}

/**
 * The limiter's instruments (names in llm-metric.names.ts), through the OpenTelemetry API: wait
 * per attempt, immediate rejections by reason, each budget's effective rate per minute, calls
 * waiting, and the Redis fallback. Labels are configured upstream and model names only.
 */
export class LimiterMetrics {
  private readonly meter = metrics.getMeter(LLM_METER_NAME);
  private readonly wait: Histogram;
  private readonly rejections: Counter;
  private readonly fallbacks: Counter;
  private readonly effectiveRate: ObservableGauge;
  private readonly waiting: ObservableGauge;
  private readonly fallbackActive: ObservableGauge;

  constructor(private readonly state: LimiterState) {
    const m = this.meter;
    this.wait = m.createHistogram(LLM_METRICS.limiterWait, {
      description: 'Time an attempt waited for rate-limit budget before it was sent.',
      unit: 's',
      advice: { explicitBucketBoundaries: WAIT_BUCKETS_S },
    });
    this.rejections = m.createCounter(LLM_METRICS.limiterRejections, {
      description: 'Calls the rate limiter rejected at once, by llm.limiter.reason.',
      unit: '{call}',
    });
    this.fallbacks = m.createCounter(LLM_METRICS.limiterFallbacks, {
      description: 'Times this replica fell back from Redis to its local share of the budgets.',
      unit: '{fallback}',
    });
    this.effectiveRate = m.createObservableGauge(LLM_METRICS.limiterEffectiveRate, {
      description:
        'Limit per minute in force for each budget; below the configured one after 429s.',
    });
    this.waiting = m.createObservableGauge(LLM_METRICS.limiterWaiting, {
      description: 'Calls waiting for rate-limit budget.',
      unit: '{call}',
    });
    this.fallbackActive = m.createObservableGauge(LLM_METRICS.limiterFallbackActive, {
      description: '1 while this replica counts budgets locally because Redis is unreachable.',
    });
    m.addBatchObservableCallback(this.observe, this.gauges());
  }

  waited(budget: RateBudget, ms: number): void {
    this.wait.record(ms / 1000, labels(budget));
  }

  rejected(budget: RateBudget, reason: RateLimitRejection): void {
    this.rejections.add(1, { ...labels(budget), [ATTR.limiterReason]: reason });
  }

  fellBack(): void {
    this.fallbacks.add(1);
  }

  /** Stops reporting: a closed module's budgets must not linger in a shared provider. */
  close(): void {
    this.meter.removeBatchObservableCallback(this.observe, this.gauges());
  }

  private gauges(): ObservableGauge[] {
    return [this.effectiveRate, this.waiting, this.fallbackActive];
  }

  private readonly observe: BatchObservableCallback = (result) => {
    for (const budget of this.state.budgets()) {
      const { rpm, tpm } = budget.limits();
      const perMinute = 60_000 / budget.config.windowMs;
      const base = labels(budget);
      for (const [dimension, limit] of [
        ['requests', rpm],
        ['tokens', tpm],
      ] as const) {
        if (limit === undefined) continue;
        const attributes = { ...base, [ATTR.limiterDimension]: dimension };
        result.observe(this.effectiveRate, limit * perMinute, attributes);
      }
      result.observe(this.waiting, budget.waiting, base);
    }
    const active = this.state.fallbackActive();
    if (active !== undefined) result.observe(this.fallbackActive, active ? 1 : 0);
  };
}

function labels(budget: RateBudget): Attributes {
  return {
    [ATTR.upstream]: budget.config.upstream,
    [GEN_AI.requestModel]: budget.config.model ?? SHARED_BUDGET_MODEL,
  };
}
