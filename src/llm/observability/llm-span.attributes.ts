import type { Attributes } from '@opentelemetry/api';
import { type CallRecord } from '../call/call-record';
import { type AttemptRecord, type RetryRecord } from '../call/call-record.types';
import { toGenAiMessagesJson } from './gen-ai.messages';
import { upstreamAttributes } from './llm-call.attributes';
import {
  ATTR_ERROR_TYPE,
  ATTR_GEN_AI_INPUT_MESSAGES,
  ATTR_GEN_AI_OPERATION_NAME,
  ATTR_GEN_AI_REQUEST_MAX_TOKENS,
  ATTR_GEN_AI_REQUEST_MODEL,
  ATTR_GEN_AI_REQUEST_TEMPERATURE,
  ATTR_GEN_AI_REQUEST_TOP_P,
  ATTR_GEN_AI_RESPONSE_FINISH_REASONS,
  ATTR_GEN_AI_RESPONSE_ID,
  ATTR_GEN_AI_RESPONSE_MODEL,
  ATTR_GEN_AI_USAGE_INPUT_TOKENS,
  ATTR_GEN_AI_USAGE_OUTPUT_TOKENS,
  ATTR_HTTP_REQUEST_RESEND_COUNT,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_LLM_ATTEMPT_NUMBER,
  ATTR_LLM_ATTEMPTS,
  ATTR_LLM_BREAKER_STATE,
  ATTR_LLM_BREAKER_WAIT_MS,
  ATTR_LLM_CLIENT_REQUEST_ID,
  ATTR_LLM_DEGRADED,
  ATTR_LLM_FALLBACKS,
  ATTR_LLM_FEATURE,
  ATTR_LLM_LIMITER_WAIT_MS,
  ATTR_LLM_REQUEST_ID,
  ATTR_LLM_REQUESTED_MODEL,
  ATTR_LLM_RETRIES,
  ATTR_LLM_RETRY_DELAY_MS,
  ATTR_LLM_RETRY_DELAY_SOURCE,
  ATTR_LLM_RETRY_NUMBER,
  ATTR_LLM_RETRY_REASON,
  ATTR_LLM_STREAM,
  ATTR_LLM_UPSTREAM_REQUEST_ID,
  ATTR_LLM_WAIT_MS,
  ATTR_USER_ID,
  GEN_AI_OPERATION_NAME_VALUE_CHAT,
} from './llm.semconv';

/**
 * What is known of a call when it starts. Prompt text only with `captureContent`: it may hold
 * personal data, and spans usually go to a system with wider access than the application's.
 *
 * Every builder here writes each attribute once, in a fixed order, and leaves unset values out
 * (no spread, no second pass): they run for every call the SDK records.
 */
export function callStartAttributes(call: CallRecord, captureContent: boolean): Attributes {
  const { request, context } = call;
  // Provider, upstream, server, model, feature: named and valued as in metrics and events.
  const attributes: Attributes = {
    [ATTR_GEN_AI_OPERATION_NAME]: GEN_AI_OPERATION_NAME_VALUE_CHAT,
    ...upstreamAttributes(call.upstream),
    [ATTR_GEN_AI_REQUEST_MODEL]: call.model,
  };
  put(attributes, ATTR_LLM_FEATURE, context.featureName);
  // OpenAI renamed max_tokens to max_completion_tokens; both mean the completion's cap.
  put(
    attributes,
    ATTR_GEN_AI_REQUEST_MAX_TOKENS,
    numberOrUndefined(request.max_completion_tokens ?? request.max_tokens),
  );
  put(attributes, ATTR_GEN_AI_REQUEST_TEMPERATURE, numberOrUndefined(request.temperature));
  put(attributes, ATTR_GEN_AI_REQUEST_TOP_P, numberOrUndefined(request.top_p));
  attributes[ATTR_LLM_STREAM] = call.stream;
  put(attributes, ATTR_LLM_CLIENT_REQUEST_ID, call.clientRequestId);
  put(attributes, ATTR_USER_ID, context.userId);
  put(attributes, ATTR_LLM_REQUEST_ID, context.requestId);
  if (captureContent && Array.isArray(request.messages)) {
    attributes[ATTR_GEN_AI_INPUT_MESSAGES] = toGenAiMessagesJson(request.messages);
  }
  return attributes;
}

