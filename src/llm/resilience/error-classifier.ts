import { STATUS_CODES } from 'node:http';
import { LlmError, RETRYABLE_KINDS, type LlmErrorKind } from './llm.errors';
import { REQUEST_ERROR_KINDS } from './llm-error.kinds';
import { headerValue, parseServerHint, parseShouldRetry, type HeaderBag } from './retry-after';
import { maskPromptEcho } from './prompt-echo';
import { redactSecrets } from './secret-redaction';
import { forwardedHeaders } from './forwarded-headers';

/** An HTTP error response from an upstream, as {@link classifyHttpError} needs it. */
export interface HttpErrorResponse {
  status: number;
  headers: HeaderBag;
  /** The response body as text; JSON or not. */
  body: string;
  upstream: string;
  model: string;
  /** Values masked in the provider's message, e.g. the upstream's API key. */
  secrets?: readonly (string | undefined)[];
  /**
   * The request's `messages`: a refusal of the request (a 4xx but 429) that quotes their text has
   * it masked (see {@link maskPromptEcho}).
   */
  prompt?: unknown;
  /** Current time for `Retry-After` dates; injectable for tests. */
  now?: number;
}

/**
 * Kinds that stay non-retryable even when the provider sends `x-should-retry: true`. OpenAI's
 * SDK (openai-node `shouldRetry`) obeys the header for any status; we do too, except here: a wrong key or an empty account
 * fails the same way every time, and retrying them only multiplies the failure (the design
 * promises "auth: never retried"). `x-should-retry: false` is obeyed for every kind.
 */
export const NEVER_RETRIED_KINDS: ReadonlySet<LlmErrorKind> = new Set(['auth', 'quota_exceeded']);

/** The longest provider text that goes into a message: bodies can be whole HTML pages. */
const MAX_PROVIDER_TEXT = 300;

/**
 * The reason phrase of a status, including the non-standard ones LLM providers use.
 *
 * @example
 * describeStatus(502); // 'Bad Gateway'
 * describeStatus(529); // 'Overloaded'
 */
export function describeStatus(status: number): string {
  // 529 is Anthropic's "overloaded_error"; Node's table does not know it.
  return status === 529 ? 'Overloaded' : (STATUS_CODES[status] ?? `HTTP ${status}`);
}

/** A request field path as providers name it: `messages[0].content[1].text`, `max_tokens`. */
const FIELD_PATH = /^[A-Za-z_][\w.[\]-]{0,127}$/;

/**
 * Turns an error response into the {@link LlmError} the rest of the call path acts on: the
 * kind, whether another attempt may succeed, the server's wait hint (uncapped), the request id
 * and a message that says what happened and what to do. The provider's text is redacted with
 * `secrets` and cut to 300 characters. For a mistake in the request, the field the provider names
 * (`error.param`, when it is a field path) becomes the error's `param`.
 *
 * @example
 * const error = classifyHttpError({ status: 429, headers, body, upstream: 'openai', model: 'gpt-4o' });
 * // error.kind === 'rate_limited', error.retryAfterMs === 1200, error.message ===
 * // "Upstream 'openai' model 'gpt-4o' answered 429 (rate_limit_exceeded): Rate limit reached
 * //  for requests. The rate limit of this upstream was hit. Retry after 1.2 s."
 */
export function classifyHttpError(response: HttpErrorResponse): LlmError {
  const { status, headers, upstream, model } = response;
  const parsed = parseProviderError(response.body);
  // The provider's `code`. OpenAI sends one on every error, null for many refusals (a wrong
  // parameter), and its `type` is then a category (`invalid_request_error`), not a code. A body
  // with no `code` field at all (Anthropic's) names the reason in its `type`.
  const reason = parsed?.hasCode ? parsed.code : parsed?.type;
  const found = reason && reason !== String(status) ? reason : undefined;
  // The code is the provider's text too: bounded and redacted like its message.
  const providerCode = found ? redactSecrets(found.slice(0, 64), response.secrets) : undefined;
  const kind = kindOf(status, parsed);
  // The request field the provider names (`messages[0].role`), for a mistake in the request; only
  // a field path, so no provider text rides along, and redacted first: a key (`sk-...`) has a
  // field path's shape.
  const named =
    REQUEST_ERROR_KINDS.has(kind) && parsed?.param
      ? redactSecrets(parsed.param, response.secrets)
      : undefined;
  const param = named && FIELD_PATH.test(named) ? named : undefined;
  const shouldRetry = parseShouldRetry(headers);
  // A redirect is not followed (the key would go with it), and says the same on every attempt:
  // the base URL is not where the API is. Retried, it cost three more requests and seconds.
  const redirect = status >= 300 && status < 400;
  const retryable = redirect
    ? false
    : shouldRetry === false || (shouldRetry === true && !NEVER_RETRIED_KINDS.has(kind))
      ? shouldRetry
      : RETRYABLE_KINDS.has(kind);
  const hint = parseServerHint(headers, status, response.now);
  const provided = providerText(status, response.body, parsed?.message, response.secrets);
  // A refusal of the request may quote it (a content filter's "Your prompt '…'"): the message
  // goes into logs, spans and events, which hold no prompt text unless the caller opts in.
  const refusal = status >= 400 && status < 500 && status !== 429;
  const text = refusal ? maskPromptEcho(provided, response.prompt) : provided;
  const what = [
    redirect
      ? REDIRECT_ADVICE.replaceAll('{u}', upstream)
      : ADVICE[kind]?.replaceAll('{u}', upstream),
    retryAdvice(retryable, shouldRetry, hint?.delayMs),
  ];
  return new LlmError(
    kind,
    `Upstream '${upstream}' model '${model}' answered ${status}` +
      `${providerCode ? ` (${providerCode})` : ''}: ${text} ${what.filter(Boolean).join(' ')}`,
    {
      retryable,
      status,
      requestId: headerValue(headers, 'x-request-id'),
      retryAfterMs: hint?.delayMs,
      retryAfterSource: hint?.source,
      upstream,
      model,
      providerCode,
      param,
      upstreamHeaders: forwardedHeaders(headers),
    },
  );
}

