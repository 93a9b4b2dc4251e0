import {
  type Attributes,
  type BatchObservableCallback,
  metrics,
  type ObservableGauge,
} from '@opentelemetry/api';
import { LLM_METER_NAME } from '../observability/llm-metrics';
import { flushBeforeCollection, recordLater } from '../observability/metric-record.queue';
import { createInstruments, type LlmInstruments } from '../observability/llm-metric.instruments';
import { BoundedLabel } from '../observability/llm-metric.attributes';
import {
  ATTR_GEN_AI_REQUEST_MODEL,
  ATTR_LLM_LIMITER_DIMENSION,
  ATTR_LLM_LIMITER_REASON,
  ATTR_LLM_UPSTREAM,
} from '../observability/llm.semconv';
import type { RateBudget } from './rate-budget';
import type { RateLimitRejection } from './rate-limit.errors';

/** The model label of an upstream's shared budget (every model without its own). */
export const SHARED_BUDGET_MODEL = '*';

/** The instruments the limiter records. */
const INSTRUMENTS = [
  'limiterWait',
  'limiterRejections',
  'limiterFallbacks',
  'limiterEffectiveRate',
  'limiterWaiting',
  'limiterFallbackActive',
] as const;

/** What the gauges read at collection time. */
export interface LimiterState {
  budgets(): Iterable<RateBudget>;
  /** `undefined` without Redis: the gauge is only reported when Redis is configured. */
  fallbackActive(): boolean | undefined;
}

/**
 * The limiter's instruments (declared in llm-metric.instruments.ts), through the OpenTelemetry
 * API: wait per attempt, immediate rejections by reason, each budget's effective rate per minute,
 * calls waiting, and the Redis fallback. Labels are configured upstream and model names only.
 */
export class LimiterMetrics {
  private readonly meter = metrics.getMeter(LLM_METER_NAME);
  private readonly i: LlmInstruments<(typeof INSTRUMENTS)[number]>;
  /** Each budget's labels, built once: budgets live as long as the limiter. */
  private readonly labels = new WeakMap<RateBudget, Attributes>();
  /** Models of upstreams without a budget come from calls (a client's `model`): bounded. */
  private readonly heldModels = new BoundedLabel('gen_ai.request.model (llm.limiter)');

  constructor(private readonly state: LimiterState) {
    this.i = createInstruments(this.meter, INSTRUMENTS);
    this.meter.addBatchObservableCallback(this.observe, this.gauges());
    flushBeforeCollection(this.meter);
  }

  waited(budget: RateBudget, ms: number): void {
    // Recorded after the answer, like the call's own measurements (every attempt waits, if 0 ms).
    recordLater(this.i.limiterWait, ms / 1000, this.labelsOf(budget));
  }

  rejected(budget: RateBudget, reason: RateLimitRejection): void {
    this.i.limiterRejections.add(1, {
      ...this.labelsOf(budget),
      [ATTR_LLM_LIMITER_REASON]: reason,
    });
  }

  /** A call waited `ms` for an upstream's hold (see upstream-holds.ts), outside any budget. */
  heldFor(upstream: string, model: string, ms: number): void {
    recordLater(this.i.limiterWait, ms / 1000, this.holdLabels(upstream, model));
  }

  /** A call the upstream's hold rejected at once: the hold outlasts its deadline. */
  heldRejected(upstream: string, model: string): void {
    this.i.limiterRejections.add(1, {
      ...this.holdLabels(upstream, model),
      [ATTR_LLM_LIMITER_REASON]: 'upstream_hold' satisfies RateLimitRejection,
    });
  }

  fellBack(): void {
    this.i.limiterFallbacks.add(1);
  }

  /** Stops reporting: a closed module's budgets must not linger in a shared provider. */
  close(): void {
    this.meter.removeBatchObservableCallback(this.observe, this.gauges());
  }

  private gauges(): ObservableGauge[] {
    return [this.i.limiterEffectiveRate, this.i.limiterWaiting, this.i.limiterFallbackActive];
  }

  private holdLabels(upstream: string, model: string): Attributes {
    return {
      [ATTR_LLM_UPSTREAM]: upstream,
      [ATTR_GEN_AI_REQUEST_MODEL]: this.heldModels.value(model),
    };
  }

  private labelsOf(budget: RateBudget): Attributes {
    let labels = this.labels.get(budget);
    if (!labels) {
      labels = {
        [ATTR_LLM_UPSTREAM]: budget.config.upstream,
        [ATTR_GEN_AI_REQUEST_MODEL]: budget.config.model ?? SHARED_BUDGET_MODEL,
      };
      this.labels.set(budget, labels);
    }
    return labels;
  }

  private readonly observe: BatchObservableCallback = (result) => {
    for (const budget of this.state.budgets()) {
      const { rpm, tpm } = budget.limits();
      const perMinute = 60_000 / budget.config.windowMs;
      const base = this.labelsOf(budget);
      for (const [dimension, limit] of [
        ['requests', rpm],
        ['tokens', tpm],
      ] as const) {
        if (limit === undefined) continue;
        const attributes = { ...base, [ATTR_LLM_LIMITER_DIMENSION]: dimension };
        result.observe(this.i.limiterEffectiveRate, limit * perMinute, attributes);
      }
      result.observe(this.i.limiterWaiting, budget.waiting, base);
    }
    const active = this.state.fallbackActive();
    if (active !== undefined) result.observe(this.i.limiterFallbackActive, active ? 1 : 0);
  };
}
