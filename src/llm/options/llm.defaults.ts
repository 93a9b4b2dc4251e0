/**
 * Every default of LlmModule and LlmJobsModule, in one tree shaped like the options. The option
 * interfaces carry the same values in their `@default` tags (a unit test keeps the two equal);
 * the README's "How the defaults were chosen" says where each comes from. Most users never tune:
 * these values are the product, and the benchmarks' figures are measured with them.
 *
 * @example
 * LLM_DEFAULTS.retry.maxRetries // 3
 */
export const LLM_DEFAULTS = {
  /** Of every upstream; see `LlmRetryOptions`. */
  retry: {
    maxRetries: 3,
    baseDelayMs: 1_000,
    maxDelayMs: 32_000,
    maxServerHintMs: 60_000,
  },
  /** Of every upstream and model; see `LlmBreakerOptions`. */
  breaker: {
    consecutiveFailures: 5,
    maxBreakMs: 30_000,
    minBreakMs: 250,
    maxProbeWaitMs: 5_000,
  },
  /** Of every upstream; see `LlmBulkheadOptions`. */
  bulkhead: { maxConcurrent: 32, maxQueue: 64 },
  /** Of every upstream; see `LlmTimeoutOptions`. */
  timeouts: {
    connectMs: 10_000,
    attemptMs: 60_000,
    deadlineMs: 120_000,
    firstChunkMs: 30_000,
    idleMs: 30_000,
  },
  /** Of every budget, once `rpm` or `tpm` is set; see `LlmLimitOptions`. */
  limits: {
    maxQueue: 1_000,
    replicas: 1,
    windowMs: 60_000,
    intervalMs: 1_000,
    completionTokens: 256,
    adaptive: true,
  },
  /** Once `redis.url` or `redis.client` is set; see `LlmRedisOptions`. */
  redis: { keyPrefix: 'llm:ratelimit:', timeoutMs: 200 },
  /** Of every upstream; see `LlmUpstreamOptions`. */
  upstream: { provider: 'openai', streamUsage: 'auto' },
  serviceName: 'nestjs-resilient-llm',
  context: { global: false },
  tracing: { captureContent: false },
  health: { failReadinessWhenOpen: false },
  drain: { timeoutMs: 20_000 },
  /** See `LlmEventsOptions`; `elasticsearch` applies once its `node` is set. */
  events: {
    log: false,
    elasticsearch: {
      dataset: 'llm.calls',
      namespace: 'default',
      retentionDays: 30,
      maxBufferedEvents: 10_000,
      maxBufferedBytes: 10 * 1024 * 1024,
      maxBulkEvents: 500,
      flushIntervalMs: 1_000,
      shutdownTimeoutMs: 5_000,
    },
  },
  /** Of LlmJobsModule; see `LlmJobsOptions`. */
  jobs: {
    queue: 'llm.jobs',
    defaultDeadlineMs: 3_600_000,
    maxDeadlineMs: 86_400_000,
    stateTtlMs: 86_400_000,
    maxDeliveries: 5,
    holdMs: 60_000,
    failureDelayMs: 1_000,
    worker: true,
  },
} as const;
