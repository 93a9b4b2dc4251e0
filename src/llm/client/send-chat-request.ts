import { Logger } from '@nestjs/common';
import { type ResolvedUpstream } from '../llm-module.options';
import { classifyHttpError } from '../resilience/error-classifier';
import {
  type LlmHttpTransport,
  type UpstreamRequest,
  type UpstreamResponse,
} from '../transport/llm-http.transport';
import { MAX_ERROR_BODY_BYTES, readBody } from '../transport/read-body';
import type { ChatCompletionRequest } from '../call/chat.types';
import type { AttemptContext } from './llm-call';

/** What one attempt of a chat call sends. */
export interface ChatAttemptInput {
  transport: LlmHttpTransport;
  upstream: ResolvedUpstream;
  model: string;
  body: Record<string, unknown>;
  context: AttemptContext;
  /**
   * A stream whose usage this attempt asked for though the caller did not (`streamUsage`): the
   * upstream's usage-only last chunk is recorded, not passed on. Cleared when the upstream
   * refused the field and the request went again without it.
   */
  usageAdded: boolean;
  /** With `usageAdded`: the caller's own `stream_options`, if it gave any. */
  callerStreamOptions?: unknown;
}

/**
 * Upstreams that refused `stream_options` the module added (a server or API version that does not
 * know it): their streams no longer ask for usage, in this process.
 */
const refusingStreamOptions = new WeakSet<ResolvedUpstream>();
const logger = new Logger('LlmClient');

/**
 * What an attempt sends: the body names the model the call is at now (fallbacks move it), and
 * asks for a stream or not.
 */
export function chatAttemptInput(
  transport: LlmHttpTransport,
  request: ChatCompletionRequest,
  stream: boolean,
  context: AttemptContext,
): ChatAttemptInput {
  const { upstream, model } = context.record;
  const body: Record<string, unknown> = { ...request, model, stream };
  // Only when there is one to drop: `delete` is a call into the runtime even for nothing.
  if (!stream && 'stream_options' in body) delete body.stream_options;
  // Read for streams only: a plain call's body has just dropped it.
  const given = stream ? (request as { stream_options?: unknown }).stream_options : undefined;
  const usageAdded =
    stream &&
    upstream.requestsStreamUsage &&
    mayAddUsage(given) &&
    !refusingStreamOptions.has(upstream);
  if (!usageAdded) return { transport, upstream, model, body, context, usageAdded };
  body.stream_options = { ...(isPlainObject(given) ? given : {}), include_usage: true };
  return { transport, upstream, model, body, context, usageAdded, callerStreamOptions: given };
}

/**
 * Whether the usage may be asked for on top of the caller's `stream_options`: none given (or
 * null), or an object whose `include_usage` is unset or false. The caller's own `true` needs no
 * help, and a malformed value (a string, `include_usage: 'yes'`) goes as written, for the upstream
 * to refuse as it would without the module.
 */
function mayAddUsage(options: unknown): boolean {
  if (options === undefined || options === null) return true;
  if (!isPlainObject(options)) return false;
  const include = options.include_usage;
  return include === undefined || include === false;
}

/** A 4xx whose text names `stream_options` (OpenAI-compatible servers that do not know it). */
function refusesStreamOptions(status: number, text: string): boolean {
  return status >= 400 && status < 500 && status !== 429 && text.includes('stream_options');
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Sends one attempt's request and records its status, the provider's request id and its headers
 * (`AttemptRecord.responseHeaders`): a plain attempt's 2xx answer leaves its headers to the attempt
 * (`sendChatAttempt` records them once the answer is handed over). A non-2xx answer is read and
 * classified here, so plain and streaming attempts fail alike.
 */
export async function sendChatRequest(
  input: ChatAttemptInput,
  signal: AbortSignal,
  responseType: UpstreamRequest['responseType'],
): Promise<UpstreamResponse> {
  const { upstream, model, context } = input;
  const response = await input.transport.send(upstream, {
    path: '/chat/completions',
    body: input.body,
    signal,
    headers: context.headers,
    responseType,
  });
  context.attempt.status = response.status;
  context.attempt.upstreamRequestId = response.requestId;
  context.attempt.upstreamHeaders = response.forwardedHeaders;
  const success = response.status >= 200 && response.status <= 299;
  if (!success || responseType === 'stream') context.attempt.responseHeaders = response.headers;
  if (!success) {
    const text =
      typeof response.body === 'string'
        ? response.body.slice(0, MAX_ERROR_BODY_BYTES)
        : await readBody(response.body, MAX_ERROR_BODY_BYTES);
    if (input.usageAdded && refusesStreamOptions(response.status, text)) {
      // The field is the module's, not the caller's: the same request again without it, once.
      refusingStreamOptions.add(upstream);
      logger.warn(
        `Upstream '${upstream.name}' refused stream_options.include_usage, which the module adds ` +
          `to streams (streamUsage): its streams no longer ask for token usage. Set its ` +
          `streamUsage to 'never' (the gateway's LLM_STREAM_USAGE=never) to skip the refusal.`,
      );
      input.usageAdded = false;
      // The caller's own stream_options (`include_usage: false`, say) as it wrote them, or none.
      if (input.callerStreamOptions === undefined) delete input.body.stream_options;
      else input.body.stream_options = input.callerStreamOptions;
      return sendChatRequest(input, signal, responseType);
    }
    throw classifyHttpError({
      status: response.status,
      headers: response.headers,
      body: text,
      upstream: upstream.name,
      model,
      secrets: upstream.secrets,
      prompt: input.body.messages,
    });
  }
  return response;
}
