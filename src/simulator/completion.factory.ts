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
  // A scripted step's content wins over a tool call or a JSON format the request asked for.
  const scripted = overrides.content !== undefined;
  const toolCall =
    !scripted && request.toolCall ? buildToolCall(request.toolCall, request.choices) : undefined;
  const format = scripted || toolCall ? undefined : request.responseFormat;
  const content = toolCall ? '' : (overrides.content ?? defaultContent(request, format));
  const prompt = overrides.usage?.prompt_tokens ?? promptTokens(request);
  const perChoice = estimateTokens(toolCall ? toolCall.name + toolCall.arguments : content);
  const completion = overrides.usage?.completion_tokens ?? perChoice * request.choices;
  return {
    id: `chatcmpl-${randomBytes(12).toString('base64url')}`,
    created: Math.floor(Date.now() / 1000),
    model: overrides.model ?? request.model ?? models[0] ?? 'gpt-4o-mini',
    content,
    ...(format ? { structured: true } : {}),
    choices: request.choices,
    ...(toolCall ? { toolCall } : {}),
    usage: {
      prompt_tokens: prompt,
      completion_tokens: completion,
      total_tokens: overrides.usage?.total_tokens ?? prompt + completion,
    },
  };
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

/** Why every choice of the reply ended. */
export function finishReasonOf(reply: SimReply): 'stop' | 'tool_calls' {
  return reply.toolCall ? 'tool_calls' : 'stop';
}

/** The non-stream `chat.completion` body: `n` choices with the same text or function call. */
export function completionBody(reply: SimReply): object {
  const { toolCall } = reply;
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
      finish_reason: finishReasonOf(reply),
      logprobs: null,
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
  finishReason: 'stop' | 'tool_calls' | null,
  includeUsage: boolean,
  index = 0,
): object {
  return {
    id: reply.id,
    object: 'chat.completion.chunk',
    created: reply.created,
    model: reply.model,
    choices: [{ index, delta, logprobs: null, finish_reason: finishReason }],
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