/** What the call ended with: the provider's answer, how hard the call path worked, the error. */
export function callEndAttributes(call: CallRecord): Attributes {
  const response = call.response;
  // After a fallback the request went to another model, maybe another upstream and provider.
  const attributes: Attributes = { ...upstreamAttributes(call.upstream) };
  put(attributes, ATTR_GEN_AI_REQUEST_MODEL, call.model);
  if (response) {
    put(attributes, ATTR_GEN_AI_RESPONSE_MODEL, response.model);
    put(attributes, ATTR_GEN_AI_RESPONSE_ID, response.id);
    if (response.finishReasons.length) {
      attributes[ATTR_GEN_AI_RESPONSE_FINISH_REASONS] = response.finishReasons;
    }
    put(attributes, ATTR_GEN_AI_USAGE_INPUT_TOKENS, response.inputTokens);
    put(attributes, ATTR_GEN_AI_USAGE_OUTPUT_TOKENS, response.outputTokens);
  }
  attributes[ATTR_LLM_ATTEMPTS] = call.attemptCount;
  attributes[ATTR_LLM_RETRIES] = call.retries.length;
  put(attributes, ATTR_LLM_REQUESTED_MODEL, call.requestedModel);
  attributes[ATTR_LLM_FALLBACKS] = call.fallbacks.length;
  put(attributes, ATTR_LLM_DEGRADED, call.degraded);
  put(attributes, ATTR_LLM_WAIT_MS, call.totalDelayMs);
  put(attributes, ATTR_LLM_BREAKER_WAIT_MS, call.breakerWaitMs);
  // Low cardinality, as the convention asks: the error kind, never the message.
  put(attributes, ATTR_ERROR_TYPE, call.error?.kind);
  return attributes;
}

/** What is known of an attempt when it passed the breaker. */
export function attemptStartAttributes(attempt: AttemptRecord): Attributes {
  const attributes: Attributes = {
    [ATTR_HTTP_REQUEST_RESEND_COUNT]: attempt.number - 1,
    [ATTR_LLM_ATTEMPT_NUMBER]: attempt.number,
  };
  put(attributes, ATTR_LLM_RETRY_DELAY_MS, attempt.delayBeforeMs);
  put(attributes, ATTR_LLM_RETRY_DELAY_SOURCE, attempt.delaySource);
  put(attributes, ATTR_LLM_BREAKER_STATE, attempt.breakerBefore);
  return attributes;
}

/** How an attempt ended. The limiter wait is read here: the limiter runs after the breaker. */
export function attemptEndAttributes(attempt: AttemptRecord): Attributes {
  const attributes: Attributes = {};
  put(attributes, ATTR_LLM_LIMITER_WAIT_MS, attempt.limiterWaitMs);
  put(attributes, ATTR_HTTP_RESPONSE_STATUS_CODE, attempt.status);
  put(attributes, ATTR_LLM_UPSTREAM_REQUEST_ID, attempt.upstreamRequestId);
  put(attributes, ATTR_ERROR_TYPE, attempt.errorKind);
  return attributes;
}

/** Attributes of the `llm.retry.scheduled` event. */
export function retryEventAttributes(retry: RetryRecord): Attributes {
  return {
    [ATTR_LLM_RETRY_NUMBER]: retry.number,
    [ATTR_LLM_RETRY_REASON]: retry.reason,
    [ATTR_LLM_RETRY_DELAY_MS]: retry.delayMs,
    [ATTR_LLM_RETRY_DELAY_SOURCE]: retry.source,
  };
}

/**
 * Sets a value that is known; unset ones are left out: the SDK ignores them, but not every
 * OpenTelemetry API implementation does.
 */
function put(attributes: Attributes, key: string, value: Attributes[string]): void {
  if (value !== undefined) attributes[key] = value;
}

function numberOrUndefined(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}
