import type { Attributes } from '@opentelemetry/api';
import {
  ATTR_ERROR_TYPE,
  ATTR_HTTP_REQUEST_RESEND_COUNT,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
} from '@opentelemetry/semantic-conventions';
import { CallRecord } from '../call/call-record';
import { AttemptRecord, RetryRecord } from '../call/call-record.types';
import { GEN_AI, GEN_AI_OPERATION, INCUBATING } from './gen-ai.semconv';
import { toGenAiMessagesJson } from './gen-ai.messages';
import { LLM_SPAN_ATTRIBUTES as LLM } from './llm-span.names';

/**
 * What is known of a call when it starts. Prompt text only with `captureContent`: it may hold
 * personal data, and spans usually go to a system with wider access than the application's.
 */
export function callStartAttributes(call: CallRecord, captureContent: boolean): Attributes {
  const { request, context } = call;
  return defined({
    [GEN_AI.operationName]: GEN_AI_OPERATION.chat,
    [GEN_AI.providerName]: call.upstream.provider,
    [GEN_AI.requestModel]: call.model,
    // OpenAI renamed max_tokens to max_completion_tokens; both mean the completion's cap.
    [GEN_AI.requestMaxTokens]: numberOrUndefined(
      request.max_completion_tokens ?? request.max_tokens,
    ),
    [GEN_AI.requestTemperature]: numberOrUndefined(request.temperature),
    [GEN_AI.requestTopP]: numberOrUndefined(request.top_p),
    ...serverAttributes(call.upstream.baseUrl),
    [LLM.upstream]: call.upstream.name,
    [LLM.stream]: call.stream,
    [LLM.clientRequestId]: call.clientRequestId,
    [INCUBATING.userId]: context.userId,
    [LLM.feature]: context.featureName,
    [LLM.requestId]: context.requestId,
    ...(captureContent && Array.isArray(request.messages)
      ? { [GEN_AI.inputMessages]: toGenAiMessagesJson(request.messages) }
      : {}),
  });
}

/** What the call ended with: the provider's answer, how hard the call path worked, the error. */
export function callEndAttributes(call: CallRecord): Attributes {
  const response = call.response;
  return defined({
    // After a fallback the request went to another model (and maybe another upstream).
    [GEN_AI.requestModel]: call.model,
    [LLM.upstream]: call.upstream.name,
    ...serverAttributes(call.upstream.baseUrl),
    [GEN_AI.responseModel]: response?.model,
    [GEN_AI.responseId]: response?.id,
    [GEN_AI.responseFinishReasons]: response?.finishReasons.length
      ? response.finishReasons
      : undefined,
    [GEN_AI.usageInputTokens]: response?.inputTokens,
    [GEN_AI.usageOutputTokens]: response?.outputTokens,
    [LLM.attempts]: call.attemptCount,
    [LLM.retries]: call.retries.length,
    [LLM.requestedModel]: call.requestedModel,
    [LLM.fallbacks]: call.fallbacks.length,
    [LLM.degraded]: call.degraded,
    [LLM.waitMs]: call.totalDelayMs,
    [LLM.breakerWaitMs]: call.breakerWaitMs,
    // Low cardinality, as the convention asks: the error kind, never the message.
    [ATTR_ERROR_TYPE]: call.error?.kind,
  });
}

/** What is known of an attempt when it passed the breaker. */
export function attemptStartAttributes(attempt: AttemptRecord): Attributes {
  return defined({
    [ATTR_HTTP_REQUEST_RESEND_COUNT]: attempt.number - 1,
    [LLM.attemptNumber]: attempt.number,
    [LLM.retryDelayMs]: attempt.delayBeforeMs,
    [LLM.retryDelaySource]: attempt.delaySource,
    [LLM.breakerState]: attempt.breakerBefore,
  });
}

/** How an attempt ended. The limiter wait is read here: the limiter runs after the breaker. */
export function attemptEndAttributes(attempt: AttemptRecord): Attributes {
  return defined({
    [LLM.limiterWaitMs]: attempt.limiterWaitMs,
    [ATTR_HTTP_RESPONSE_STATUS_CODE]: attempt.status,
    [LLM.upstreamRequestId]: attempt.upstreamRequestId,
    [ATTR_ERROR_TYPE]: attempt.errorKind,
  });
}

/** Attributes of the `llm.retry.scheduled` event. */
export function retryEventAttributes(retry: RetryRecord): Attributes {
  return {
    [LLM.retryNumber]: retry.number,
    [LLM.retryReason]: retry.reason,
    [LLM.retryDelayMs]: retry.delayMs,
    [LLM.retryDelaySource]: retry.source,
  };
}

/** `server.address` and `server.port` of the upstream, the port defaulted from the scheme. */
function serverAttributes(baseUrl: string): Attributes {
  try {
    const url = new URL(baseUrl);
    const port = url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
    return { [ATTR_SERVER_ADDRESS]: url.hostname, [ATTR_SERVER_PORT]: port };
  } catch {
    return {};
  }
}

/** Drops unset values: the SDK ignores them, but not every OpenTelemetry API implementation does. */
function defined(attributes: Attributes): Attributes {
  const result: Attributes = {};
  for (const [key, value] of Object.entries(attributes))
    if (value !== undefined) result[key] = value;
  return result;
}

function numberOrUndefined(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}
