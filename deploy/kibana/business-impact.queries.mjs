// What the Business impact panels filter on: the two kinds of business event (one per logical
// LLM call, one per inbound request that made calls) and the error kinds grouped by whose problem
// they are. Values are the event writer's (src/llm/observability/events/llm-call.event.ts).
import { lens } from './saved-objects.mjs';

export const DATA_VIEW_ID = 'llm-calls';

export const CALLS = 'event.action : "llm-call"';
export const FAILED_CALLS = `${CALLS} and event.outcome : "failure"`;
export const REQUESTS = 'event.action : "llm-request"';
export const FAILURE = 'event.outcome : "failure"';

/** Error kinds (LlmErrorKind) grouped by whose problem they are. */
export const ERROR_GROUPS = [
  ['Rate limited (provider 429)', 'error.type : ("rate_limited" or "quota_exceeded")'],
  [
    'Server error or overloaded (provider 5xx)',
    'error.type : ("server_error" or "overloaded" or "conflict" or "invalid_response" or "incomplete_stream")',
  ],
  ['Network or timeout', 'error.type : ("network" or "timeout")'],
  [
    'Client error (our request or key)',
    'error.type : ("auth" or "bad_request" or "context_length_exceeded" or "content_filtered" or "not_found")',
  ],
  ['Circuit open (rejected here)', 'error.type : "circuit_open"'],
  [
    'Us (bulkhead, deadline, cancelled, internal, shutdown)',
    'error.type : ("bulkhead_full" or "deadline_exceeded" or "cancelled" or "internal" or "shutting_down")',
  ],
];

/** A Lens visualization over the business-event data view. */
export const panel = (spec) => lens({ dataViewId: DATA_VIEW_ID, ...spec });
