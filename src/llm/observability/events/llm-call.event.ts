import { randomUUID } from 'node:crypto';
import { SpanContext } from '@opentelemetry/api';
import { CallRecord } from '../../call/call-record';
import { BreakerState } from '../../resilience/tracked-breaker';
import { baseEvent, compact, LLM_EVENT_ACTIONS, LlmEventSource, serverOf } from './llm-event.base';
import { LlmEventDocument } from './llm-event.fields';

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
    'error.type': error?.kind,
    'error.code': error?.providerCode,
    'error.message': error?.message,
    'user.id': call.context.userId,
    'http.response.status_code': error?.status ?? last?.status,
    ...serverOf(call.upstream.baseUrl),
    'gen_ai.operation.name': 'chat',
    'gen_ai.provider.name': call.upstream.provider,
    // The deprecated name of the same value, for dashboards built on the older conventions.
    'gen_ai.system': call.upstream.provider,
    'gen_ai.request.model': call.model,
    'gen_ai.response.model': response?.model,
    'gen_ai.response.id': response?.id,
    'gen_ai.response.finish_reasons': response?.finishReasons.length
      ? response.finishReasons
      : undefined,
    'gen_ai.usage.input_tokens': response?.inputTokens,
    'gen_ai.usage.output_tokens': response?.outputTokens,
    'llm.feature': call.context.featureName,
    'llm.upstream': call.upstream.name,
    'llm.stream': call.stream,
    'llm.attempts': call.attemptCount,
    'llm.retries': call.retries.length,
    'llm.retry_reasons': call.retries.length ? call.retries.map((r) => r.reason) : undefined,
    'llm.requested_model': call.requestedModel,
    'llm.fallbacks': call.fallbacks.length,
    'llm.fallback_reasons': call.fallbacks.length ? call.fallbacks.map((h) => h.reason) : undefined,
    'llm.degraded': call.degraded,
    'llm.wait_ms': call.totalDelayMs,
    'llm.breaker_state': breakerStateOf(call),
    'llm.breaker_wait_ms': call.breakerWaitMs,
    'llm.client_request_id': call.clientRequestId,
    'llm.upstream_request_id': error?.requestId ?? last?.upstreamRequestId,
    'llm.request_id': call.context.requestId,
    'llm.job.id': call.context.jobId,
    'llm.job.queue_wait_ms': call.context.queueWaitMs,
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
