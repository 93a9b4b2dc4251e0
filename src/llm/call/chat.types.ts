import type { FallbackHop } from './call-record.types';

/**
 * The OpenAI chat completions wire format, shaped so that the openai SDK's types fit without
 * casts: its `ChatCompletionCreateParams` and `ChatCompletionMessageParam[]` are accepted as a
 * request, and a {@link ChatCompletion} / {@link ChatCompletionChunk} is assignable to the SDK's
 * `OpenAI.Chat.ChatCompletion` / `ChatCompletionChunk`. Written here, not imported: the module
 * does not depend on the `openai` package. Fields it does not know pass through untouched
 * (tools, response_format, logprobs, a provider's own extensions, ...).
 */
interface ChatMessageFields {
  role: 'system' | 'developer' | 'user' | 'assistant' | 'tool' | 'function' | (string & {});
  content?: string | null | readonly unknown[];
  name?: string;
  /** The call a `tool` message answers. */
  tool_call_id?: string;
  /** The tool calls of an `assistant` message. */
  tool_calls?: readonly unknown[];
}

/**
 * One message of a request. The SDK's message params (interfaces, which have no index
 * signature) match the first member; an object literal with more fields (`tool_call_id`,
 * `tool_calls`, a provider's extension) matches the second.
 */
export type ChatMessage = ChatMessageFields | (ChatMessageFields & { [field: string]: unknown });

interface ChatCompletionRequestFields {
  model?: string;
  messages: ChatMessage[];
  max_tokens?: number | null;
  max_completion_tokens?: number | null;
  n?: number | null;
  temperature?: number | null;
  top_p?: number | null;
  tools?: readonly unknown[];
  stream?: boolean | null;
}

/**
 * Body of `POST /chat/completions`. `model` defaults to the upstream's default model. Accepts the
 * openai SDK's `ChatCompletionCreateParams` as it is, and object literals with any further field.
 */
export type ChatCompletionRequest =
  ChatCompletionRequestFields | (ChatCompletionRequestFields & { [field: string]: unknown });

/** Why a choice ended, as OpenAI reports it. */
export type ChatFinishReason =
  'stop' | 'length' | 'tool_calls' | 'content_filter' | 'function_call';

export interface ChatCompletionUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  [field: string]: unknown;
}

/** Log probabilities of one token (`logprobs: true`). */
export interface ChatTokenLogprob {
  token: string;
  bytes: number[] | null;
  logprob: number;
  top_logprobs: Array<{ token: string; bytes: number[] | null; logprob: number }>;
}

/** The log probabilities of a choice, when asked for; `null` otherwise. */
export interface ChatChoiceLogprobs {
  content: ChatTokenLogprob[] | null;
  refusal: ChatTokenLogprob[] | null;
}

/** A tool call of the assistant (a function tool, or a custom tool). */
export type ChatMessageToolCall =
  | { id: string; type: 'function'; function: { name: string; arguments: string } }
  | { id: string; type: 'custom'; custom: { name: string; input: string } };

/** The assistant's message of a completion: `content` is text or `null` (tool calls, refusal). */
export interface ChatCompletionMessage {
  role: 'assistant';
  content: string | null;
  refusal: string | null;
  tool_calls?: ChatMessageToolCall[];
  [field: string]: unknown;
}

export interface ChatCompletion {
  id: string;
  object: 'chat.completion';
  created: number;
  model: string;
  choices: Array<{
    index: number;
    message: ChatCompletionMessage;
    finish_reason: ChatFinishReason;
    logprobs: ChatChoiceLogprobs | null;
    [field: string]: unknown;
  }>;
  usage?: ChatCompletionUsage;
  [field: string]: unknown;
}

export interface ChatCompletionChunk {
  id: string;
  object: 'chat.completion.chunk';
  created: number;
  model: string;
  choices: Array<{
    index: number;
    delta: {
      role?: 'developer' | 'system' | 'user' | 'assistant' | 'tool';
      content?: string | null;
      refusal?: string | null;
      tool_calls?: Array<{
        index: number;
        id?: string;
        type?: 'function';
        function?: { name?: string; arguments?: string };
      }>;
      [field: string]: unknown;
    };
    finish_reason: ChatFinishReason | null;
    logprobs?: ChatChoiceLogprobs | null;
    [field: string]: unknown;
  }>;
  usage?: ChatCompletionUsage | null;
  [field: string]: unknown;
}

/** Business context of a call: who and which feature it served. */
export interface LlmCallContext {
  /** The end user the call was made for (never a metric label; recorded in events and spans). */
  userId?: string;
  /** The product feature that made the call, e.g. `support-chat`. */
  featureName?: string;
  /** The id of the inbound request that caused the call. */
  requestId?: string;
  /** The durable job the call runs for (set by the job worker). */
  jobId?: string;
  /** How long that job waited in the queue before this run, ms (set by the job worker). */
  queueWaitMs?: number;
}

/** Options of one call. */
export interface LlmCallOptions extends LlmCallContext {
  /** Aborts the call and any upstream request in flight; the call fails with `cancelled`. */
  signal?: AbortSignal;
  /** Overrides the upstream's total deadline (`timeouts.deadlineMs`) for this call. */
  deadlineMs?: number;
  /** Upstream to call, by name. @default the module's default upstream */
  upstream?: string;
  /**
   * `X-Client-Request-Id` of every attempt: a job's redelivery re-runs under the id of its first
   * run, so the provider (and its logs) can tell it is the same request. @default a new UUID
   */
  clientRequestId?: string;
}

/** What the call path did to produce a result. */
export interface LlmCallMetadata {
  /** Upstream attempts made, the successful one included. */
  attempts: number;
  /** Upstream that answered. */
  upstream: string;
  /** Model that answered (after any fallback). */
  model: string;
  /** Model the request asked for. */
  requestedModel: string;
  /** Each move along the fallback chain, and why; empty when the requested model answered. */
  fallbacks: FallbackHop[];
  /** True when the module's last-resort function answered instead of any model. */
  degraded: boolean;
  /** The provider's `x-request-id` of the answering attempt; absent for a last-resort answer. */
  upstreamRequestId?: string;
  /**
   * The provider's rate-limit headers (`x-ratelimit-limit-*`, `x-ratelimit-remaining-*`,
   * `x-ratelimit-reset-*` for requests and tokens) and `openai-processing-ms` of the answering
   * attempt, as it sent them; only values that read as a count, duration or time (at most 64
   * characters, no space). Absent when it sent
   * none (or when the last-resort function answered).
   */
  upstreamHeaders?: Readonly<Record<string, string>>;
  /** `X-Client-Request-Id` sent on every attempt of this call. */
  clientRequestId: string;
  /** Wall time of the call until the result (for a stream: until the first content chunk). */
  durationMs: number;
}

/** Result of {@link LlmClient.chat}. */
export interface LlmChatResult {
  completion: ChatCompletion;
  metadata: LlmCallMetadata;
}