/**
 * An `{"error": ...}` event in a stream (HTTP 200), or a 200 answer whose body is one, classified as the error response it stands for:
 * the status the event names (`code` 400–599, as vLLM sends it), else the one its code or type
 * means (`rate_limit_exceeded` 429, `invalid_request_error` 400, `overloaded_error` 529, ...), else
 * 500. So a streamed `context_length_exceeded` is the caller's mistake (not retried, not a breaker
 * failure), as it is when the provider answers it with a 400.
 *
 * @example
 * classifyStreamErrorEvent('{"error":{"code":"context_length_exceeded"}}', 'openai', 'gpt-4o').kind;
 * // 'context_length_exceeded'
 */
export function classifyStreamErrorEvent(
  raw: string,
  upstream: string,
  model: string,
  secrets?: readonly (string | undefined)[],
  requestId?: string,
  /** Where the error came: an event of the stream (the default), or a 200 answer's whole body. */
  came = 'sent an error event in the stream',
): LlmError {
  const parsed = parseProviderError(raw);
  const classified = classifyHttpError({
    status: statusOfEvent(raw, parsed),
    headers: {},
    body: raw,
    upstream,
    model,
    secrets,
  });
  const text = providerText(200, raw, parsed?.message, secrets);
  return new LlmError(
    classified.kind,
    `Upstream '${upstream}' ${came}` +
      `${classified.providerCode ? ` (${classified.providerCode})` : ''}: ${text}`,
    {
      retryable: classified.retryable,
      status: 200,
      requestId,
      upstream,
      model,
      providerCode: classified.providerCode,
      param: classified.param,
    },
  );
}

/** The codes and types of error events, by the status the same error has as a response. */
const EVENT_STATUS: Readonly<Record<string, number>> = {
  invalid_request_error: 400,
  context_length_exceeded: 400,
  content_filter: 400,
  content_policy_violation: 400,
  authentication_error: 401,
  invalid_api_key: 401,
  permission_error: 403,
  not_found_error: 404,
  model_not_found: 404,
  rate_limit_exceeded: 429,
  rate_limit_error: 429,
  insufficient_quota: 429,
  overloaded_error: 529,
};

function statusOfEvent(raw: string, parsed: ProviderError | undefined): number {
  // A number, or a string of one (LiteLLM's and Azure's `"code": "429"`).
  const numeric = /"(?:code|status)"\s*:\s*"?([45]\d\d)\b/.exec(raw.slice(0, 4096));
  if (numeric) return Number(numeric[1]);
  for (const name of [parsed?.code, parsed?.type]) {
    const status = name === undefined ? undefined : EVENT_STATUS[name];
    if (status !== undefined) return status;
  }
  if (/maximum context length/i.test(parsed?.message ?? '')) return 400;
  return 500;
}

type ProviderError = Partial<
  Record<'message' | 'code' | 'type' | 'param' | 'innerCode', string>
> & {
  /** The body has a `code` field, null included (OpenAI's shape). */
  hasCode?: boolean;
};

/** OpenAI's `{error:{message,type,code}}`, Ollama's `{error:"..."}`, vLLM's top-level fields. */
function parseProviderError(body: string): ProviderError | undefined {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return undefined; // an HTML error page from a proxy, or plain text
  }
  if (!isRecord(json)) return undefined;
  if (typeof json.error === 'string') return { message: json.error };
  const source = isRecord(json.error) ? json.error : json;
  const inner = isRecord(source.innererror) ? source.innererror : {};
  return {
    message: asText(source.message) ?? asText(json.detail),
    code: asText(source.code),
    hasCode: 'code' in source,
    type: asText(source.type),
    param: asText(source.param),
    innerCode: asText(inner.code),
  };
}

