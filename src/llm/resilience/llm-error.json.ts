import { forwardedHeaders } from './forwarded-headers';
import type { DelaySource, LlmErrorDetails, LlmErrorKind } from './llm-error.kinds';

/**
 * The plain-object form of an {@link LlmError}: what `toJSON()` returns and what a producer
 * receives from a microservice that uses `LlmRpcExceptionFilter`. Optional fields are left out
 * when unknown. The message is redacted (no API key, no prompt text); `cause` is never included.
 *
 * @example
 * { "name": "LlmError", "kind": "auth", "code": "LLM_AUTH", "retryable": false, "status": 401,
 *   "attempts": 1, "message": "The API key for upstream 'openai' is missing or invalid, ..." }
 */
export interface LlmErrorJson {
  /** Always `LlmError` (or a subclass's name): how {@link isLlmErrorJson} recognises the form. */
  name: string;
  kind: LlmErrorKind;
  /** `LLM_` + the kind in capitals. */
  code: string;
  message: string;
  retryable: boolean;
  attempts: number;
  status?: number;
  retryAfterMs?: number;
  retryAfterSource?: DelaySource;
  /** The provider's request id (`x-request-id`). */
  requestId?: string;
  upstream?: string;
  model?: string;
  providerCode?: string;
  param?: string;
  /** The provider's `x-ratelimit-*` and `openai-processing-ms` headers, when it sent them. */
  upstreamHeaders?: Readonly<Record<string, string>>;
}

/** Bounds on what a rebuilt error may carry: the plain form comes from another process. */
const MAX_MESSAGE = 2048;
const MAX_FIELD = 256;

/** The plain form of an error: an {@link LlmError} has every field (typed here structurally so
 * this file need not import llm.errors.ts, which imports it). */
export function toLlmErrorJson(error: Readonly<LlmErrorJson>): LlmErrorJson {
  return strip({
    name: error.name,
    kind: error.kind,
    code: error.code,
    message: error.message,
    retryable: error.retryable,
    attempts: error.attempts,
    status: error.status,
    retryAfterMs: error.retryAfterMs,
    retryAfterSource: error.retryAfterSource,
    requestId: error.requestId,
    upstream: error.upstream,
    model: error.model,
    providerCode: error.providerCode,
    param: error.param,
    upstreamHeaders: error.upstreamHeaders,
  });
}

/**
 * True for the plain form of an LlmError as it arrives over a transport (a `kind` and a `code`
 * that agree, and a message). The symbol marker of {@link isLlmError} does not survive JSON.
 */
export function isLlmErrorJson(value: unknown): value is LlmErrorJson {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Partial<Record<keyof LlmErrorJson, unknown>>;
  return (
    typeof v.kind === 'string' &&
    /^[a-z_]{1,40}$/.test(v.kind) &&
    v.code === `LLM_${v.kind.toUpperCase()}` &&
    typeof v.message === 'string'
  );
}

/** The kind, message and details of a plain form, bounded, to build an LlmError from. */
export function readLlmErrorJson(
  value: unknown,
): { kind: LlmErrorKind; message: string; details: LlmErrorDetails } | undefined {
  if (!isLlmErrorJson(value)) return undefined;
  return {
    kind: value.kind,
    message: value.message.slice(0, MAX_MESSAGE),
    details: {
      retryable: typeof value.retryable === 'boolean' ? value.retryable : undefined,
      attempts: finite(value.attempts),
      status: finite(value.status),
      retryAfterMs: finite(value.retryAfterMs),
      retryAfterSource: text(value.retryAfterSource) as DelaySource | undefined,
      requestId: text(value.requestId),
      upstream: text(value.upstream),
      model: text(value.model),
      providerCode: text(value.providerCode),
      param: text(value.param),
      upstreamHeaders: headersOf(value.upstreamHeaders),
    },
  };
}

/** Only the forwarded names and values of their form: the plain form came from another process. */
function headersOf(value: unknown): Readonly<Record<string, string>> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? forwardedHeaders(value as Record<string, unknown>)
    : undefined;
}

function finite(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : undefined;
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' ? value.slice(0, MAX_FIELD) : undefined;
}

function strip<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, field]) => field !== undefined)) as T;
}
