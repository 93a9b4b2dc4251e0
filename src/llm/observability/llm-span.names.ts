/**
 * The module's own span attributes and span events (what OpenTelemetry has no convention for),
 * in one place: trace queries and dashboards depend on these names. The names shared with
 * metrics and business events are spelled the same way there.
 */
export const LLM_SPAN_ATTRIBUTES = {
  /** The configured upstream name (`openai`, `azure-eu`), not the provider. */
  upstream: 'llm.upstream',
  /** The feature that made the call, e.g. `support-chat`. */
  feature: 'llm.feature',
  /** The inbound request's id, when the call was made while handling one. */
  requestId: 'llm.request_id',
  /** Sent as `x-client-request-id` on every attempt of the call. */
  clientRequestId: 'llm.client_request_id',
  stream: 'llm.stream',
  /** Attempts that reached the upstream. */
  attempts: 'llm.attempts',
  retries: 'llm.retries',
  /** Total wait between attempts, ms. */
  waitMs: 'llm.wait_ms',
  /** 1 for the first attempt. */
  attemptNumber: 'llm.attempt.number',
  /** The wait before this attempt (or retry), ms. */
  retryDelayMs: 'llm.retry.delay_ms',
  /** Where that wait came from: `backoff`, `retry-after-ms`, `retry-after`, `x-ratelimit-reset-*`. */
  retryDelaySource: 'llm.retry.delay_source',
  /** 1 for the first retry (it precedes attempt 2). */
  retryNumber: 'llm.retry.number',
  /** The error kind that caused the retry. */
  retryReason: 'llm.retry.reason',
  /** The breaker's effective state: `closed`, `open`, `half_open`, `isolated`. */
  breakerState: 'llm.breaker.state',
  breakerPreviousState: 'llm.breaker.previous_state',
  /** Time the call spent waiting for an open circuit's probe (`breaker.maxProbeWaitMs`), ms. */
  breakerWaitMs: 'llm.breaker.wait_ms',
  /** Time spent waiting for rate-limit budget before the attempt, ms. */
  limiterWaitMs: 'llm.limiter.wait_ms',
  /** The provider's `x-request-id`, to quote in a support ticket. */
  upstreamRequestId: 'llm.upstream_request_id',
  /** The model the caller asked for (`gen_ai.request.model` names the one finally called). */
  requestedModel: 'llm.requested_model',
  /** Moves along the fallback chain. */
  fallbacks: 'llm.fallbacks',
  /** True when the module's last-resort function answered instead of any model. */
  degraded: 'llm.degraded',
  fallbackFromModel: 'llm.fallback.from_model',
  fallbackToModel: 'llm.fallback.to_model',
  fallbackFromUpstream: 'llm.fallback.from_upstream',
  fallbackToUpstream: 'llm.fallback.to_upstream',
  fallbackReason: 'llm.fallback.reason',
} as const;

/** Events recorded on the call span. */
export const LLM_SPAN_EVENTS = {
  /** A retry was decided: why, how long it waits and where that wait came from. */
  retryScheduled: 'llm.retry.scheduled',
  /** An attempt moved the breaker from one state to another. */
  breakerTransition: 'llm.breaker.transition',
  /** The call moved to the next target of its fallback chain (or to the last resort). */
  fallback: 'llm.fallback',
} as const;
