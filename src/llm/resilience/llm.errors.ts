import { type LlmErrorJson, readLlmErrorJson, toLlmErrorJson } from './llm-error.json';
import type { DelaySource, LlmErrorDetails, LlmErrorKind } from './llm-error.kinds';
import { RETRYABLE_KINDS } from './llm-error.kinds';

// The kinds and details live in their own leaf file so that llm-error.json.ts can use them
// without importing this file back (an import cycle); they are re-exported here for callers.
export { RETRYABLE_KINDS } from './llm-error.kinds';
export type { DelaySource, LlmErrorDetails, LlmErrorKind } from './llm-error.kinds';

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
  /**
   * The provider's rate-limit (`x-ratelimit-*`) and `openai-processing-ms` headers of the answer
   * this error came from (a 429's remaining budget and reset, say); the gateway forwards them.
   */
  readonly upstreamHeaders?: Readonly<Record<string, string>>;
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
    this.upstreamHeaders = details.upstreamHeaders;
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
