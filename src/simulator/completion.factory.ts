import { randomBytes } from 'node:crypto';
import { lastUserText, messageText, type ChatRequest } from './chat-request.parser';
import { exampleOf } from './schema-example';
import type { SimUsage } from './simulator.types';

/** A function call the reply makes instead of text (`finish_reason: 'tool_calls'`). */
export interface SimToolCall {
  name: string;
  /** The call's arguments, a JSON object text. */
  arguments: string;
  /** One call id per choice, as OpenAI gives each its own. */
  ids: string[];
}

/** Why every choice of a reply ended. */
export type SimFinishReason = 'stop' | 'length' | 'tool_calls';

/** Everything needed to answer one request, as JSON or as SSE chunks. */
export interface SimReply {
  id: string;
  created: number;
  model: string;
  /** The text of every choice ('' when they call a function). */
  content: string;
  /** The content is JSON (`response_format`): streamed in pieces of 8 characters. */
  structured?: boolean;
  /** How many choices (`n`); each has the same content or call. */
  choices: number;
  toolCall?: SimToolCall;
  /** `length` when `max_tokens` cut the content or the call's arguments. */
  finishReason: SimFinishReason;
  /** `logprobs: true`: how many `top_logprobs` each content token has. */
  topLogprobs?: number;
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
  return Math.ceil(text.length / CHARS_PER_TOKEN);
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
  // A scripted step's content wins over a tool call or a JSON format the request asked for.
  const scripted = overrides.content !== undefined;
  let toolCall =
    !scripted && request.toolCall ? buildToolCall(request.toolCall, request.choices) : undefined;
  const format = scripted || toolCall ? undefined : request.responseFormat;
  let content = toolCall
    ? ''
    : stopAt(overrides.content ?? defaultContent(request, format), request.stop);
  // `max_tokens` cuts what the model writes, text or a call's arguments, as OpenAI does.
  const limit = request.maxTokens === undefined ? undefined : request.maxTokens * CHARS_PER_TOKEN;
  let finishReason: SimFinishReason = toolCall ? 'tool_calls' : 'stop';
  if (limit !== undefined && toolCall && toolCall.arguments.length > limit) {
    toolCall = { ...toolCall, arguments: toolCall.arguments.slice(0, limit) };
    finishReason = 'length';
  } else if (limit !== undefined && content.length > limit) {
    content = content.slice(0, limit);
    finishReason = 'length';
  }
  const prompt = overrides.usage?.prompt_tokens ?? promptTokens(request);
  const perChoice = toolCall
    ? Math.min(estimateTokens(toolCall.name + toolCall.arguments), request.maxTokens ?? Infinity)
    : estimateTokens(content);
  const completion = overrides.usage?.completion_tokens ?? perChoice * request.choices;
  return {
    id: `chatcmpl-${randomBytes(12).toString('base64url')}`,
    created: Math.floor(Date.now() / 1000),
    model: overrides.model ?? request.model ?? models[0] ?? 'gpt-4o-mini',
    content,
    ...(format ? { structured: true } : {}),
    choices: request.choices,
    ...(toolCall ? { toolCall } : {}),
    finishReason,
    ...(request.topLogprobs !== undefined && !toolCall ? { topLogprobs: request.topLogprobs } : {}),
    usage: {
      prompt_tokens: prompt,
      completion_tokens: completion,
      total_tokens: overrides.usage?.total_tokens ?? prompt + completion,
    },
  };
}

/** The characters per token of {@link estimateTokens}. */
const CHARS_PER_TOKEN = 4;

/** The text before the first of the `stop` sequences (OpenAI leaves the sequence out). */
function stopAt(text: string, stop: readonly string[]): string {
  let end = text.length;
  for (const sequence of stop) {
    const at = text.indexOf(sequence);
    if (at !== -1 && at < end) end = at;
  }
  return text.slice(0, end);
}

/** The text of a normal answer, or JSON when `response_format` asks for it. */
function defaultContent(request: ChatRequest, format: ChatRequest['responseFormat']): string {
  const text = `Simulated reply to: ${lastUserText(request.messages).slice(0, 60)}`;
  if (format?.type === 'json_schema') return JSON.stringify(exampleOf(format.schema));
  return format ? JSON.stringify({ reply: text }) : text;
}

