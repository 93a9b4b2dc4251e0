import type { Counter, Histogram, Meter, ObservableGauge } from '@opentelemetry/api';
import * as S from './llm.semconv';

/** Bucket boundaries of the wait histograms (s): from a few ms to a default open period and past it. */
export const WAIT_BUCKETS_S = [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/** Queue wait buckets (s): up to the default job deadline of an hour. */
export const QUEUE_WAIT_BUCKETS_S = [...WAIT_BUCKETS_S, 120, 300, 600, 1800, 3600];

/** Bucket boundaries the GenAI semantic conventions advise for the two histograms. */
export const GEN_AI_DURATION_BUCKETS_S = [
  0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92,
];
export const GEN_AI_TOKEN_BUCKETS = [
  1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864,
];

type Kind = 'counter' | 'histogram' | 'gauge';

/** One instrument: what it is called, what it counts, in which unit and buckets. */
interface InstrumentSpec {
  name: string;
  kind: Kind;
  unit?: string;
  description: string;
  /** Explicit bucket boundaries (histograms only). */
  buckets?: number[];
}

/**
 * Every instrument the module records, declared once: `createInstruments` builds them from here,
 * and dashboards and alert rules depend on the names. In Prometheus (exporter-prometheus 0.301),
 * dots become underscores and counters get `_total`; units only appear in `# UNIT` lines
 * (`gen_ai.client.operation.duration` → `gen_ai_client_operation_duration_bucket`).
 */
export const LLM_INSTRUMENTS = {
  operationDuration: {
    name: S.METRIC_GEN_AI_CLIENT_OPERATION_DURATION,
    kind: 'histogram',
    unit: 's',
    buckets: GEN_AI_DURATION_BUCKETS_S,
    description: 'Duration of a logical LLM call, retries and waits included.',
  },
  tokenUsage: {
    name: S.METRIC_GEN_AI_CLIENT_TOKEN_USAGE,
    kind: 'histogram',
    unit: '{token}',
    buckets: GEN_AI_TOKEN_BUCKETS,
    description: 'Tokens used per LLM call, by gen_ai.token.type (input or output).',
  },
  calls: {
    name: S.METRIC_LLM_CLIENT_CALLS,
    kind: 'counter',
    unit: '{call}',
    description: 'Logical LLM calls by outcome: success or the error kind the caller got.',
  },
  attempts: {
    name: S.METRIC_LLM_CLIENT_ATTEMPTS,
    kind: 'counter',
    unit: '{attempt}',
    description: 'Attempts that reached the upstream, by outcome.',
  },
  retries: {
    name: S.METRIC_LLM_CLIENT_RETRIES,
    kind: 'counter',
    unit: '{retry}',
    description:
      'Retries scheduled, by the error kind that caused them and the source of the wait.',
  },
  breakerWait: {
    name: S.METRIC_LLM_BREAKER_WAIT,
    kind: 'histogram',
    unit: 's',
    buckets: WAIT_BUCKETS_S,
    description: "Time a call waited for an open circuit's probe instead of failing at once.",
  },
  breakerState: {
    name: S.METRIC_LLM_BREAKER_STATE,
    kind: 'gauge',
    description: '1 for the effective state of each circuit breaker, 0 for its other states.',
  },
  bulkheadInUse: {
    name: S.METRIC_LLM_BULKHEAD_IN_USE,
    kind: 'gauge',
    unit: '{call}',
    description: 'Calls holding a bulkhead slot, per upstream.',
  },
  bulkheadQueued: {
    name: S.METRIC_LLM_BULKHEAD_QUEUED,
    kind: 'gauge',
    unit: '{call}',
    description: 'Calls waiting for a bulkhead slot, per upstream.',
  },
  eventsExported: {
    name: S.METRIC_LLM_EVENTS_EXPORTED,
    kind: 'counter',
    unit: '{event}',
    description: 'Business events accepted by Elasticsearch.',
  },
  eventsDropped: {
    name: S.METRIC_LLM_EVENTS_DROPPED,
    kind: 'counter',
    unit: '{event}',
    description: 'Business events dropped before reaching Elasticsearch, by reason.',
  },
  limiterWait: {
    name: S.METRIC_LLM_LIMITER_WAIT,
    kind: 'histogram',
    unit: 's',
    buckets: WAIT_BUCKETS_S,
    description:
      "Time an attempt waited for rate-limit budget, or for its upstream's 429 hold, before it was sent.",
  },
  limiterRejections: {
    name: S.METRIC_LLM_LIMITER_REJECTIONS,
    kind: 'counter',
    unit: '{call}',
    description: 'Calls the rate limiter rejected at once, by llm.limiter.reason.',
  },
  limiterEffectiveRate: {
    name: S.METRIC_LLM_LIMITER_EFFECTIVE_RATE,
    kind: 'gauge',
    description: 'Limit per minute in force for each budget; below the configured one after 429s.',
  },
  limiterWaiting: {
    name: S.METRIC_LLM_LIMITER_WAITING,
    kind: 'gauge',
    unit: '{call}',
    description: 'Calls waiting for rate-limit budget.',
  },
  limiterFallbackActive: {
    name: S.METRIC_LLM_LIMITER_FALLBACK_ACTIVE,
    kind: 'gauge',
    description: '1 while this replica counts budgets locally because Redis is unreachable.',
  },
  limiterFallbacks: {
    name: S.METRIC_LLM_LIMITER_FALLBACKS,
    kind: 'counter',
    unit: '{fallback}',
    description: 'Times this replica fell back from Redis to its local share of the budgets.',
  },
  jobsQueueDepth: {
    name: S.METRIC_LLM_JOBS_QUEUE_DEPTH,
    kind: 'gauge',
    unit: '{job}',
    description: 'Jobs ready in the durable queue, not yet taken by a worker.',
  },
  jobsOldestAge: {
    name: S.METRIC_LLM_JOBS_QUEUE_OLDEST_AGE,
    kind: 'gauge',
    unit: 's',
    description: 'Age of the oldest job still queued; 0 when none waits.',
  },
  jobsBrokerConnected: {
    name: S.METRIC_LLM_JOBS_BROKER_CONNECTED,
    kind: 'gauge',
    description:
      '1 while this process is connected to RabbitMQ with its confirm channel open (enqueues are confirmed), 0 otherwise, from boot until the first connection too.',
  },
  jobsOutcomes: {
    name: S.METRIC_LLM_JOBS_OUTCOMES,
    kind: 'counter',
    unit: '{job}',
    description: 'Jobs that ended, by llm.job.outcome.',
  },
  jobsQueueWait: {
    name: S.METRIC_LLM_JOBS_QUEUE_WAIT,
    kind: 'histogram',
    unit: 's',
    buckets: QUEUE_WAIT_BUCKETS_S,
    description: 'Time a job waited in the queue before a worker ran it.',
  },
  jobsRedeliveries: {
    name: S.METRIC_LLM_JOBS_REDELIVERIES,
    kind: 'counter',
    unit: '{job}',
    description:
      'Jobs put back in the queue to wait, or redelivered by the broker after a run never acked (unacked), by llm.job.redelivery_reason.',
  },
  jobsStateWrites: {
    name: S.METRIC_LLM_JOBS_STATE_DEFERRED_WRITES,
    kind: 'counter',
    unit: '{write}',
    description: 'Job state writes kept in memory while Redis was down (deferred) or dropped.',
  },
} as const satisfies Record<string, InstrumentSpec>;

export type LlmInstrumentKey = keyof typeof LLM_INSTRUMENTS;

/** The name of each instrument, by key: `LLM_METRICS.calls` is `llm.client.calls`. */
export const LLM_METRICS = Object.fromEntries(
  Object.entries(LLM_INSTRUMENTS).map(([key, spec]) => [key, spec.name]),
) as { readonly [K in LlmInstrumentKey]: (typeof LLM_INSTRUMENTS)[K]['name'] };

type InstrumentOf<K extends Kind> = K extends 'counter'
  ? Counter
  : K extends 'histogram'
    ? Histogram
    : ObservableGauge;

/** The instruments named by `keys`, typed by their kind. */
export type LlmInstruments<K extends LlmInstrumentKey> = {
  readonly [P in K]: InstrumentOf<(typeof LLM_INSTRUMENTS)[P]['kind']>;
};

/**
 * Creates the instruments named by `keys` on `meter`, as the table declares them.
 *
 * @example
 * const i = createInstruments(meter, ['calls', 'breakerState']);
 * i.calls.add(1, attributes);
 */
export function createInstruments<K extends LlmInstrumentKey>(
  meter: Meter,
  keys: readonly K[],
): LlmInstruments<K> {
  const created: Partial<Record<LlmInstrumentKey, Counter | Histogram | ObservableGauge>> = {};
  for (const key of keys) {
    const spec: InstrumentSpec = LLM_INSTRUMENTS[key];
    const options = { description: spec.description, unit: spec.unit };
    created[key] =
      spec.kind === 'counter'
        ? meter.createCounter(spec.name, options)
        : spec.kind === 'histogram'
          ? meter.createHistogram(spec.name, {
              ...options,
              advice: { explicitBucketBoundaries: spec.buckets },
            })
          : meter.createObservableGauge(spec.name, options);
  }
  return created as LlmInstruments<K>;
}
