import type { LlmError, LlmErrorKind } from '../llm/index';
import { REQUEST_ERROR_KINDS } from '../llm/resilience/llm-error.kinds';
import { openAiError, type OpenAiErrorReply } from './openai-error.body';

/** 499 is nginx's "client closed request": nobody reads it, but logs and metrics tell it apart. */
const CLIENT_CLOSED_REQUEST = 499;

/**
 * Status and OpenAI error type per kind. Failures of the upstream are 502 (it answered badly),
 * 503 (it or our protection of it says "not now") or 504 (it did not answer in time), so a client
 * can tell them from its own 4xx mistakes.
 */
const BY_KIND: Readonly<Record<LlmErrorKind, { status: number; type: string }>> = {
  rate_limited: { status: 429, type: 'rate_limit_error' },
  quota_exceeded: { status: 429, type: 'insufficient_quota' },
  bad_request: { status: 400, type: 'invalid_request_error' },
  context_length_exceeded: { status: 400, type: 'invalid_request_error' },
  content_filtered: { status: 400, type: 'invalid_request_error' },
  auth: { status: 401, type: 'authentication_error' },
  not_found: { status: 404, type: 'invalid_request_error' },
  conflict: { status: 409, type: 'invalid_request_error' },
  server_error: { status: 502, type: 'upstream_error' },
  network: { status: 502, type: 'upstream_error' },
  invalid_response: { status: 502, type: 'upstream_error' },
  incomplete_stream: { status: 502, type: 'upstream_error' },
  overloaded: { status: 503, type: 'service_unavailable_error' },
  circuit_open: { status: 503, type: 'service_unavailable_error' },
  bulkhead_full: { status: 503, type: 'service_unavailable_error' },
  timeout: { status: 504, type: 'timeout_error' },
  deadline_exceeded: { status: 504, type: 'timeout_error' },
  cancelled: { status: CLIENT_CLOSED_REQUEST, type: 'cancelled' },
  internal: { status: 500, type: 'server_error' },
  shutting_down: { status: 503, type: 'service_unavailable_error' },
};

/** The kinds of a provider refusing the caller's request: its own `code` says more than the kind. */
const PROVIDER_REFUSALS: ReadonlySet<LlmErrorKind> = new Set<LlmErrorKind>([
  ...REQUEST_ERROR_KINDS,
  'not_found',
  'conflict',
  'rate_limited',
  'quota_exceeded',
]);

/**
 * The gateway's answer to a failed call. `code` is the provider's own code when the upstream
 * refused the request with one (a 4xx or 429: `insufficient_quota`, `rate_limit_exceeded`,
 * `content_filter`, ...), as a client of the provider checks it, else the stable kind; the kind is
 * always in `x-llm-error-kind`. `Retry-After` (whole
 * seconds) and `retry-after-ms` are sent whenever the wait is known (rate limit, open circuit,
 * a server hint past the deadline), `x-llm-attempts` always.
 *
 * @example
 * const { status, body, headers } = fromLlmError(error); // circuit_open -> 503, Retry-After: 27
 */
export function fromLlmError(error: LlmError): OpenAiErrorReply {
  let { status, type } = BY_KIND[error.kind] ?? { status: 502, type: 'upstream_error' };
  let message = error.message;
  const upstreamStatus = error.status;
  if (
    REQUEST_ERROR_KINDS.has(error.kind) &&
    upstreamStatus &&
    upstreamStatus >= 400 &&
    upstreamStatus < 500
  ) {
    // The upstream's own 4xx (413, 422, ...) says more than a generic 400.
    status = upstreamStatus;
  } else if (error.kind === 'auth') {
    status = upstreamStatus === 403 ? 403 : 401;
    type = status === 403 ? 'permission_error' : type;
    message =
      `The upstream rejected the gateway's own credentials (LLM_API_KEY), not yours: ${message} ` +
      'The gateway operator must fix its key.';
  } else if (error.kind === 'deadline_exceeded' && upstreamStatus === 429) {
    // A rate-limit wait longer than the deadline: still a 429 for the client, with the wait.
    ({ status, type } = BY_KIND.rate_limited);
  }
  // The provider's code as it sent it, for what the provider refused the caller's request for;
  // the kind otherwise: the gateway's own refusals and decisions (a wait past the deadline), the
  // upstream's failures (502/503/504), and its refusal of the gateway's own key (not the caller's).
  // Only an upstream's answer (it has a status): the local limiter names its refusals too.
  // A request the module refused on the provider's behalf (it would refuse it too) carries the
  // code OpenAI gives for that mistake (`missing_required_parameter`, `invalid_type`, ...).
  // A provider's 429 whose wait would pass the deadline is still the provider's refusal.
  const refusedByProvider =
    PROVIDER_REFUSALS.has(error.kind) ||
    (error.kind === 'deadline_exceeded' && upstreamStatus === 429);
  const providers =
    error.providerCode !== undefined &&
    refusedByProvider &&
    (upstreamStatus !== undefined || error.kind === 'bad_request');
  return openAiError(status, type, message, {
    code: providers ? error.providerCode : error.kind,
    param: error.param ?? null,
    headers: headersOf(error),
  });
}

/**
 * A local refusal no wait can cure: a request larger than the whole token budget (no
 * `retryAfterMs`, unlike a full queue or a wait past the deadline). Sent again, it is refused again.
 */
function neverFits(error: LlmError): boolean {
  return (
    error.kind === 'rate_limited' &&
    !error.retryable &&
    error.retryAfterMs === undefined &&
    error.status === undefined
  );
}

function headersOf(error: LlmError): Record<string, string> {
  const headers: Record<string, string> = {
    'x-llm-attempts': String(error.attempts),
    'x-llm-error-kind': error.kind,
  };
  // The gateway is the retry layer: once it has tried the upstream, a client SDK retrying on its
  // own (OpenAI's retries 2 more times by default) would multiply every attempt. OpenAI and
  // Anthropic SDKs obey this header over their status rules.
  if (error.kind === 'shutting_down') {
    // This replica cut the call, it did not spend its retries: the client should send it again,
    // on a new connection, which the load balancer gives to another replica.
    headers['x-should-retry'] = 'true';
    headers.connection = 'close';
  } else if (error.attempts > 0 || neverFits(error) || error.kind === 'circuit_open') {
    // An open circuit too: its Retry-After says when the break ends, and an SDK obeying it slept
    // the whole break (up to 30 s), to fail on the probe.
    headers['x-should-retry'] = 'false';
  }
  if (error.requestId) headers['x-llm-upstream-request-id'] = error.requestId;
  // A 429's remaining budget and reset, as the provider sent them.
  if (error.upstreamHeaders !== undefined) Object.assign(headers, error.upstreamHeaders);
  if (error.retryAfterMs !== undefined) {
    const ms = Math.max(0, Math.ceil(error.retryAfterMs));
    headers['retry-after'] = String(Math.max(1, Math.ceil(ms / 1000)));
    headers['retry-after-ms'] = String(ms);
  }
  return headers;
}
