/**
 * Every name the module's three signals use, in one table: span attributes, span events, metric
 * names and labels, and the business events' fields (see `events/llm-event.fields.ts` for their
 * Elasticsearch types). One fact has one name here, and spans, metrics and events all import it.
 * Dashboards and alert rules depend on these names: a rename changes `deploy/` in the same commit
 * and goes into CHANGELOG.md.
 *
 * - Stable OpenTelemetry names (`server.*`, `error.type`, `http.*`, `url.path`, `rpc.system.name`)
 *   are re-exported from `@opentelemetry/semantic-conventions`.
 * - Incubating ones (GenAI, messaging, `user.id`) are local copies, as in an OpenTelemetry contrib
 *   instrumentation's `semconv.ts`: the GenAI conventions are moving and being renamed, and the
 *   package's incubating entry point is deprecated, so a rename here is a one-line change.
 * - What OpenTelemetry has no name for lives under `llm.*`. Counts and ids use a `snake_case`
 *   leaf (`llm.wait_ms`); facts of one concern share its namespace (`llm.breaker.state`).
 *
 * @see https://github.com/open-telemetry/semantic-conventions-genai
 */
export {
  ATTR_ERROR_TYPE,
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_REQUEST_RESEND_COUNT,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_RPC_SYSTEM_NAME,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
  ATTR_SERVICE_NAME,
  ATTR_URL_PATH,
} from '@opentelemetry/semantic-conventions';

// GenAI semantic conventions (incubating).
export const ATTR_GEN_AI_OPERATION_NAME = 'gen_ai.operation.name' as const;
export const GEN_AI_OPERATION_NAME_VALUE_CHAT = 'chat' as const;
/** Replaces `gen_ai.system`: `openai`, `azure.ai.openai`, `deepseek`, ... */
export const ATTR_GEN_AI_PROVIDER_NAME = 'gen_ai.provider.name' as const;
/** Deprecated name of the provider; events keep it for dashboards built on older conventions. */
export const ATTR_GEN_AI_SYSTEM = 'gen_ai.system' as const;
/** The model called (after a fallback: the one finally called). */
export const ATTR_GEN_AI_REQUEST_MODEL = 'gen_ai.request.model' as const;
export const ATTR_GEN_AI_REQUEST_MAX_TOKENS = 'gen_ai.request.max_tokens' as const;
export const ATTR_GEN_AI_REQUEST_TEMPERATURE = 'gen_ai.request.temperature' as const;
export const ATTR_GEN_AI_REQUEST_TOP_P = 'gen_ai.request.top_p' as const;
export const ATTR_GEN_AI_RESPONSE_MODEL = 'gen_ai.response.model' as const;
export const ATTR_GEN_AI_RESPONSE_ID = 'gen_ai.response.id' as const;
export const ATTR_GEN_AI_RESPONSE_FINISH_REASONS = 'gen_ai.response.finish_reasons' as const;
export const ATTR_GEN_AI_USAGE_INPUT_TOKENS = 'gen_ai.usage.input_tokens' as const;
export const ATTR_GEN_AI_USAGE_OUTPUT_TOKENS = 'gen_ai.usage.output_tokens' as const;
/** Prompt messages as JSON (opt-in only: they may hold personal data). */
export const ATTR_GEN_AI_INPUT_MESSAGES = 'gen_ai.input.messages' as const;
/** `input` or `output`, on the token usage histogram. */
export const ATTR_GEN_AI_TOKEN_TYPE = 'gen_ai.token.type' as const;
export const METRIC_GEN_AI_CLIENT_OPERATION_DURATION = 'gen_ai.client.operation.duration' as const;
export const METRIC_GEN_AI_CLIENT_TOKEN_USAGE = 'gen_ai.client.token.usage' as const;

// Other incubating conventions.
/** The end user the call served: spans and events only, never a metric label (cardinality). */
export const ATTR_USER_ID = 'user.id' as const;
/** `rabbitmq`, `kafka`, `nats`, `redis`, `mqtt`: brokers only. */
export const ATTR_MESSAGING_SYSTEM = 'messaging.system' as const;
/** The queue, pattern, channel, subject or topic. */
export const ATTR_MESSAGING_DESTINATION_NAME = 'messaging.destination.name' as const;
/** `send` or `process`. */
export const ATTR_MESSAGING_OPERATION_TYPE = 'messaging.operation.type' as const;
export const ATTR_MESSAGING_MESSAGE_ID = 'messaging.message.id' as const;

