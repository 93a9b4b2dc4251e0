import { Injectable, OnModuleDestroy } from '@nestjs/common';
import {
  BatchObservableCallback,
  Counter,
  Histogram,
  Meter,
  metrics,
  ObservableGauge,
} from '@opentelemetry/api';
import { ATTR_ERROR_TYPE } from '@opentelemetry/semantic-conventions';
import { CallRecord } from '../call/call-record';
import { AttemptRecord, RetryRecord } from '../call/call-record.types';
import { BreakerState } from '../resilience/tracked-breaker';
import { UpstreamPoliciesRegistry } from '../resilience/upstream-policies.registry';
import { GEN_AI } from './gen-ai.semconv';
import { LlmCallObserver } from './llm-call-observer';
import { CallMetricAttributes, GEN_AI_TOKEN_TYPE } from './llm-metric.attributes';
import {
  GEN_AI_DURATION_BUCKETS_S,
  WAIT_BUCKETS_S,
  GEN_AI_TOKEN_BUCKETS,
  LLM_METRIC_ATTRIBUTES as ATTR,
  LLM_METRICS,
} from './llm-metric.names';
import { LlmTelemetry } from './llm-telemetry';

/** The meter (instrumentation scope) the module records under. */
export const LLM_METER_NAME = 'nestjs-resilient-llm';

/** Every state a breaker gauge reports, so exactly one series per breaker reads 1. */
const BREAKER_STATES: readonly BreakerState[] = ['closed', 'open', 'half_open', 'isolated'];

/** Which state a series shared by several breakers shows: the worst. */
const SEVERITY: Record<BreakerState, number> = { closed: 0, half_open: 1, open: 2, isolated: 3 };

/**
 * Records calls, attempts, retries, breaker state and bulkhead saturation through the
 * OpenTelemetry metrics API (`@opentelemetry/api` only: the application chooses the SDK and the
 * exporter, e.g. Prometheus). The meter is taken when the module is created, so register the
 * SDK's MeterProvider before Nest boots; without one, recording is a no-op.
 *
 * @example
 * // main.ts: start the OpenTelemetry SDK with a metric reader first, then boot Nest.
 * new NodeSDK({ metricReaders: [new PrometheusExporter({ port: 9464 })] }).start();
 * const app = await NestFactory.create(AppModule);
 */
@Injectable()
export class LlmMetrics implements LlmCallObserver, OnModuleDestroy {
  private readonly meter: Meter = metrics.getMeter(LLM_METER_NAME);
  private readonly attributes = new CallMetricAttributes();
  private readonly duration: Histogram;
  private readonly tokens: Histogram;
  private readonly calls: Counter;
  private readonly attempts: Counter;
  private readonly retries: Counter;
  private readonly breakerWait: Histogram;
  private readonly breakerState: ObservableGauge;
  private readonly bulkheadInUse: ObservableGauge;
  private readonly bulkheadQueued: ObservableGauge;

  constructor(
    telemetry: LlmTelemetry,
    private readonly policies: UpstreamPoliciesRegistry,
  ) {
    const m = this.meter;
    this.duration = m.createHistogram(LLM_METRICS.operationDuration, {
      description: 'Duration of a logical LLM call, retries and waits included.',
      unit: 's',
      advice: { explicitBucketBoundaries: GEN_AI_DURATION_BUCKETS_S },
    });
    this.tokens = m.createHistogram(LLM_METRICS.tokenUsage, {
      description: 'Tokens used per LLM call, by gen_ai.token.type (input or output).',
      unit: '{token}',
      advice: { explicitBucketBoundaries: GEN_AI_TOKEN_BUCKETS },
    });
    this.calls = m.createCounter(LLM_METRICS.calls, {
      description: 'Logical LLM calls by outcome: success or the error kind the caller got.',
      unit: '{call}',
    });
    this.attempts = m.createCounter(LLM_METRICS.attempts, {
      description: 'Attempts that reached the upstream, by outcome.',
      unit: '{attempt}',
    });
    this.retries = m.createCounter(LLM_METRICS.retries, {
      description:
        'Retries scheduled, by the error kind that caused them and the source of the wait.',
      unit: '{retry}',
    });
    this.breakerWait = m.createHistogram(LLM_METRICS.breakerWait, {
      description: "Time a call waited for an open circuit's probe instead of failing at once.",
      unit: 's',
      advice: { explicitBucketBoundaries: WAIT_BUCKETS_S },
    });
    this.breakerState = m.createObservableGauge(LLM_METRICS.breakerState, {
      description: '1 for the effective state of each circuit breaker, 0 for its other states.',
    });
    this.bulkheadInUse = m.createObservableGauge(LLM_METRICS.bulkheadInUse, {
      description: 'Calls holding a bulkhead slot, per upstream.',
      unit: '{call}',
    });
    this.bulkheadQueued = m.createObservableGauge(LLM_METRICS.bulkheadQueued, {
      description: 'Calls waiting for a bulkhead slot, per upstream.',
      unit: '{call}',
    });
    m.addBatchObservableCallback(this.observe, this.gauges());
    telemetry.register(this);
  }

