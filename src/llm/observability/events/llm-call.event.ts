import { randomUUID } from 'node:crypto';
import { type SpanContext } from '@opentelemetry/api';
import { type CallRecord } from '../../call/call-record';
import { type BreakerState } from '../../resilience/tracked-breaker';
import { upstreamAttributes } from '../llm-call.attributes';
import * as S from '../llm.semconv';
import { baseEvent, LLM_EVENT_ACTIONS, type LlmEventSource } from './llm-event.base';
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
  // second pass (this runs for every call while events are on). Every field is written with its
  // name spelled out (checked against the document's fields by the compiler): a store under a
  // computed name (a constant, `put`'s parameter, `Object.assign`) turns a document past a dozen
  // fields into a hash-table object, slower to build and to serialise.
  const event = baseEvent(source, { startedAt: call.startedAt, endedAt }, span);
  event['event.category'] = ['api'];
  event['event.type'] = ['info'];
  event['event.action'] = LLM_EVENT_ACTIONS.call;
  event['event.outcome'] = error ? 'failure' : 'success';
  // The client request id is unique per call and sent upstream: one id to find it everywhere.
  event['event.id'] = call.clientRequestId || randomUUID();
  if (error) {
    event['error.type'] = error.kind;
    if (error.providerCode !== undefined) event['error.code'] = error.providerCode;
    if (error.message !== undefined) event['error.message'] = error.message;
  }
  if (context.userId !== undefined) event['user.id'] = context.userId;
  const status = error?.status ?? last?.status;
  if (status !== undefined) event['http.response.status_code'] = status;
  event['gen_ai.operation.name'] = S.GEN_AI_OPERATION_NAME_VALUE_CHAT;
  // Provider, upstream, server, model, feature: named and valued as in spans and metrics.
  const where = upstreamAttributes(upstream);
  event['gen_ai.provider.name'] = where[S.ATTR_GEN_AI_PROVIDER_NAME];
  event['llm.upstream'] = where[S.ATTR_LLM_UPSTREAM];
  const address = where[S.ATTR_SERVER_ADDRESS];
  if (address !== undefined) event['server.address'] = address;
  const port = where[S.ATTR_SERVER_PORT];
  if (port !== undefined) event['server.port'] = port;
  event['gen_ai.request.model'] = call.model;
  if (context.featureName !== undefined) event['llm.feature'] = context.featureName;
  // The deprecated name of the provider, for dashboards built on the older conventions.
  event['gen_ai.system'] = upstream.provider;
  if (response) {
    if (response.model !== undefined) event['gen_ai.response.model'] = response.model;
    if (response.id !== undefined) event['gen_ai.response.id'] = response.id;
    if (response.finishReasons.length) {
      event['gen_ai.response.finish_reasons'] = response.finishReasons;
    }
    if (response.inputTokens !== undefined) {
      event['gen_ai.usage.input_tokens'] = response.inputTokens;
    }
    if (response.outputTokens !== undefined) {
      event['gen_ai.usage.output_tokens'] = response.outputTokens;
    }
  }
  event['llm.stream'] = call.stream;
  event['llm.attempts'] = call.attemptCount;
  event['llm.retries'] = call.retries.length;
  if (call.retries.length) event['llm.retry.reason'] = call.retries.map((r) => r.reason);
  if (call.requestedModel !== undefined) event['llm.requested_model'] = call.requestedModel;
  event['llm.fallbacks'] = call.fallbacks.length;
  if (call.fallbacks.length) {
    event['llm.fallback.reason'] = call.fallbacks.map((h) => h.reason);
  }
  if (call.degraded !== undefined) event['llm.degraded'] = call.degraded;
  event['llm.wait_ms'] = call.totalDelayMs;
  const breaker = breakerStateOf(call);
  if (breaker !== undefined) event['llm.breaker.state'] = breaker;
  event['llm.breaker.wait_ms'] = call.breakerWaitMs;
  if (call.clientRequestId !== undefined) event['llm.client_request_id'] = call.clientRequestId;
  const upstreamRequestId = error?.requestId ?? last?.upstreamRequestId;
  if (upstreamRequestId !== undefined) event['llm.upstream_request_id'] = upstreamRequestId;
  if (context.requestId !== undefined) event['llm.request_id'] = context.requestId;
  if (context.jobId !== undefined) event['llm.job.id'] = context.jobId;
  if (context.queueWaitMs !== undefined) event['llm.job.queue_wait_ms'] = context.queueWaitMs;
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
