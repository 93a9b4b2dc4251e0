/**
 * Metric instruments the module records through the OpenTelemetry metrics API, in one place:
 * dashboards and alert rules depend on these names. In Prometheus (exporter-prometheus 0.301),
 * dots become underscores and counters get `_total`; units only appear in `# UNIT` lines
 * (`gen_ai.client.operation.duration` → `gen_ai_client_operation_duration_bucket`).
 */
export const LLM_METRICS = {
  /** Histogram (s): one logical call, retries and waits included. GenAI semantic convention. */
  operationDuration: 'gen_ai.client.operation.duration',
  /** Histogram ({token}): tokens per call, `gen_ai.token.type` = input | output. GenAI convention. */
  tokenUsage: 'gen_ai.client.token.usage',
  /** Counter ({call}): logical calls by `llm.outcome` (success or the error kind). */
  calls: 'llm.client.calls',
  /** Counter ({attempt}): upstream attempts by `llm.outcome`. */
  attempts: 'llm.client.attempts',
  /** Counter ({retry}): retries by `llm.retry.reason` (error kind) and `llm.retry.delay_source`. */
  retries: 'llm.client.retries',
  /** Histogram (s): how long a call waited for an open circuit's probe (`breaker.maxProbeWaitMs`). */
  breakerWait: 'llm.breaker.wait',
  /** Gauge: 1 for each breaker's current `llm.breaker.state`, 0 for the other states. Always present. */
  breakerState: 'llm.breaker.state',
  /** Gauge ({call}): calls in flight per upstream. */
  bulkheadInUse: 'llm.bulkhead.in_use',
  /** Gauge ({call}): calls waiting for a bulkhead slot per upstream. */
  bulkheadQueued: 'llm.bulkhead.queued',
  /** Counter ({event}): business events accepted by Elasticsearch. */
  eventsExported: 'llm.events.exported',
  /** Counter ({event}): business events dropped, by `llm.drop.reason`. */
  eventsDropped: 'llm.events.dropped',
  /** Histogram (s): how long an attempt waited for rate-limit budget, per budget. */
  limiterWait: 'llm.limiter.wait',
  /** Counter ({call}): calls the rate limiter rejected at once, by `llm.limiter.reason`. */
  limiterRejections: 'llm.limiter.rejections',
  /** Gauge: each budget's limit per minute in force, by `llm.limiter.dimension`; lower after upstream 429s. */
  limiterEffectiveRate: 'llm.limiter.effective_rate',
  /** Gauge ({call}): calls waiting for rate-limit budget, per budget. */
  limiterWaiting: 'llm.limiter.waiting',
  /** Gauge: 1 while this replica counts budgets locally because Redis is unreachable, else 0. */
  limiterFallbackActive: 'llm.limiter.fallback_active',
  /** Counter ({fallback}): times this replica fell back from Redis to its local share. */
  limiterFallbacks: 'llm.limiter.fallbacks',
  /** Gauge ({job}): jobs ready in the durable queue, not yet taken by a worker (LlmJobs). */
  jobsQueueDepth: 'llm.jobs.queue.depth',
  /** Gauge (s): age of the oldest job still queued; 0 when none waits. */
  jobsOldestAge: 'llm.jobs.queue.oldest_age',
  /** Counter ({job}): jobs that ended, by `llm.job.outcome`. */
  jobsOutcomes: 'llm.jobs.outcomes',
  /** Histogram (s): how long a job waited in the queue before a worker ran it. */
  jobsQueueWait: 'llm.jobs.queue.wait',
  /** Counter ({job}): jobs put back in the queue for later, by `llm.job.redelivery_reason`. */
  jobsRedeliveries: 'llm.jobs.redeliveries',
  /** Counter ({write}): job state writes kept in memory while Redis was down, or dropped. */
  jobsStateWrites: 'llm.jobs.state.deferred_writes',
} as const;

/** Attribute (label) names. Never the user id: unbounded cardinality lives in events and spans. */
export const LLM_METRIC_ATTRIBUTES = {
  upstream: 'llm.upstream',
  feature: 'llm.feature',
  outcome: 'llm.outcome',
  retryReason: 'llm.retry.reason',
  delaySource: 'llm.retry.delay_source',
  breakerState: 'llm.breaker.state',
  dropReason: 'llm.drop.reason',
  /** Why the rate limiter rejected a call: `deadline`, `queue_full` or `too_large`. */
  limiterReason: 'llm.limiter.reason',
  /** `requests` or `tokens`. */
  limiterDimension: 'llm.limiter.dimension',
  /** How a job ended: `completed`, `failed`, `cancelled`, `dead_lettered` or `expired`. */
  jobOutcome: 'llm.job.outcome',
  /** Why a job went back to the queue: `rate_limited`, `circuit_open`, `bulkhead_full`, `failure`. */
  jobRedeliveryReason: 'llm.job.redelivery_reason',
  /** `deferred` (kept until Redis is back) or `dropped` (the buffer was full). */
  jobStateWrite: 'llm.job.state_write',
} as const;

/** Bucket boundaries of the wait histograms (s): from a few ms to a default open period and past it. */
export const WAIT_BUCKETS_S = [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/** Bucket boundaries the GenAI semantic conventions advise for the two histograms. */
export const GEN_AI_DURATION_BUCKETS_S = [
  0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92,
];
export const GEN_AI_TOKEN_BUCKETS = [
  1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864,
];
