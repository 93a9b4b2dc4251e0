import { LlmErrorJson, readLlmErrorJson, toLlmErrorJson } from './llm-error.json';

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
  /** Underlying error (socket error, cockatiel rejection, ...). */
  cause?: unknown;
}

const LLM_ERROR_MARKER = Symbol.for('nestjs-resilient-llm.LlmError');

/**
 * The one error type LlmClient throws.
 *
 * @example
 * try { await llm.chat({ messages }) }
 * catch (e) { if (isLlmError(e) && e.kind === 'circuit_open') return cachedAnswer(e.retryAfterMs) }
 */
export class LlmError extends Error {
  /** Stable machine-readable code: `LLM_` + the kind in capitals, e.g. `LLM_RATE_LIMITED`. */
  readonly code: string;
  readonly kind: LlmErrorKind;
  readonly retryable: boolean;
  readonly status?: number;
  readonly requestId?: string;
  /** Attempts made; set by the call path when the error leaves it. */
  attempts: number;
  readonly retryAfterMs?: number;
  readonly retryAfterSource?: DelaySource;
  readonly upstream?: string;
  readonly model?: string;
  readonly providerCode?: string;
  /** The request field at fault, when the error is about the request (e.g. `max_tokens`). */
  readonly param?: string;
  /** Marker that survives duplicate copies of this package in one process. */
  readonly [LLM_ERROR_MARKER] = true;

  constructor(kind: LlmErrorKind, message: string, details: LlmErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'LlmError';
    this.kind = kind;
    this.code = `LLM_${kind.toUpperCase()}`;
    this.retryable = details.retryable ?? RETRYABLE_KINDS.has(kind);
    this.status = details.status;
    this.requestId = details.requestId;
    this.attempts = details.attempts ?? 0;
    this.retryAfterMs = details.retryAfterMs;
    this.retryAfterSource = details.retryAfterSource;
    this.upstream = details.upstream;
    this.model = details.model;
    this.providerCode = details.providerCode;
    this.param = details.param;
  }

  /**
   * The error's documented plain-object form ({@link LlmErrorJson}), which `JSON.stringify` and
   * every Nest transport serialiser use: `message` (non-enumerable on an Error) and `kind` reach
   * the other side. Messages are redacted when the error is built, and `cause` (a socket error,
   * a provider body) is left out, so nothing secret crosses the wire.
   */
  toJSON(): LlmErrorJson {
    return toLlmErrorJson(this);
  }

  /**
   * Rebuilds a typed error from its plain form, e.g. the `err` a ClientProxy observable fails with
   * when the worker used `LlmRpcExceptionFilter`. {@link isLlmError} is true for the result.
   *
   * @example
   * const answer = await firstValueFrom(client.send('summarise', data)).catch((e: unknown) => {
   *   const error = LlmError.fromJSON(e);
   *   if (error?.kind === 'rate_limited') return retryLater(error.retryAfterMs);
   *   throw error ?? e;
   * });
   */
  static fromJSON(value: unknown): LlmError | undefined {
    if (isLlmError(value)) return value;
    const read = readLlmErrorJson(value);
    return read && new LlmError(read.kind, read.message, read.details);
  }
}

/**
 * A stream that failed after content reached the caller. It never ends cleanly: the caller
 * gets this error with the text received so far, and decides whether to show or discard it.
 */
export class LlmIncompleteStreamError extends LlmError {
  /** The content text delivered before the failure. */
  readonly partialText: string;

  constructor(message: string, partialText: string, details: LlmErrorDetails = {}) {
    super('incomplete_stream', message, { ...details, retryable: false });
    this.name = 'LlmIncompleteStreamError';
    this.partialText = partialText;
  }
}

/**
 * True for any {@link LlmError}, even one thrown by another copy of this package or rebuilt with
 * {@link LlmError.fromJSON}. For the plain form as it arrives over a transport, use
 * `isLlmErrorJson`.
 */
export function isLlmError(error: unknown): error is LlmError {
  return typeof error === 'object' && error !== null && LLM_ERROR_MARKER in error;
}

/** True for an {@link LlmError} of the given kind. */
export function isLlmErrorKind(error: unknown, kind: LlmErrorKind): error is LlmError {
  return isLlmError(error) && error.kind === kind;
}
