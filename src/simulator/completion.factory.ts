import { randomBytes } from 'node:crypto';
import { lastUserText, messageText, type ChatRequest } from './chat-request.parser';
import type { SimUsage } from './simulator.types';

/** Everything needed to answer one request, as JSON or as SSE chunks. */
export interface SimReply {
  id: string;
  created: number;
  model: string;
  content: string;
  usage: SimUsage;
}

/** What a scripted step may override in the default reply. */
export interface ReplyOverrides {
  content?: string;
  model?: string;
  usage?: Partial<SimUsage>;
}

/** The usual rough estimate of four characters per token; good enough to exercise budgets. */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

/** Estimated prompt tokens of a request (at least 1, as a real prompt always costs some). */
export function promptTokens(request: ChatRequest): number {
  return Math.max(1, estimateTokens(request.messages.map(messageText).join('')));
}

/**
 * The reply to a request: `Simulated reply to: <last user message>` unless overridden.
 *
 * @example
 * buildReply(request, ['gpt-4o-mini'], { content: 'Hi' }).usage.completion_tokens; // 1
 */
export function buildReply(
  request: ChatRequest,
  models: readonly string[],
  overrides: ReplyOverrides = {},
): SimReply {
  const content =
    overrides.content ?? `Simulated reply to: ${lastUserText(request.messages).slice(0, 60)}`;
  const prompt = overrides.usage?.prompt_tokens ?? promptTokens(request);
  const completion = overrides.usage?.completion_tokens ?? estimateTokens(content);
  return {
    id: `chatcmpl-${randomBytes(12).toString('base64url')}`,
    created: Math.floor(Date.now() / 1000),
    model: overrides.model ?? request.model ?? models[0] ?? 'gpt-4o-mini',
    content,
    usage: {
      prompt_tokens: prompt,
      completion_tokens: completion,
      total_tokens: overrides.usage?.total_tokens ?? prompt + completion,
    },
  };
}

/** The non-stream `chat.completion` body. */
export function completionBody(reply: SimReply): object {
  return {
    id: reply.id,
    object: 'chat.completion',
    created: reply.created,
    model: reply.model,
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content: reply.content, refusal: null },
        finish_reason: 'stop',
        logprobs: null,
      },
    ],
    usage: reply.usage,
  };
}

/**
 * One `chat.completion.chunk`. With `include_usage`, OpenAI adds `usage: null` to every chunk
 * and sends the totals in a last chunk whose `choices` is empty (see `usageChunk`).
 */
export function chunkBody(
  reply: SimReply,
  delta: Record<string, string>,
  finishReason: 'stop' | null,
  includeUsage: boolean,
): object {
  return {
    id: reply.id,
    object: 'chat.completion.chunk',
    created: reply.created,
    model: reply.model,
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
    ...(includeUsage ? { usage: null } : {}),
  };
}

/** The last chunk of a stream that asked for `stream_options.include_usage`. */
export function usageChunk(reply: SimReply): object {
  const { id, created, model, usage } = reply;
  return { id, object: 'chat.completion.chunk', created, model, choices: [], usage };
}

/** Splits content into word-sized pieces that join back to it exactly: `['Hello ', 'world']`. */
export function splitContent(content: string): string[] {
  return content === '' ? [] : content.split(/(?<=\s)(?=\S)/);
}
