import { randomUUID } from 'node:crypto';
import { type SpanContext } from '@opentelemetry/api';
import { type CallRecord } from '../../call/call-record';
import { type BreakerState } from '../../resilience/tracked-breaker';
import { callAttributes } from '../llm-call.attributes';
import * as S from '../llm.semconv';
import { baseEvent, compact, LLM_EVENT_ACTIONS, type LlmEventSource } from './llm-event.base';
import { type LlmEventDocument } from './llm-event.fields';

/**
 * The business event of one logical LLM call: who (user, feature), against what (upstream,
 * model), how it ended, and what resilience cost (attempts, retries and why, total wait, breaker).
 * Prompt and completion text are never part of it, nor any credential; `error.message` is the
 * LlmError's message, which the call path already redacted.
 *
 * @example
 * sink.write(buildCallEvent(call, { serviceName: 'support-api', dataset: 'llm.calls' }, span));
 */
export function buildCallEvent(
  call: CallRecord,
  source: LlmEventSource,
  span?: SpanContext,
): LlmEventDocument {
  const endedAt = call.endedAt ?? Date.now();
  const last = call.attempts.at(-1);
  const error = call.error;
  const response = call.response;
  return compact({
    ...baseEvent(source, { startedAt: call.startedAt, endedAt }, span),
    'event.category': ['api'],
    'event.type': ['info'],
    'event.action': LLM_EVENT_ACTIONS.call,
    'event.outcome': error ? 'failure' : 'success',
    // The client request id is unique per call and sent upstream: one id to find it everywhere.
    'event.id': call.clientRequestId || randomUUID(),
    [S.ATTR_ERROR_TYPE]: error?.kind,
    'error.code': error?.providerCode,
    'error.message': error?.message,
    [S.ATTR_USER_ID]: call.context.userId,
    [S.ATTR_HTTP_RESPONSE_STATUS_CODE]: error?.status ?? last?.status,
    [S.ATTR_GEN_AI_OPERATION_NAME]: S.GEN_AI_OPERATION_NAME_VALUE_CHAT,
    // Provider, upstream, server, model, feature: named and valued as in spans and metrics.
    ...callAttributes(call.upstream, call.model, call.context.featureName),
    // The deprecated name of the provider, for dashboards built on the older conventions.
    [S.ATTR_GEN_AI_SYSTEM]: call.upstream.provider,
    [S.ATTR_GEN_AI_RESPONSE_MODEL]: response?.model,
    [S.ATTR_GEN_AI_RESPONSE_ID]: response?.id,
    [S.ATTR_GEN_AI_RESPONSE_FINISH_REASONS]: response?.finishReasons.length
      ? response.finishReasons
      : undefined,
    [S.ATTR_GEN_AI_USAGE_INPUT_TOKENS]: response?.inputTokens,
    [S.ATTR_GEN_AI_USAGE_OUTPUT_TOKENS]: response?.outputTokens,
    [S.ATTR_LLM_STREAM]: call.stream,
    [S.ATTR_LLM_ATTEMPTS]: call.attemptCount,
    [S.ATTR_LLM_RETRIES]: call.retries.length,
    [S.ATTR_LLM_RETRY_REASON]: call.retries.length ? call.retries.map((r) => r.reason) : undefined,
    [S.ATTR_LLM_REQUESTED_MODEL]: call.requestedModel,
    [S.ATTR_LLM_FALLBACKS]: call.fallbacks.length,
    [S.ATTR_LLM_FALLBACK_REASON]: call.fallbacks.length
      ? call.fallbacks.map((h) => h.reason)
      : undefined,
    [S.ATTR_LLM_DEGRADED]: call.degraded,
    [S.ATTR_LLM_WAIT_MS]: call.totalDelayMs,
    [S.ATTR_LLM_BREAKER_STATE]: breakerStateOf(call),
    [S.ATTR_LLM_BREAKER_WAIT_MS]: call.breakerWaitMs,
    [S.ATTR_LLM_CLIENT_REQUEST_ID]: call.clientRequestId,
    [S.ATTR_LLM_UPSTREAM_REQUEST_ID]: error?.requestId ?? last?.upstreamRequestId,
    [S.ATTR_LLM_REQUEST_ID]: call.context.requestId,
    [S.ATTR_LLM_JOB_ID]: call.context.jobId,
    [S.ATTR_LLM_JOB_QUEUE_WAIT_MS]: call.context.queueWaitMs,
  });
}

/**
 * The breaker as the call left it: after its last attempt, or `open` for a call the breaker
 * rejected before any attempt.
 */
function breakerStateOf(call: CallRecord): BreakerState | undefined {
  const last = call.attempts.at(-1);
  if (last) return last.breakerAfter ?? last.breakerBefore;
  return call.error?.kind === 'circuit_open' ? 'open' : undefined;
}