  onAttemptEnd(call: CallRecord, attempt: AttemptRecord): void {
    this.attempts.add(1, {
      ...this.attributes.common(call),
      [ATTR.outcome]: attempt.errorKind ?? 'success',
    });
  }

  onRetryScheduled(call: CallRecord, retry: RetryRecord): void {
    this.retries.add(1, {
      ...this.attributes.common(call),
      [ATTR.retryReason]: retry.reason,
      [ATTR.delaySource]: retry.source,
    });
  }

  onCallEnd(call: CallRecord): void {
    const kind = call.error?.kind;
    const operation = this.attributes.operation(call);
    this.duration.record(
      call.durationMs / 1000,
      kind ? { ...operation, [ATTR_ERROR_TYPE]: kind } : operation,
    );
    this.calls.add(1, { ...this.attributes.common(call), [ATTR.outcome]: kind ?? 'success' });
    if (call.breakerWaitMs > 0) {
      this.breakerWait.record(call.breakerWaitMs / 1000, this.attributes.common(call));
    }
    const usage = { input: call.response?.inputTokens, output: call.response?.outputTokens };
    for (const [type, count] of Object.entries(usage)) {
      if (count === undefined) continue;
      this.tokens.record(count, { ...operation, [GEN_AI_TOKEN_TYPE]: type });
    }
  }

  onModuleDestroy(): void {
    // A closed app's breakers and bulkheads must not keep reporting into a shared provider.
    this.meter.removeBatchObservableCallback(this.observe, this.gauges());
  }

  private gauges(): ObservableGauge[] {
    return [this.breakerState, this.bulkheadInUse, this.bulkheadQueued];
  }

  /**
   * One series per breaker, with the model label bounded like the calls' (past the bound, models
   * share `other`, which shows the worst state among them), so callers' model names cannot grow
   * `/metrics`.
   */
  private breakerSeries(): { upstream: string; model: string; state: BreakerState }[] {
    const series = new Map<string, { upstream: string; model: string; state: BreakerState }>();
    for (const breaker of this.policies.snapshots()) {
      const model = this.attributes.model(breaker.model);
      const key = `${breaker.upstream}\u0000${model}`;
      const seen = series.get(key);
      if (!seen || SEVERITY[breaker.state] > SEVERITY[seen.state]) {
        series.set(key, { upstream: breaker.upstream, model, state: breaker.state });
      }
    }
    return [...series.values()];
  }

  /** Reads breakers and bulkheads at collection time: the gauges exist before any call. */
  private readonly observe: BatchObservableCallback = (result) => {
    for (const { upstream, model, state: current } of this.breakerSeries()) {
      for (const state of BREAKER_STATES) {
        result.observe(this.breakerState, current === state ? 1 : 0, {
          [ATTR.upstream]: upstream,
          [GEN_AI.requestModel]: model,
          [ATTR.breakerState]: state,
        });
      }
    }
    for (const usage of this.policies.bulkheadUsage()) {
      const attributes = { [ATTR.upstream]: usage.upstream };
      result.observe(this.bulkheadInUse, usage.inUse, attributes);
      result.observe(this.bulkheadQueued, usage.queued, attributes);
    }
  };
}
