import { Injectable, OnModuleDestroy } from '@nestjs/common';
import {
  BatchObservableCallback,
  Counter,
  Histogram,
  Meter,
  metrics,
  ObservableGauge,
} from '@opentelemetry/api';
import {
  LLM_METRIC_ATTRIBUTES as ATTR,
  LLM_METRICS,
  WAIT_BUCKETS_S,
} from '../observability/llm-metric.names';
import { LLM_METER_NAME } from '../observability/llm-metrics';

/** How a job ended, as the outcome counter labels it. */
export type LlmJobOutcome = 'completed' | 'failed' | 'cancelled' | 'dead_lettered' | 'expired';

/** Why a job went back to the queue to wait. */
export type LlmJobRedeliveryReason = 'rate_limited' | 'circuit_open' | 'bulkhead_full' | 'failure';

/** Queue wait buckets (s): up to the default job deadline of an hour. */
const QUEUE_WAIT_BUCKETS_S = [...WAIT_BUCKETS_S, 120, 300, 600, 1800, 3600];

/** What the gauges read at collection time, refreshed in the background. */
export interface JobQueueReading {
  depth?: number;
  oldestAgeS?: number;
}

/**
 * Job metrics through the OpenTelemetry API, under the module's meter: queue depth and the age of
 * the oldest queued job (gauges, read from the broker and the state store in the background, so a
 * scrape never waits on either), outcomes, queue waits and redeliveries.
 */
@Injectable()
export class LlmJobsMetrics implements OnModuleDestroy {
  private readonly meter: Meter = metrics.getMeter(LLM_METER_NAME);
  private readonly depth: ObservableGauge;
  private readonly oldestAge: ObservableGauge;
  private readonly outcomes: Counter;
  private readonly queueWait: Histogram;
  private readonly redeliveries: Counter;
  private readonly stateWrites: Counter;
  private reading: JobQueueReading = {};

  constructor() {
    const m = this.meter;
    this.depth = m.createObservableGauge(LLM_METRICS.jobsQueueDepth, {
      description: 'Jobs ready in the durable queue, not yet taken by a worker.',
      unit: '{job}',
    });
    this.oldestAge = m.createObservableGauge(LLM_METRICS.jobsOldestAge, {
      description: 'Age of the oldest job still queued; 0 when none waits.',
      unit: 's',
    });
    this.outcomes = m.createCounter(LLM_METRICS.jobsOutcomes, {
      description: 'Jobs that ended, by llm.job.outcome.',
      unit: '{job}',
    });
    this.queueWait = m.createHistogram(LLM_METRICS.jobsQueueWait, {
      description: 'Time a job waited in the queue before a worker ran it.',
      unit: 's',
      advice: { explicitBucketBoundaries: QUEUE_WAIT_BUCKETS_S },
    });
    this.redeliveries = m.createCounter(LLM_METRICS.jobsRedeliveries, {
      description: 'Jobs put back in the queue to wait, by llm.job.redelivery_reason.',
      unit: '{job}',
    });
    this.stateWrites = m.createCounter(LLM_METRICS.jobsStateWrites, {
      description: 'Job state writes kept in memory while Redis was down (deferred) or dropped.',
      unit: '{write}',
    });
    m.addBatchObservableCallback(this.observe, [this.depth, this.oldestAge]);
  }

  /** The latest queue reading (the gauges report it at the next collection). */
  update(reading: JobQueueReading): void {
    this.reading = reading;
  }

  outcome(outcome: LlmJobOutcome): void {
    this.outcomes.add(1, { [ATTR.jobOutcome]: outcome });
  }

  waited(ms: number): void {
    this.queueWait.record(Math.max(ms, 0) / 1000);
  }

  redelivered(reason: LlmJobRedeliveryReason): void {
    this.redeliveries.add(1, { [ATTR.jobRedeliveryReason]: reason });
  }

  stateWrite(outcome: 'deferred' | 'dropped'): void {
    this.stateWrites.add(1, { [ATTR.jobStateWrite]: outcome });
  }

  onModuleDestroy(): void {
    this.meter.removeBatchObservableCallback(this.observe, [this.depth, this.oldestAge]);
  }

  private readonly observe: BatchObservableCallback = (result) => {
    const { depth, oldestAgeS } = this.reading;
    if (depth !== undefined) result.observe(this.depth, depth);
    if (oldestAgeS !== undefined) result.observe(this.oldestAge, oldestAgeS);
  };
}
