import type { FallbackHop } from './call-record.types';

/**
 * The OpenAI chat completions wire format, as far as this module reads it. Fields it does not
 * know pass through untouched (tools, response_format, logprobs, ...).
 */
export interface ChatMessage {
  role: 'system' | 'developer' | 'user' | 'assistant' | 'tool' | (string & {});
  content?: string | null | unknown[];
  name?: string;
  [field: string]: unknown;
}

/** Body of `POST /chat/completions`. `model` defaults to the upstream's default model. */
export interface ChatCompletionRequest {
  model?: string;
  messages: ChatMessage[];
  max_tokens?: number;
  max_completion_tokens?: number;
  stream?: boolean;
  [field: string]: unknown;
}

export interface ChatCompletionUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  [field: string]: unknown;
}

export interface ChatCompletion {
  id: string;
  object: 'chat.completion';
  created: number;
  model: string;
  choices: Array<{
    index: number;
    message: ChatMessage;
    finish_reason: string | null;
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
    delta: { role?: string; content?: string | null; [field: string]: unknown };
    finish_reason: string | null;
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
  /** The provider's `x-request-id` of the answering attempt. */
  upstreamRequestId?: string;
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
