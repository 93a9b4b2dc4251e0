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
   * upstream's usage-only last chunk is recorded, not passed on.
   */
  usageAdded: boolean;
}

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
  const given = (request as { stream_options?: unknown }).stream_options;
  const usageAdded = stream && upstream.requestsStreamUsage && !asksUsage(given);
  if (usageAdded) {
    body.stream_options = { ...(isPlainObject(given) ? given : {}), include_usage: true };
  }
  return { transport, upstream, model, body, context, usageAdded };
}

/** Whether the caller's `stream_options` asks for the usage itself. */
function asksUsage(options: unknown): boolean {
  return isPlainObject(options) && options.include_usage === true;
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
    throw classifyHttpError({
      status: response.status,
      headers: response.headers,
      body: text,
      upstream: upstream.name,
      model,
      secrets: upstream.secrets,
    });
  }
  return response;
}