// The call: who and what (spans, events; upstream and feature also label metrics).
/** The configured upstream name (`openai`, `azure-eu`), not the provider. */
export const ATTR_LLM_UPSTREAM = 'llm.upstream' as const;
/** The feature that made the call (`support-chat`); `unknown` on metrics when there is none. */
export const ATTR_LLM_FEATURE = 'llm.feature' as const;
/** The inbound request's id (`x-request-id`), when the call was made while handling one. */
export const ATTR_LLM_REQUEST_ID = 'llm.request_id' as const;
/** Sent as `x-client-request-id` on every attempt of the call. */
export const ATTR_LLM_CLIENT_REQUEST_ID = 'llm.client_request_id' as const;
/** The provider's `x-request-id`, to quote in a support ticket. */
export const ATTR_LLM_UPSTREAM_REQUEST_ID = 'llm.upstream_request_id' as const;
export const ATTR_LLM_STREAM = 'llm.stream' as const;
/** The model the caller asked for (`gen_ai.request.model` names the one finally called). */
export const ATTR_LLM_REQUESTED_MODEL = 'llm.requested_model' as const;
/** Metric label: `success`, or the error kind the caller got. */
export const ATTR_LLM_OUTCOME = 'llm.outcome' as const;

// What the resilience path did.
/** Attempts that reached the upstream. */
export const ATTR_LLM_ATTEMPTS = 'llm.attempts' as const;
/** 1 for the first attempt. */
export const ATTR_LLM_ATTEMPT_NUMBER = 'llm.attempt.number' as const;
export const ATTR_LLM_RETRIES = 'llm.retries' as const;
/** 1 for the first retry (it precedes attempt 2). */
export const ATTR_LLM_RETRY_NUMBER = 'llm.retry.number' as const;
/** The error kind that caused a retry; on an event, every retry's reason (an array). */
export const ATTR_LLM_RETRY_REASON = 'llm.retry.reason' as const;
/** The wait before a retry (or attempt), ms. */
export const ATTR_LLM_RETRY_DELAY_MS = 'llm.retry.delay_ms' as const;
/** Where that wait came from: `backoff`, `retry-after-ms`, `retry-after`, `x-ratelimit-reset-*`. */
export const ATTR_LLM_RETRY_DELAY_SOURCE = 'llm.retry.delay_source' as const;
/** Total wait between attempts, ms. */
export const ATTR_LLM_WAIT_MS = 'llm.wait_ms' as const;
/** The breaker's effective state: `closed`, `open`, `half_open`, `isolated`. */
export const ATTR_LLM_BREAKER_STATE = 'llm.breaker.state' as const;
export const ATTR_LLM_BREAKER_PREVIOUS_STATE = 'llm.breaker.previous_state' as const;
/** Time the call waited for an open circuit's probe (`breaker.maxWaitMs`), ms. */
export const ATTR_LLM_BREAKER_WAIT_MS = 'llm.breaker.wait_ms' as const;
/** Time an attempt waited for rate-limit budget, ms. */
export const ATTR_LLM_LIMITER_WAIT_MS = 'llm.limiter.wait_ms' as const;
/** Why the rate limiter rejected a call: `deadline`, `queue_full` or `too_large`. */
export const ATTR_LLM_LIMITER_REASON = 'llm.limiter.reason' as const;
/** `requests` or `tokens`. */
export const ATTR_LLM_LIMITER_DIMENSION = 'llm.limiter.dimension' as const;
/** Moves along the fallback chain. */
export const ATTR_LLM_FALLBACKS = 'llm.fallbacks' as const;
/** The error kind that moved the call on; on an event, every move's reason (an array). */
export const ATTR_LLM_FALLBACK_REASON = 'llm.fallback.reason' as const;
export const ATTR_LLM_FALLBACK_FROM_UPSTREAM = 'llm.fallback.from_upstream' as const;
export const ATTR_LLM_FALLBACK_FROM_MODEL = 'llm.fallback.from_model' as const;
export const ATTR_LLM_FALLBACK_TO_UPSTREAM = 'llm.fallback.to_upstream' as const;
export const ATTR_LLM_FALLBACK_TO_MODEL = 'llm.fallback.to_model' as const;
/** True when the module's last-resort function answered instead of any model. */
export const ATTR_LLM_DEGRADED = 'llm.degraded' as const;
/** Why business events were lost: `buffer_full`, `rejected`, `shutdown`, `unserializable`, `write_failed`. */
export const ATTR_LLM_DROP_REASON = 'llm.drop.reason' as const;

