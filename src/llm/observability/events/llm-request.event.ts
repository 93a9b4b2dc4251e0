import { randomUUID } from 'node:crypto';
import { type SpanContext } from '@opentelemetry/api';
import { isLlmError, type LlmError } from '../../resilience/llm.errors';
import { type LlmRequestEnding } from '../llm-call-observer';
import * as S from '../llm.semconv';
import { baseEvent, LLM_EVENT_ACTIONS, type LlmEventSource, put } from './llm-event.base';
import { type LlmEventDocument } from './llm-event.fields';

/** How the user-facing request fared. */
export type LlmRequestOutcome = 'success' | 'degraded' | 'failure';

/**
 * `failure` when the request failed (status ≥ 400), `degraded` when it succeeded although at
 * least one of its LLM calls failed (a fallback or a retry in the handler saved it), else
 * `success`.
 */
export function requestOutcomeOf(ending: LlmRequestEnding): LlmRequestOutcome {
  const rpc = ending.rpc?.outcome;
  if (rpc ? rpc === 'error' || rpc === 'nack' : ending.statusCode >= 400) return 'failure';
  return ending.context.calls.some((call) => call.error) ? 'degraded' : 'success';
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
  // Each field written once, in the documents' order, unset ones left out (see llm-call.event.ts).
  const event = baseEvent(source, ending, span);
  // A message is no web request: no HTTP fields, its transport and pattern instead.
  event['event.category'] = rpc ? ['api'] : ['web'];
  event['event.type'] = [outcome === 'failure' ? 'error' : 'access'];
  event['event.action'] = LLM_EVENT_ACTIONS.request;
  // ECS knows only success and failure: a degraded request did succeed for the user.
  event['event.outcome'] = outcome === 'failure' ? 'failure' : 'success';
  event['event.id'] = randomUUID();
  put(event, S.ATTR_ERROR_TYPE, errorType);
  if (outcome === 'failure') put(event, 'error.message', llmError?.message);
  const { context } = ending;
  put(event, S.ATTR_USER_ID, context.userId);
  if (rpc) {
    event[S.ATTR_LLM_REQUEST_TRANSPORT] = rpc.transport;
    put(event, S.ATTR_LLM_REQUEST_PATTERN, rpc.pattern);
    put(event, S.ATTR_LLM_REQUEST_RPC_OUTCOME, rpc.outcome);
    put(event, S.ATTR_LLM_REQUEST_REDELIVERED, rpc.redelivered);
  } else {
    event[S.ATTR_LLM_REQUEST_TRANSPORT] = 'http';
    put(event, S.ATTR_HTTP_REQUEST_METHOD, ending.method);
    event[S.ATTR_HTTP_RESPONSE_STATUS_CODE] = ending.statusCode;
    put(event, S.ATTR_URL_PATH, ending.path?.split('?')[0]);
  }
  put(event, S.ATTR_LLM_FEATURE, context.featureName);
  put(event, S.ATTR_LLM_REQUEST_ID, context.requestId);
  put(event, S.ATTR_LLM_REQUEST_ROUTE, context.route);
  event[S.ATTR_LLM_REQUEST_OUTCOME] = outcome;
  event[S.ATTR_LLM_REQUEST_CALLS] = calls.length;
  event[S.ATTR_LLM_REQUEST_FAILED_CALLS] = failedCalls.length;
  return event;
}
