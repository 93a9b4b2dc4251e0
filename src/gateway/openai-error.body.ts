/** The `{ error: { message, type, param, code } }` body OpenAI sends with every error. */
export interface OpenAiErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

/** An error response as the gateway sends it: status, OpenAI-shaped body, extra headers. */
export interface OpenAiErrorReply {
  status: number;
  body: OpenAiErrorBody;
  headers: Record<string, string>;
}

/**
 * Builds an {@link OpenAiErrorReply}; OpenAI SDKs read `error.message` and `error.code`, and pick
 * their exception class from the status. Every error answer carries `x-llm-error-kind` and
 * `x-llm-attempts`: a refusal of the gateway's own (a body it cannot read, a missing key, an
 * unknown URL) made no attempt, and its kind follows from the status unless `headers` name one.
 *
 * @example
 * openAiError(400, 'invalid_request_error', "'messages' is required.", { param: 'messages' })
 */
export function openAiError(
  status: number,
  type: string,
  message: string,
  extra: { param?: string | null; code?: string | null; headers?: Record<string, string> } = {},
): OpenAiErrorReply {
  return {
    status,
    body: { error: { message, type, param: extra.param ?? null, code: extra.code ?? null } },
    headers: {
      'x-llm-error-kind': ownRefusalKind(status),
      'x-llm-attempts': '0',
      ...extra.headers,
    },
  };
}

/** The error kind of an answer the gateway chose itself, without calling the upstream. */
function ownRefusalKind(status: number): string {
  if (status === 401 || status === 403) return 'auth';
  if (status === 404) return 'not_found';
  if (status === 429) return 'rate_limited';
  return status >= 500 ? 'internal' : 'bad_request';
}

/** The OpenAI error `type` that goes with an HTTP status the gateway chose itself. */
export function errorTypeFor(status: number): string {
  if (status === 401) return 'authentication_error';
  if (status === 403) return 'permission_error';
  if (status === 429) return 'rate_limit_error';
  return status >= 500 ? 'server_error' : 'invalid_request_error';
}
