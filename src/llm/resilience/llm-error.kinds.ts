/**
 * Every failure of an LLM call is an {@link LlmError} with a {@link LlmErrorKind}: callers switch
 * on `kind` (or `retryable`) instead of parsing messages or HTTP statuses.
 */
export type LlmErrorKind =
  /** 429: requests- or tokens-per-minute limit hit. Retryable; `retryAfterMs` says how long. */
  | 'rate_limited'
  /** 429 `insufficient_quota`: the account is out of credit. Never retried. */
  | 'quota_exceeded'
  /** 500, 502, 504 and other 5xx from the provider. Retryable. */
  | 'server_error'
  /** 503 / 529: the provider is overloaded or down for maintenance. Retryable. */
  | 'overloaded'
  /** 408, or no response headers within the attempt timeout, or connect timeout. Retryable. */
  | 'timeout'
  /** Connection refused, reset, DNS failure: the provider never answered. Retryable. */
  | 'network'
  /** 409: a conflicting request (OpenAI uses it for lock timeouts). Retryable. */
  | 'conflict'
  /** 200 with a body that is not the JSON or SSE the API promises. Retryable. */
  | 'invalid_response'
  /** 401 / 403: the API key is missing, wrong or lacks permission. Never retried. */
  | 'auth'
  /** 400, 413, 422 and other client errors: the request is wrong. Never retried. */
  | 'bad_request'
  /** 400 `context_length_exceeded`: prompt plus max_tokens exceed the model's window. */
  | 'context_length_exceeded'
  /** 400 `content_filter`: the provider refused the prompt or the completion. */
  | 'content_filtered'
  /** 404: the model or endpoint does not exist for this key. Never retried. */
  | 'not_found'
  /** The circuit for this upstream and model is open: the call never left the process. */
  | 'circuit_open'
  /** The upstream's concurrency limit and its queue are full: rejected at once. */
  | 'bulkhead_full'
  /** The total deadline passed, or a server hint asked to wait past it. */
  | 'deadline_exceeded'
  /** The caller aborted the call through its AbortSignal. */
  | 'cancelled'
  /** A stream failed after content was delivered; `partialText` holds what arrived. */
  | 'incomplete_stream'
  /**
   * A failure inside this process (encoding the request, a bug): the upstream was not at fault,
   * so it is never retried and never counts toward the circuit breaker.
   */
  | 'internal'
  /**
   * The process is shutting down and the call did not finish within the drain timeout (see
   * `LlmDrain`). Never retried, never a breaker failure.
   */
  | 'shutting_down';

/** Kinds that are worth another attempt when no server hint says otherwise. */
export const RETRYABLE_KINDS: ReadonlySet<LlmErrorKind> = new Set<LlmErrorKind>([
  'rate_limited',
  'server_error',
  'overloaded',
  'timeout',
  'network',
  'conflict',
  'invalid_response',
]);

/**
 * Kinds that are a mistake in the request: the caller must change it. The provider's `param` is
 * kept for them, and the gateway answers them with the upstream's own 4xx.
 */
export const REQUEST_ERROR_KINDS: ReadonlySet<LlmErrorKind> = new Set<LlmErrorKind>([
  'bad_request',
  'context_length_exceeded',
  'content_filtered',
]);

/** Where the wait before a retry came from. */
export type DelaySource =
  | 'backoff'
  | 'retry-after-ms'
  | 'retry-after'
  | 'x-ratelimit-reset-requests'
  | 'x-ratelimit-reset-tokens';

/** What the caller may know about an error; everything but `kind` and `message` is optional. */
export interface LlmErrorDetails {
  /** Whether another attempt could succeed; defaults from the kind. */
  retryable?: boolean;
  /** HTTP status from the provider, when there was a response. */
  status?: number;
  /** The provider's request id (`x-request-id`), to quote in a support ticket. */
  requestId?: string;
  /** Attempts made before giving up (0 when the call never reached the upstream). */
  attempts?: number;
  /** How long to wait before trying again, when known (server hint, open circuit, deadline). */
  retryAfterMs?: number;
  /** Which hint produced `retryAfterMs`. */
  retryAfterSource?: DelaySource;
  /** Upstream name and model the error happened on. */
  upstream?: string;
  model?: string;
  /** The provider's own error code (`error.code` in the body), e.g. `insufficient_quota`. */
  providerCode?: string;
  /** The request field at fault, for errors about the request itself (e.g. `messages`). */
  param?: string;
  /**
   * The provider's rate-limit (`x-ratelimit-*`) and `openai-processing-ms` headers of the answer
   * this error came from, as it sent them (counts, durations or times, at most 64 characters).
   */
  upstreamHeaders?: Readonly<Record<string, string>>;
  /** Underlying error (socket error, cockatiel rejection, ...). */
  cause?: unknown;
}
