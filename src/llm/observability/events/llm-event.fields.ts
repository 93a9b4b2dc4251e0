/**
 * Every field a business event may carry, with its Elasticsearch type: the single source for the
 * index template, the event builders and the Kibana dashboards (a test checks all three agree).
 * ECS names where ECS has them (ECS 9 includes the `gen_ai.*` set with the OpenTelemetry names);
 * the rest lives under `llm.*`.
 */
export const LLM_EVENT_FIELDS = {
  '@timestamp': 'date',
  'event.kind': 'keyword',
  'event.category': 'keyword',
  'event.type': 'keyword',
  'event.dataset': 'keyword',
  /** `llm-call` for one logical call, `llm-request` for one inbound request that made calls. */
  'event.action': 'keyword',
  'event.outcome': 'keyword',
  /** Nanoseconds, as ECS wants. */
  'event.duration': 'long',
  'event.start': 'date',
  'event.end': 'date',
  'event.id': 'keyword',
  'error.type': 'keyword',
  'error.code': 'keyword',
  'error.message': 'match_only_text',
  'user.id': 'keyword',
  'trace.id': 'keyword',
  'span.id': 'keyword',
  'service.name': 'keyword',
  'server.address': 'keyword',
  'server.port': 'long',
  'http.request.method': 'keyword',
  'http.response.status_code': 'long',
  'url.path': 'keyword',
  'gen_ai.operation.name': 'keyword',
  'gen_ai.provider.name': 'keyword',
  'gen_ai.system': 'keyword',
  'gen_ai.request.model': 'keyword',
  'gen_ai.response.model': 'keyword',
  'gen_ai.response.id': 'keyword',
  'gen_ai.response.finish_reasons': 'keyword',
  'gen_ai.usage.input_tokens': 'long',
  'gen_ai.usage.output_tokens': 'long',
  'llm.feature': 'keyword',
  'llm.upstream': 'keyword',
  'llm.stream': 'boolean',
  'llm.attempts': 'integer',
  'llm.retries': 'integer',
  'llm.retry_reasons': 'keyword',
  /** The model the caller asked for; `gen_ai.request.model` names the one finally called. */
  'llm.requested_model': 'keyword',
  /** Moves along the fallback chain, and the error kinds that caused them. */
  'llm.fallbacks': 'integer',
  'llm.fallback_reasons': 'keyword',
  /** True when the module's last-resort function answered instead of any model. */
  'llm.degraded': 'boolean',
  /** Total wait between attempts, ms. */
  'llm.wait_ms': 'long',
  'llm.breaker_state': 'keyword',
  /** Time spent waiting for an open circuit's probe (`breaker.maxProbeWaitMs`), ms. */
  'llm.breaker_wait_ms': 'long',
  'llm.client_request_id': 'keyword',
  'llm.upstream_request_id': 'keyword',
  /** The inbound request's id (`x-request-id`). */
  'llm.request_id': 'keyword',
  /** The durable job a call ran for (LlmJobs), and how long it waited in the queue, ms. */
  'llm.job.id': 'keyword',
  'llm.job.queue_wait_ms': 'long',
  'llm.request.route': 'keyword',
  /** `success`, `degraded` (some calls failed but the request succeeded) or `failure`. */
  'llm.request.outcome': 'keyword',
  'llm.request.calls': 'integer',
  /** `http`, or the transport of a message: `rmq`, `tcp`, `redis`, `nats`, `kafka`, `mqtt`, `grpc`. */
  'llm.request.transport': 'keyword',
  /** A message's pattern, channel, subject or topic. */
  'llm.request.pattern': 'keyword',
  /** How a message handler ended: `ack`, `nack`, `error` or `completed` (RMQ, not settled). */
  'llm.request.rpc_outcome': 'keyword',
  /** True when the broker delivered the message before (RMQ `redelivered`). */
  'llm.request.redelivered': 'boolean',
  'llm.request.failed_calls': 'integer',
} as const;

export type LlmEventField = keyof typeof LLM_EVENT_FIELDS;

/** A business event: flat dotted keys from {@link LLM_EVENT_FIELDS}, as the bulk API accepts them. */
export type LlmEventDocument = Partial<Record<LlmEventField, string | number | boolean | string[]>>;
