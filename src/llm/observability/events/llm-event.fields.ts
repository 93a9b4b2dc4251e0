import * as S from '../llm.semconv';

/**
 * Every field a business event may carry, with its Elasticsearch type: the single source for the
 * index template, the event builders and the Kibana dashboards (a test checks all three agree).
 * ECS names where ECS has them (ECS 9 includes the `gen_ai.*` set with the OpenTelemetry names);
 * the rest lives under `llm.*`. Fields that spans or metrics also record take their name from
 * llm.semconv.ts (what each means is documented there); the ECS-only ones are spelled here.
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
  [S.ATTR_ERROR_TYPE]: 'keyword',
  'error.code': 'keyword',
  'error.message': 'match_only_text',
  [S.ATTR_USER_ID]: 'keyword',
  'trace.id': 'keyword',
  'span.id': 'keyword',
  [S.ATTR_SERVICE_NAME]: 'keyword',
  [S.ATTR_SERVER_ADDRESS]: 'keyword',
  [S.ATTR_SERVER_PORT]: 'long',
  [S.ATTR_HTTP_REQUEST_METHOD]: 'keyword',
  [S.ATTR_HTTP_RESPONSE_STATUS_CODE]: 'long',
  [S.ATTR_URL_PATH]: 'keyword',
  [S.ATTR_GEN_AI_OPERATION_NAME]: 'keyword',
  [S.ATTR_GEN_AI_PROVIDER_NAME]: 'keyword',
  [S.ATTR_GEN_AI_SYSTEM]: 'keyword',
  [S.ATTR_GEN_AI_REQUEST_MODEL]: 'keyword',
  [S.ATTR_GEN_AI_RESPONSE_MODEL]: 'keyword',
  [S.ATTR_GEN_AI_RESPONSE_ID]: 'keyword',
  [S.ATTR_GEN_AI_RESPONSE_FINISH_REASONS]: 'keyword',
  [S.ATTR_GEN_AI_USAGE_INPUT_TOKENS]: 'long',
  [S.ATTR_GEN_AI_USAGE_OUTPUT_TOKENS]: 'long',
  [S.ATTR_LLM_FEATURE]: 'keyword',
  [S.ATTR_LLM_UPSTREAM]: 'keyword',
  [S.ATTR_LLM_STREAM]: 'boolean',
  [S.ATTR_LLM_ATTEMPTS]: 'integer',
  [S.ATTR_LLM_RETRIES]: 'integer',
  /** Every retry's reason, in order (the span's `llm.retry.scheduled` events carry one each). */
  [S.ATTR_LLM_RETRY_REASON]: 'keyword',
  [S.ATTR_LLM_REQUESTED_MODEL]: 'keyword',
  [S.ATTR_LLM_FALLBACKS]: 'integer',
  /** Every move's reason along the fallback chain, in order. */
  [S.ATTR_LLM_FALLBACK_REASON]: 'keyword',
  [S.ATTR_LLM_DEGRADED]: 'boolean',
  [S.ATTR_LLM_WAIT_MS]: 'long',
  /** The breaker as the call left it (`open` for a call it rejected). */
  [S.ATTR_LLM_BREAKER_STATE]: 'keyword',
  [S.ATTR_LLM_BREAKER_WAIT_MS]: 'long',
  [S.ATTR_LLM_CLIENT_REQUEST_ID]: 'keyword',
  [S.ATTR_LLM_UPSTREAM_REQUEST_ID]: 'keyword',
  [S.ATTR_LLM_REQUEST_ID]: 'keyword',
  [S.ATTR_LLM_JOB_ID]: 'keyword',
  [S.ATTR_LLM_JOB_QUEUE_WAIT_MS]: 'long',
  [S.ATTR_LLM_REQUEST_ROUTE]: 'keyword',
  [S.ATTR_LLM_REQUEST_OUTCOME]: 'keyword',
  [S.ATTR_LLM_REQUEST_CALLS]: 'integer',
  [S.ATTR_LLM_REQUEST_TRANSPORT]: 'keyword',
  [S.ATTR_LLM_REQUEST_PATTERN]: 'keyword',
  [S.ATTR_LLM_REQUEST_RPC_OUTCOME]: 'keyword',
  [S.ATTR_LLM_REQUEST_REDELIVERED]: 'boolean',
  [S.ATTR_LLM_REQUEST_FAILED_CALLS]: 'integer',
} as const;

export type LlmEventField = keyof typeof LLM_EVENT_FIELDS;

/**
 * Names of earlier releases, mapped as Elasticsearch `alias` fields of their new names (never
 * written): a saved search or alert on an old name still finds new documents, and across old
 * and new backing indices it finds both. See CHANGELOG.md.
 */
export const LLM_EVENT_FIELD_ALIASES = {
  'llm.breaker_state': S.ATTR_LLM_BREAKER_STATE,
  'llm.breaker_wait_ms': S.ATTR_LLM_BREAKER_WAIT_MS,
  'llm.retry_reasons': S.ATTR_LLM_RETRY_REASON,
  'llm.fallback_reasons': S.ATTR_LLM_FALLBACK_REASON,
} as const satisfies Record<string, LlmEventField>;

/** A business event: flat dotted keys from {@link LLM_EVENT_FIELDS}, as the bulk API accepts them. */
export type LlmEventDocument = Partial<Record<LlmEventField, string | number | boolean | string[]>>;
