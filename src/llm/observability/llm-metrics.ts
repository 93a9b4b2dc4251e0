import { Inject, Injectable, OnModuleDestroy } from '@nestjs/common';
import { BatchObservableCallback, Meter, metrics, ObservableGauge } from '@opentelemetry/api';
import { CallRecord } from '../call/call-record';
import { LLM_RESOLVED_OPTIONS } from '../llm.constants';
import { ResolvedLlmOptions } from '../llm-module.options';
import { AttemptRecord, RetryRecord } from '../call/call-record.types';
import { BreakerState } from '../resilience/tracked-breaker';
import { UpstreamPoliciesRegistry } from '../resilience/upstream-policies.registry';
import { LlmCallObserver } from './llm-call-observer';
import { CallMetricAttributes, failedOperation } from './llm-metric.attributes';
import { createInstruments, LlmInstruments } from './llm-metric.instruments';
import {
  ATTR_GEN_AI_REQUEST_MODEL,
  ATTR_LLM_BREAKER_STATE,
  ATTR_LLM_UPSTREAM,
} from './llm.semconv';
import { LlmTelemetry } from './llm-telemetry';
import { addLater, flushBeforeCollection, recordLater } from './metric-record.queue';

/** The meter (instrumentation scope) the module records under. */
export const LLM_METER_NAME = 'nestjs-resilient-llm';

/** Every state a breaker gauge reports, so exactly one series per breaker reads 1. */
const BREAKER_STATES: readonly BreakerState[] = ['closed', 'open', 'half_open', 'isolated'];

/** The instruments this class records (declared in llm-metric.instruments.ts). */
const INSTRUMENTS = [
  'operationDuration',
  'tokenUsage',
  'calls',
  'attempts',
  'retries',
  'breakerWait',
  'breakerState',
  'bulkheadInUse',
  'bulkheadQueued',
] as const;

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
  private readonly attributes: CallMetricAttributes;
  private readonly i: LlmInstruments<(typeof INSTRUMENTS)[number]>;

  constructor(
    telemetry: LlmTelemetry,
    private readonly policies: UpstreamPoliciesRegistry,
    @Inject(LLM_RESOLVED_OPTIONS) options: ResolvedLlmOptions,
  ) {
    this.attributes = new CallMetricAttributes([...options.upstreams.values()]);
    this.i = createInstruments(this.meter, INSTRUMENTS);
    this.meter.addBatchObservableCallback(this.observe, this.gauges());
    flushBeforeCollection(this.meter);
    telemetry.register(this);
  }

  // The labels (bounded: their first values win) and the values are taken here, when the attempt,
  // retry or call ends; the SDK records them after the answer (metric-record.queue.ts).

  onAttemptEnd(call: CallRecord, attempt: AttemptRecord): void {
    addLater(this.i.attempts, 1, this.attributes.of(call).outcome(attempt.errorKind ?? 'success'));
  }

  onRetryScheduled(call: CallRecord, retry: RetryRecord): void {
    addLater(this.i.retries, 1, this.attributes.of(call).retry(retry.reason, retry.source));
  }

  onCallEnd(call: CallRecord): void {
    const kind = call.error?.kind;
    const labels = this.attributes.of(call);
    const response = labels.response(this.attributes.responseModel(call));
    recordLater(
      this.i.operationDuration,
      call.durationMs / 1000,
      kind ? failedOperation(response, kind) : response.operation,
    );
    addLater(this.i.calls, 1, labels.outcome(kind ?? 'success'));
    if (call.breakerWaitMs > 0) {
      recordLater(this.i.breakerWait, call.breakerWaitMs / 1000, labels.common);
    }
    const input = call.response?.inputTokens;
    const output = call.response?.outputTokens;
    if (input !== undefined) recordLater(this.i.tokenUsage, input, response.input);
    if (output !== undefined) recordLater(this.i.tokenUsage, output, response.output);
  }

  onModuleDestroy(): void {
    // A closed app's breakers and bulkheads must not keep reporting into a shared provider.
    this.meter.removeBatchObservableCallback(this.observe, this.gauges());
  }

  private gauges(): ObservableGauge[] {
    return [this.i.breakerState, this.i.bulkheadInUse, this.i.bulkheadQueued];
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
        result.observe(this.i.breakerState, current === state ? 1 : 0, {
          [ATTR_LLM_UPSTREAM]: upstream,
          [ATTR_GEN_AI_REQUEST_MODEL]: model,
          [ATTR_LLM_BREAKER_STATE]: state,
        });
      }
    }
    for (const usage of this.policies.bulkheadUsage()) {
      const attributes = { [ATTR_LLM_UPSTREAM]: usage.upstream };
      result.observe(this.i.bulkheadInUse, usage.inUse, attributes);
      result.observe(this.i.bulkheadQueued, usage.queued, attributes);
    }
  };
}