// Inbound requests (request events, message handler spans).
export const ATTR_LLM_REQUEST_ROUTE = 'llm.request.route' as const;
/** `success`, `degraded` (some calls failed but the request succeeded) or `failure`. */
export const ATTR_LLM_REQUEST_OUTCOME = 'llm.request.outcome' as const;
export const ATTR_LLM_REQUEST_CALLS = 'llm.request.calls' as const;
export const ATTR_LLM_REQUEST_FAILED_CALLS = 'llm.request.failed_calls' as const;
/** `http`, or a message's transport: `rmq`, `tcp`, `redis`, `nats`, `kafka`, `mqtt`, `grpc`. */
export const ATTR_LLM_REQUEST_TRANSPORT = 'llm.request.transport' as const;
/** A message's pattern, channel, subject or topic. */
export const ATTR_LLM_REQUEST_PATTERN = 'llm.request.pattern' as const;
/** How a message handler ended: `ack`, `nack`, `error` or `completed`. */
export const ATTR_LLM_REQUEST_RPC_OUTCOME = 'llm.request.rpc_outcome' as const;
/** True when the broker delivered the message before (RMQ `redelivered`). */
export const ATTR_LLM_REQUEST_REDELIVERED = 'llm.request.redelivered' as const;

// Durable jobs.
export const ATTR_LLM_JOB_ID = 'llm.job.id' as const;
/** How long the job waited in the queue before this run, ms. */
export const ATTR_LLM_JOB_QUEUE_WAIT_MS = 'llm.job.queue_wait_ms' as const;
/** 1 for the first delivery of a job to a worker. */
export const ATTR_LLM_JOB_DELIVERY = 'llm.job.delivery' as const;
/** `completed`, `failed`, `cancelled`, `dead_lettered` or `expired`. */
export const ATTR_LLM_JOB_OUTCOME = 'llm.job.outcome' as const;
/** `rate_limited`, `circuit_open`, `bulkhead_full` or `failure`. */
export const ATTR_LLM_JOB_REDELIVERY_REASON = 'llm.job.redelivery_reason' as const;
/** `deferred` (kept until Redis is back) or `dropped` (the buffer was full). */
export const ATTR_LLM_JOB_STATE_WRITE = 'llm.job.state_write' as const;

// Span events.
/** A retry was decided: why, how long it waits and where that wait came from. */
export const EVENT_LLM_RETRY_SCHEDULED = 'llm.retry.scheduled' as const;
/** An attempt moved the breaker from one state to another. */
export const EVENT_LLM_BREAKER_TRANSITION = 'llm.breaker.transition' as const;
/** The call moved to the next target of its fallback chain (or to the last resort). */
export const EVENT_LLM_FALLBACK = 'llm.fallback' as const;

// Metric names (instruments: llm-metric.instruments.ts). Prometheus turns dots into underscores.
export const METRIC_LLM_CLIENT_CALLS = 'llm.client.calls' as const;
export const METRIC_LLM_CLIENT_ATTEMPTS = 'llm.client.attempts' as const;
export const METRIC_LLM_CLIENT_RETRIES = 'llm.client.retries' as const;
export const METRIC_LLM_BREAKER_WAIT = 'llm.breaker.wait' as const;
export const METRIC_LLM_BREAKER_STATE = 'llm.breaker.state' as const;
export const METRIC_LLM_BULKHEAD_IN_USE = 'llm.bulkhead.in_use' as const;
export const METRIC_LLM_BULKHEAD_QUEUED = 'llm.bulkhead.queued' as const;
export const METRIC_LLM_EVENTS_EXPORTED = 'llm.events.exported' as const;
export const METRIC_LLM_EVENTS_DROPPED = 'llm.events.dropped' as const;
export const METRIC_LLM_LIMITER_WAIT = 'llm.limiter.wait' as const;
export const METRIC_LLM_LIMITER_REJECTIONS = 'llm.limiter.rejections' as const;
export const METRIC_LLM_LIMITER_EFFECTIVE_RATE = 'llm.limiter.effective_rate' as const;
export const METRIC_LLM_LIMITER_WAITING = 'llm.limiter.waiting' as const;
export const METRIC_LLM_LIMITER_FALLBACK_ACTIVE = 'llm.limiter.fallback_active' as const;
export const METRIC_LLM_LIMITER_FALLBACKS = 'llm.limiter.fallbacks' as const;
export const METRIC_LLM_JOBS_QUEUE_DEPTH = 'llm.jobs.queue.depth' as const;
export const METRIC_LLM_JOBS_BROKER_CONNECTED = 'llm.jobs.broker.connected' as const;
export const METRIC_LLM_JOBS_QUEUE_OLDEST_AGE = 'llm.jobs.queue.oldest_age' as const;
export const METRIC_LLM_JOBS_QUEUE_WAIT = 'llm.jobs.queue.wait' as const;
export const METRIC_LLM_JOBS_OUTCOMES = 'llm.jobs.outcomes' as const;
export const METRIC_LLM_JOBS_REDELIVERIES = 'llm.jobs.redeliveries' as const;
export const METRIC_LLM_JOBS_STATE_DEFERRED_WRITES = 'llm.jobs.state.deferred_writes' as const;