function kindOf(status: number, error: ProviderError | undefined): LlmErrorKind {
  if (status === 401 || status === 403) return 'auth';
  if (status === 404) return 'not_found';
  if (status === 408) return 'timeout';
  if (status === 409) return 'conflict';
  if (status === 429) {
    const quota = error?.code === 'insufficient_quota' || error?.type === 'insufficient_quota';
    return quota ? 'quota_exceeded' : 'rate_limited';
  }
  if (status === 503 || status === 529) return 'overloaded';
  if (status >= 500) return 'server_error';
  if (status < 400) return 'invalid_response'; // only error statuses should reach here
  const code = error?.code;
  // vLLM and other OpenAI-compatible servers send only the message, without a code.
  if (code === 'context_length_exceeded' || /maximum context length/i.test(error?.message ?? ''))
    return 'context_length_exceeded';
  // Azure OpenAI: `content_filter`, with `innererror.code` ResponsibleAIPolicyViolation.
  if (code === 'content_filter' || code === 'content_policy_violation') return 'content_filtered';
  if (error?.innerCode === 'ResponsibleAIPolicyViolation') return 'content_filtered';
  return 'bad_request';
}

const REDIRECT_ADVICE =
  "A redirect is not followed: set the base URL of upstream '{u}' to the address it points to.";

/** What happened in the reader's terms, and what to do when it is theirs to fix. */
const ADVICE: Partial<Record<LlmErrorKind, string>> = {
  auth: "The API key for upstream '{u}' is missing or invalid, or lacks permission for this model; check the key configured for '{u}'.",
  quota_exceeded:
    "The account behind upstream '{u}' is out of quota or credit; add credit or raise its limit.",
  not_found: "Check the model name and the base URL configured for upstream '{u}'.",
  context_length_exceeded:
    'Shorten the messages or lower max_tokens, or use a model with a larger context window.',
  content_filtered: "The provider's content filter refused the prompt or the completion.",
  bad_request: 'The provider rejected the request as invalid; fix the request.',
  rate_limited: 'The rate limit of this upstream was hit.',
  overloaded: 'The provider is overloaded or down for maintenance.',
  conflict: 'The provider reported a conflicting request (such as a lock timeout).',
  invalid_response: 'This status is not an error status the API documents.',
};

/** An attempt's advice when the provider said nothing of when to come back. */
const BACKOFF_ADVICE = 'Retryable with backoff.';

function retryAdvice(retryable: boolean, shouldRetry?: boolean, waitMs?: number): string {
  if (!retryable) {
    return shouldRetry === false
      ? 'Not retried: the provider sent x-should-retry: false.'
      : 'Not retried.';
  }
  return waitMs === undefined ? BACKOFF_ADVICE : `Retry after ${formatWait(waitMs)}.`;
}

/**
 * The message of an error as it leaves the call: an attempt's "Retryable with backoff." becomes
 * what was done about it ("Gave up after 3 attempts."), once the call's retries are spent. The
 * error stays retryable: a caller may send the call again later.
 *
 * @example
 * finalMessage("... answered 502: Bad gateway. Retryable with backoff.", 3)
 * // "... answered 502: Bad gateway. Gave up after 3 attempts; retryable later."
 */
export function finalMessage(message: string, attempts: number): string {
  if (attempts < 1 || !message.endsWith(BACKOFF_ADVICE)) return message;
  const made = attempts === 1 ? '1 attempt' : `${attempts} attempts`;
  return `${message.slice(0, -BACKOFF_ADVICE.length)}Gave up after ${made}; retryable later.`;
}

function formatWait(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${Number((ms / 1000).toFixed(1))} s`;
}

/** The provider's message, or a status-based one; redacted first so a cut never splits a key. */
function providerText(
  status: number,
  body: string,
  message: string | undefined,
  secrets: readonly (string | undefined)[] = [],
): string {
  const raw = body.trim();
  const page = raw === '' ? 'empty body' : raw.startsWith('<') ? 'HTML error page' : undefined;
  const fallback = page === undefined ? raw : `${describeStatus(status)} (${page})`;
  const text = redactSecrets(message ?? fallback, secrets)
    .replace(/\s+/g, ' ')
    .trim();
  const cut = text.length > MAX_PROVIDER_TEXT ? `${text.slice(0, MAX_PROVIDER_TEXT - 1)}…` : text;
  return /[.!?…]$/.test(cut) ? cut : `${cut}.`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function asText(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}