/**
 * A call of the chosen function whose arguments are an example its `parameters` schema accepts
 * (`schema-example.ts`): each required property gets a value of its type, so strict schemas parse.
 */
function buildToolCall(tool: NonNullable<ChatRequest['toolCall']>, choices: number): SimToolCall {
  const args = exampleOf(tool.parameters ?? { type: 'object' });
  const ids = Array.from(
    { length: choices },
    () => `call_${randomBytes(12).toString('base64url')}`,
  );
  return { name: tool.name, arguments: JSON.stringify(args), ids };
}

/** The call of choice `index`, with `args` (all of them, or '' in the first streamed chunk). */
export function callOf(toolCall: SimToolCall, index: number, args: string): object {
  return {
    id: toolCall.ids[index],
    type: 'function',
    function: { name: toolCall.name, arguments: args },
  };
}

/**
 * One content token's `logprobs` entry, with `top` alternatives (the token itself first): made-up
 * but well-formed values, so clients that read log probabilities have something to read.
 */
export function logprobOf(token: string, index: number, top: number): object {
  const logprob = -Math.round((0.01 + (index % 5) * 0.05) * 1e4) / 1e4;
  const bytes = [...Buffer.from(token, 'utf8')];
  const alternatives = Array.from({ length: top }, (_, k) =>
    k === 0
      ? { token, logprob, bytes }
      : { token: `alt${k}`, logprob: logprob - k, bytes: [...Buffer.from(`alt${k}`, 'utf8')] },
  );
  return { token, logprob, bytes, top_logprobs: alternatives };
}

/** The non-stream `chat.completion` body: `n` choices with the same text or function call. */
export function completionBody(reply: SimReply): object {
  const { toolCall, topLogprobs } = reply;
  // Every choice has the same content: its tokens' entries are made once and shared.
  const logprobs =
    topLogprobs === undefined
      ? null
      : {
          content: streamPieces(reply).map((token, i) => logprobOf(token, i, topLogprobs)),
          refusal: null,
        };
  return {
    id: reply.id,
    object: 'chat.completion',
    created: reply.created,
    model: reply.model,
    choices: Array.from({ length: reply.choices }, (_, index) => ({
      index,
      message: toolCall
        ? {
            role: 'assistant',
            content: null,
            tool_calls: [callOf(toolCall, index, toolCall.arguments)],
            refusal: null,
          }
        : { role: 'assistant', content: reply.content, refusal: null },
      finish_reason: reply.finishReason,
      logprobs,
    })),
    usage: reply.usage,
  };
}

/**
 * One `chat.completion.chunk` for the choice `index`. With `include_usage`, OpenAI adds
 * `usage: null` to every chunk and sends the totals in a last chunk whose `choices` is empty (see
 * `usageChunk`).
 */
export function chunkBody(
  reply: SimReply,
  delta: Record<string, unknown>,
  finishReason: SimFinishReason | null,
  includeUsage: boolean,
  index = 0,
  logprobs: object | null = null,
): object {
  return {
    id: reply.id,
    object: 'chat.completion.chunk',
    created: reply.created,
    model: reply.model,
    choices: [{ index, delta, logprobs, finish_reason: finishReason }],
    ...(includeUsage ? { usage: null } : {}),
  };
}

/** The last chunk of a stream that asked for `stream_options.include_usage`. */
export function usageChunk(reply: SimReply): object {
  const { id, created, model, usage } = reply;
  return { id, object: 'chat.completion.chunk', created, model, choices: [], usage };
}

/** Splits content into word-sized pieces that join back to it exactly: `['Hello ', 'world']`. */
function splitContent(content: string): string[] {
  return content === '' ? [] : content.split(/(?<=\s)(?=\S)/);
}

/** Splits a call's arguments into pieces of up to 8 characters, as models stream them. */
function splitArguments(text: string): string[] {
  return text.match(/[\s\S]{1,8}/g) ?? [];
}

/** The pieces a stream sends: the call's arguments, JSON content in 8 characters, or words. */
export function streamPieces(reply: SimReply): string[] {
  if (reply.toolCall) return splitArguments(reply.toolCall.arguments);
  return reply.structured ? splitArguments(reply.content) : splitContent(reply.content);
}
