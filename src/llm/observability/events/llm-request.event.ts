import { randomUUID } from 'node:crypto';
import { type SpanContext } from '@opentelemetry/api';
import { isLlmError, type LlmError } from '../../resilience/llm.errors';
import { type LlmRequestEnding } from '../llm-call-observer';
import { baseEvent, LLM_EVENT_ACTIONS, type LlmEventSource } from './llm-event.base';
import { type LlmEventDocument } from './llm-event.fields';

/** How the user-facing request fared. */
export type LlmRequestOutcome = 'success' | 'degraded' | 'failure';

/**
 * `failure` when the request failed (status ≥ 400, or its last call a stream cut after content
 * reached the client: the 200 went out with the first chunk), `degraded` when it succeeded
 * although at least one of its LLM calls failed (a fallback or a retry in the handler saved it),
 * else `success`.
 */
export function requestOutcomeOf(ending: LlmRequestEnding): LlmRequestOutcome {
  const rpc = ending.rpc?.outcome;
  if (rpc ? rpc === 'error' || rpc === 'nack' : ending.statusCode >= 400) return 'failure';
  const { calls } = ending.context;
  // A stream cut after its content reached the client, with no call after it: the status (200)
  // was sent with the first chunk, but the answer the client got is broken.
  if (!rpc && calls.at(-1)?.error?.kind === 'incomplete_stream') return 'failure';
  return calls.some((call) => call.error) ? 'degraded' : 'success';
}

/**
 * The business event of one inbound request (HTTP or RPC) that made LLM calls: did the feature
 * the user was using work, degrade or fail. Only the LlmError message is recorded (it is
 * redacted); other errors contribute their class name, since their text may quote user input.
 *
 * @example
 * sink.write(buildRequestEvent(ending, { serviceName: 'support-api', dataset: 'llm.calls' }, span));
 */
export function buildRequestEvent(
  ending: LlmRequestEnding,
  source: LlmEventSource,
  span?: SpanContext,
): LlmEventDocument {
  const outcome = requestOutcomeOf(ending);
  const calls = ending.context.calls;
  const failedCalls = calls.filter((call) => call.error);
  // What hurt the request: what the handler threw if it is ours, else the last failed call.
  const llmError: LlmError | undefined = isLlmError(ending.error)
    ? ending.error
    : failedCalls.at(-1)?.error;
  const errorType =
    outcome === 'success'
      ? undefined
      : (llmError?.kind ?? (ending.error instanceof Error ? ending.error.name : undefined));
  const rpc = ending.rpc;
  // Each field written once, in the documents' order, unset ones left out, each under its name
  // spelled out (see llm-call.event.ts).
  const event = baseEvent(source, ending, span);
  // A message is no web request: no HTTP fields, its transport and pattern instead.
  event['event.category'] = rpc ? ['api'] : ['web'];
  event['event.type'] = [outcome === 'failure' ? 'error' : 'access'];
  event['event.action'] = LLM_EVENT_ACTIONS.request;
  // ECS knows only success and failure: a degraded request did succeed for the user.
  event['event.outcome'] = outcome === 'failure' ? 'failure' : 'success';
  event['event.id'] = randomUUID();
  if (errorType !== undefined) event['error.type'] = errorType;
  if (outcome === 'failure' && llmError?.message !== undefined) {
    event['error.message'] = llmError.message;
  }
  const { context } = ending;
  if (context.userId !== undefined) event['user.id'] = context.userId;
  if (rpc) {
    event['llm.request.transport'] = rpc.transport;
    if (rpc.pattern !== undefined) event['llm.request.pattern'] = rpc.pattern;
    if (rpc.outcome !== undefined) event['llm.request.rpc_outcome'] = rpc.outcome;
    if (rpc.redelivered !== undefined) event['llm.request.redelivered'] = rpc.redelivered;
  } else {
    event['llm.request.transport'] = 'http';
    if (ending.method !== undefined) event['http.request.method'] = ending.method;
    event['http.response.status_code'] = ending.statusCode;
    const path = ending.path?.split('?')[0];
    if (path !== undefined) event['url.path'] = path;
  }
  if (context.featureName !== undefined) event['llm.feature'] = context.featureName;
  if (context.requestId !== undefined) event['llm.request_id'] = context.requestId;
  if (context.route !== undefined) event['llm.request.route'] = context.route;
  event['llm.request.outcome'] = outcome;
  event['llm.request.calls'] = calls.length;
  event['llm.request.failed_calls'] = failedCalls.length;
  return event;
}
