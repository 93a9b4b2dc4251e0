import { Injectable, OnModuleDestroy } from '@nestjs/common';
import { BatchObservableCallback, Meter, metrics, ObservableGauge } from '@opentelemetry/api';
import { LLM_METER_NAME } from '../observability/llm-metrics';
import { createInstruments, LlmInstruments } from '../observability/llm-metric.instruments';
import {
  ATTR_LLM_JOB_OUTCOME,
  ATTR_LLM_JOB_REDELIVERY_REASON,
  ATTR_LLM_JOB_STATE_WRITE,
} from '../observability/llm.semconv';

/** How a job ended, as the outcome counter labels it. */
export type LlmJobOutcome = 'completed' | 'failed' | 'cancelled' | 'dead_lettered' | 'expired';

/** Every outcome (a record, so the compiler sees one added to the union). */
const OUTCOMES: Record<LlmJobOutcome, true> = {
  completed: true,
  failed: true,
  cancelled: true,
  dead_lettered: true,
  expired: true,
};

/** Why a job went back to the queue to wait. */
/**
 * Why a job came back to the queue: a wait or a failure this module put back (the kinds), or
 * `unacked`: the broker redelivered a run never acked (its worker died, or lost its channel).
 */
export type LlmJobRedeliveryReason =
  'rate_limited' | 'circuit_open' | 'bulkhead_full' | 'failure' | 'unacked';

/** The instruments jobs record (declared in llm-metric.instruments.ts). */
const INSTRUMENTS = [
  'jobsQueueDepth',
  'jobsOldestAge',
  'jobsBrokerConnected',
  'jobsOutcomes',
  'jobsQueueWait',
  'jobsRedeliveries',
  'jobsStateWrites',
] as const;

/** What the gauges read at collection time, refreshed in the background. */
export interface JobQueueReading {
  depth?: number;
  oldestAgeS?: number;
}

/**
 * Job metrics through the OpenTelemetry API, under the module's meter: queue depth and the age of
 * the oldest queued job (gauges, read from the broker and the state store in the background, so a
 * scrape never waits on either), whether the broker connection is up (a gauge read from the
 * connection's state at collection), outcomes, queue waits and redeliveries.
 */
@Injectable()
export class LlmJobsMetrics implements OnModuleDestroy {
  private readonly meter: Meter = metrics.getMeter(LLM_METER_NAME);
  private readonly i: LlmInstruments<(typeof INSTRUMENTS)[number]>;
  private reading: JobQueueReading = {};
  /** Whether the broker connection is up, read at each collection (never connected: false). */
  private brokerConnected: () => boolean = () => false;

  constructor() {
    this.i = createInstruments(this.meter, INSTRUMENTS);
    // Each outcome's series exists from boot, at 0: Prometheus's increase() does not count the
    // first step of a series that appears at 1, so LlmJobsDeadLettered (alerts.jobs.yml) would
    // miss the first job a process dead-letters.
    for (const outcome of Object.keys(OUTCOMES) as LlmJobOutcome[]) {
      this.i.jobsOutcomes.add(0, { [ATTR_LLM_JOB_OUTCOME]: outcome });
    }
    this.meter.addBatchObservableCallback(this.observe, this.gauges());
  }

  /** The latest queue reading (the gauges report it at the next collection). */
  update(reading: JobQueueReading): void {
    this.reading = reading;
  }

  /**
   * Where the connection gauge reads the broker's state from, at each collection: no I/O, so it
   * reports a loss at the next scrape, not after the background refresh.
   */
  watchBroker(connected: () => boolean): void {
    this.brokerConnected = connected;
  }

  outcome(outcome: LlmJobOutcome): void {
    this.i.jobsOutcomes.add(1, { [ATTR_LLM_JOB_OUTCOME]: outcome });
  }

  waited(ms: number): void {
    this.i.jobsQueueWait.record(Math.max(ms, 0) / 1000);
  }

  redelivered(reason: LlmJobRedeliveryReason): void {
    this.i.jobsRedeliveries.add(1, { [ATTR_LLM_JOB_REDELIVERY_REASON]: reason });
  }

  stateWrite(outcome: 'deferred' | 'dropped'): void {
    this.i.jobsStateWrites.add(1, { [ATTR_LLM_JOB_STATE_WRITE]: outcome });
  }

  onModuleDestroy(): void {
    this.meter.removeBatchObservableCallback(this.observe, this.gauges());
  }

  private gauges(): ObservableGauge[] {
    return [this.i.jobsQueueDepth, this.i.jobsOldestAge, this.i.jobsBrokerConnected];
  }

  private readonly observe: BatchObservableCallback = (result) => {
    const { depth, oldestAgeS } = this.reading;
    if (depth !== undefined) result.observe(this.i.jobsQueueDepth, depth);
    if (oldestAgeS !== undefined) result.observe(this.i.jobsOldestAge, oldestAgeS);
    // Always a sample, 0 included: without a broker the queue gauges have none, and a rule on
    // the queue alone would never see the loss.
    result.observe(this.i.jobsBrokerConnected, this.brokerConnected() ? 1 : 0);
  };
}
