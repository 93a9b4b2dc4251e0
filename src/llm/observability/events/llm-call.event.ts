import { randomUUID } from 'node:crypto';
import { type SpanContext } from '@opentelemetry/api';
import { type CallRecord } from '../../call/call-record';
import { type BreakerState } from '../../resilience/tracked-breaker';
import { upstreamAttributes } from '../llm-call.attributes';
import * as S from '../llm.semconv';
import { baseEvent, LLM_EVENT_ACTIONS, type LlmEventSource, put } from './llm-event.base';
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
  const { context, upstream } = call;
  // Each field written once, in the documents' order, unset ones left out: no spread, no
  // second pass (this runs for every call while events are on).
  const event = baseEvent(source, { startedAt: call.startedAt, endedAt }, span);
  event['event.category'] = ['api'];
  event['event.type'] = ['info'];
  event['event.action'] = LLM_EVENT_ACTIONS.call;
  event['event.outcome'] = error ? 'failure' : 'success';
  // The client request id is unique per call and sent upstream: one id to find it everywhere.
  event['event.id'] = call.clientRequestId || randomUUID();
  if (error) {
    event[S.ATTR_ERROR_TYPE] = error.kind;
    put(event, 'error.code', error.providerCode);
    put(event, 'error.message', error.message);
  }
  put(event, S.ATTR_USER_ID, context.userId);
  put(event, S.ATTR_HTTP_RESPONSE_STATUS_CODE, error?.status ?? last?.status);
  event[S.ATTR_GEN_AI_OPERATION_NAME] = S.GEN_AI_OPERATION_NAME_VALUE_CHAT;
  // Provider, upstream, server, model, feature: named and valued as in spans and metrics.
  Object.assign(event, upstreamAttributes(upstream));
  event[S.ATTR_GEN_AI_REQUEST_MODEL] = call.model;
  put(event, S.ATTR_LLM_FEATURE, context.featureName);
  // The deprecated name of the provider, for dashboards built on the older conventions.
  event[S.ATTR_GEN_AI_SYSTEM] = upstream.provider;
  if (response) {
    put(event, S.ATTR_GEN_AI_RESPONSE_MODEL, response.model);
    put(event, S.ATTR_GEN_AI_RESPONSE_ID, response.id);
    if (response.finishReasons.length) {
      event[S.ATTR_GEN_AI_RESPONSE_FINISH_REASONS] = response.finishReasons;
    }
    put(event, S.ATTR_GEN_AI_USAGE_INPUT_TOKENS, response.inputTokens);
    put(event, S.ATTR_GEN_AI_USAGE_OUTPUT_TOKENS, response.outputTokens);
  }
  event[S.ATTR_LLM_STREAM] = call.stream;
  event[S.ATTR_LLM_ATTEMPTS] = call.attemptCount;
  event[S.ATTR_LLM_RETRIES] = call.retries.length;
  if (call.retries.length) event[S.ATTR_LLM_RETRY_REASON] = call.retries.map((r) => r.reason);
  put(event, S.ATTR_LLM_REQUESTED_MODEL, call.requestedModel);
  event[S.ATTR_LLM_FALLBACKS] = call.fallbacks.length;
  if (call.fallbacks.length) {
    event[S.ATTR_LLM_FALLBACK_REASON] = call.fallbacks.map((h) => h.reason);
  }
  put(event, S.ATTR_LLM_DEGRADED, call.degraded);
  put(event, S.ATTR_LLM_WAIT_MS, call.totalDelayMs);
  put(event, S.ATTR_LLM_BREAKER_STATE, breakerStateOf(call));
  put(event, S.ATTR_LLM_BREAKER_WAIT_MS, call.breakerWaitMs);
  put(event, S.ATTR_LLM_CLIENT_REQUEST_ID, call.clientRequestId);
  put(event, S.ATTR_LLM_UPSTREAM_REQUEST_ID, error?.requestId ?? last?.upstreamRequestId);
  put(event, S.ATTR_LLM_REQUEST_ID, context.requestId);
  put(event, S.ATTR_LLM_JOB_ID, context.jobId);
  put(event, S.ATTR_LLM_JOB_QUEUE_WAIT_MS, context.queueWaitMs);
  return event;
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
