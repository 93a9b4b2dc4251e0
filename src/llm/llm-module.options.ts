import type { CallRecordView } from './call/call-record.view';
import type { ChatCompletion, ChatCompletionRequest } from './call/chat.types';
import type {
  LlmLimitOptions,
  LlmRedisOptions,
  ResolvedLimits,
  ResolvedRedisOptions,
} from './limits/llm-limits.options';
import type {
  LlmEventsOptions,
  ResolvedEventsOptions,
} from './observability/events/llm-events.options';
import type { LlmContextExtractor } from './observability/llm-context.extractors';
import type { LlmError } from './resilience/llm.errors';

/** Retry settings of one upstream (the only retry layer: provider SDK retries stay off). */
export interface LlmRetryOptions {
  /** Retries after the first attempt; 0 disables retrying. @default 3 */
  maxRetries: number;
  /** Backoff ceiling of the first retry; doubles per retry (full jitter draws from 0..ceiling). @default 1000 */
  baseDelayMs: number;
  /** Cap of the backoff ceiling. @default 32000 */
  maxDelayMs: number;
  /**
   * The longest wait a server's hint may impose before a retry. A longer `Retry-After` or
   * `retry-after-ms` ends the call at once, not retried, with the provider's wait in
   * `retryAfterMs`; a longer `x-ratelimit-reset-*` (when the whole budget is back) is cut to this.
   * @default 60000
   */
  maxServerHintMs: number;
}

/** Circuit breaker settings, applied per upstream and model. */
export interface LlmBreakerOptions {
  /** Consecutive failures that open the circuit. @default 5 */
  consecutiveFailures: number;
  /**
   * The longest break (time open before a probe): once the outage is older than
   * `maxProbeWaitMs`, each failed probe doubles the break up to this (the seed's 30 s), so a long
   * outage is probed once per `maxBreakMs`. Formerly `halfOpenAfterMs`. @default 30000
   */
  maxBreakMs: number;
  /**
   * The shortest break, and every break while the circuit has been open for less than
   * `maxProbeWaitMs`: a short outage is probed four times a second, so calls waiting for it go on
   * right after its end. A good probe closes the circuit and the next opening starts over.
   * Formerly `minHalfOpenAfterMs`. @default 250
   */
  minBreakMs: number;
  /**
   * How long a call that meets an open circuit may wait for its probe instead of failing at once
   * with `circuit_open`: when the probe is due within this time (and within the call's deadline)
   * the call waits, then tries (as the probe, or right after a good probe). After a bad probe it
   * waits again only if the next probe is also due within this time; otherwise it fails at once
   * with `retryAfterMs`. Also how long breaks stay short: past it the outage is a long one, breaks
   * double (2, 4, 8, 16, 30 s) and most calls fail in milliseconds. Waiting calls hold no bulkhead
   * slot; a call with a fallback left moves on instead. 0: the classic breaker, which fails at
   * once and doubles its breaks from the first. Formerly `maxWaitMs`. @default 5000
   */
  maxProbeWaitMs: number;
}

/** Bulkhead settings of one upstream: protects this process from piling up behind a slow API. */
export interface LlmBulkheadOptions {
  /** Calls in flight at once. @default 32 */
  maxConcurrent: number;
  /**
   * The bulkhead's queue: calls waiting for a slot; one more is rejected at once with
   * `bulkhead_full`. (`limits.maxQueue` is the rate limiter's queue, of calls waiting for budget.)
   * @default 64
   */
  maxQueue: number;
}

/** Timeouts of one upstream, in milliseconds. */
export interface LlmTimeoutOptions {
  /** TCP connect. @default 10000 */
  connectMs: number;
  /** One attempt: until the whole response (plain) or its headers (stream). @default 60000 */
  attemptMs: number;
  /**
   * The call's deadline: every attempt, every wait and, for a stream, its last chunk. The call
   * option `deadlineMs` overrides it for one call. Formerly `totalMs`. @default 120000
   */
  deadlineMs: number;
  /** Stream: from the request to the first content chunk (keep-alives and empty deltas do not count). @default 30000 */
  firstChunkMs: number;
  /** Stream: the longest gap between two chunks after content started. @default 30000 */
  idleMs: number;
}

/** The per-upstream settings that may also be given once in `defaults`. */
export interface LlmPolicyOptions {
  /** @default LLM_DEFAULTS.retry */
  retry?: Partial<LlmRetryOptions>;
  /** @default LLM_DEFAULTS.breaker */
  breaker?: Partial<LlmBreakerOptions>;
  /** @default LLM_DEFAULTS.bulkhead */
  bulkhead?: Partial<LlmBulkheadOptions>;
  /** @default LLM_DEFAULTS.timeouts */
  timeouts?: Partial<LlmTimeoutOptions>;
}

/** One OpenAI-compatible API (OpenAI, Azure OpenAI, DeepSeek, vLLM, Ollama, ...). */
export interface LlmUpstreamOptions extends LlmPolicyOptions {
  /** Name used in errors, health, metrics and `upstream` call options, e.g. `openai`. Required. */
  name: string;
  /** Base URL up to and including the version, e.g. `https://api.openai.com/v1`. Required. */
  baseUrl: string;
  /**
   * Sent as `Authorization: Bearer <apiKey>`; omit (or leave undefined) for local servers that
   * need none. An empty string is an error: usually an unset variable. Never logged.
   * @default no key
   */
  apiKey?: string;
  /** Model used when a request names none, e.g. `gpt-4o-mini`. Required. */
  defaultModel: string;
  /** Provider name recorded in traces (`gen_ai.provider.name`). @default 'openai' */
  provider?: string;
  /** Extra headers sent on every request (e.g. `OpenAI-Organization`). @default {} */
  headers?: Record<string, string>;
  /**
   * Whether a stream asks the upstream for its token usage (`stream_options.include_usage`) when
   * the caller did not: the usage then reaches the events, metrics, spans and the rate limiter's
   * correction, and its extra last chunk (`choices: []`) is not passed to the caller, who did not
   * ask for it. `'auto'` asks OpenAI's own API (`api.openai.com`) only; `'always'` any upstream
   * (vLLM, Ollama, Azure OpenAI from API version 2024-09-01: most take it, some older servers
   * refuse the field with a 400); `'never'` leaves the request as the caller wrote it.
   * @default 'auto'
   */
  streamUsage?: LlmStreamUsage;
  /** Requests- and tokens-per-minute budgets; see {@link LlmLimitOptions}. @default no budget */
  limits?: LlmLimitOptions;
  /**
   * Per model, where a call goes when that model is unavailable, in order. A target names another
   * model of this upstream, another upstream (same model), or both; `'*'` applies to models
   * without their own entry.
   *
   * @example { 'gpt-4o': [{ model: 'gpt-4o-mini' }, { upstream: 'azure' }] }
   * @default {} (no fallback)
   */
  fallbacks?: Record<string, LlmFallbackTarget[]>;
}

/** See {@link LlmUpstreamOptions.streamUsage}. */
export type LlmStreamUsage = 'auto' | 'always' | 'never';

/** One step of a fallback chain. */
export interface LlmFallbackTarget {
  /** Another upstream, by name. @default the same upstream */
  upstream?: string;
  /** Another model. @default the same model */
  model?: string;
}

/**
 * The application's last word when every model of the chain is unavailable: a degraded answer
 * (a canned reply, a cached one, a rule-based one). Throw to let the original error through.
 */
export type LlmLastResort = (input: {
  request: ChatCompletionRequest;
  error: LlmError;
  /** What the call did so far, read-only. */
  call: CallRecordView;
}) => ChatCompletion | Promise<ChatCompletion>;

/** Options of {@link LlmModule.forRoot}. */
export interface LlmModuleOptions {
  /** One or more upstreams; the first is the default unless `defaultUpstream` names another. Required. */
  upstreams: LlmUpstreamOptions[];
  /** Name of the upstream used when a call names none. @default the first upstream */
  defaultUpstream?: string;
  /** Policy settings shared by every upstream; an upstream's own settings win. @default LLM_DEFAULTS */
  defaults?: LlmPolicyOptions & {
    /** Budgets each upstream gets (its own count) unless it sets its own. @default no budget */
    limits?: LlmLimitOptions;
  };
  /** How requests set the business context of the LLM calls they make. @default see each field */
  context?: {
    /** Register LlmContextInterceptor for every controller and message handler. @default false */
    global?: boolean;
    /** Finds the user id. @default the authenticated user's id, else the `x-user-id` header */
    userId?: LlmContextExtractor;
    /** Finds the feature when no `@LlmFeature` applies. @default the `x-feature-name` header */
    featureName?: LlmContextExtractor;
    /** Finds the request id. @default a well-formed `x-request-id`, else a new UUID */
    requestId?: LlmContextExtractor;
  };
  /** `service.name` in events (and the default for traces). @default 'nestjs-resilient-llm' */
  serviceName?: string;
  /** Degraded answer of plain `chat()` calls when the whole fallback chain is unavailable. @default none */
  lastResort?: LlmLastResort;
  /** Tracing settings (spans go to whatever OpenTelemetry SDK the application registered). @default see each field */
  tracing?: {
    /** Record prompt and completion text on spans. Off: they may hold personal data. @default false */
    captureContent?: boolean;
  };
  /** Business-impact events. @default off (no Elasticsearch, no log lines) */
  events?: LlmEventsOptions;
  /**
   * Keep the rate-limit budgets in Redis, so replicas together stay under the provider's quota.
   * `{ url: undefined }` (an unset variable) is the same as no `redis`.
   * @default budgets in memory, per process
   */
  redis?: LlmRedisOptions;
  /** Health indicator settings. @default see each field */
  health?: {
    /**
     * Make readiness fail (503) while a breaker is open. Off by default: failing readiness on
     * every replica at once removes the whole service, and a breaker only half-opens when a call
     * reaches it. @default false
     */
    failReadinessWhenOpen?: boolean;
  };
  /** Graceful shutdown (see `LlmDrain`). @default see each field */
  drain?: {
    /**
     * How long calls and streams in flight may take to finish on shutdown before they are ended
     * with `shutting_down`; under Kubernetes' 30 s grace period, with room for the delay before
     * the server stops accepting. @default 20000
     */
    timeoutMs?: number;
  };
}

/** An upstream with every default filled in and validated. */
export interface ResolvedUpstream {
  name: string;
  baseUrl: string;
  apiKey?: string;
  defaultModel: string;
  provider: string;
  headers: Record<string, string>;
  /** Whether streams ask for usage the caller did not ask for (`streamUsage`, resolved). */
  requestsStreamUsage: boolean;
  /**
   * What error messages, events and spans must never show: the key, and the values of the
   * `headers` whose names say they carry credentials (`api-key`, `x-custom-auth`, a token...).
   * Not enumerable, as `apiKey` and `headers`.
   */
  secrets: readonly string[];
  fallbacks: Record<string, Array<{ upstream: string; model?: string }>>;
  retry: LlmRetryOptions;
  breaker: LlmBreakerOptions;
  bulkhead: LlmBulkheadOptions;
  timeouts: LlmTimeoutOptions;
  /** Undefined when the upstream has no budget. */
  limits?: ResolvedLimits;
  /**
   * Defaults that gave way to a value the user set, e.g. `timeouts.attemptMs 30000 (default
   * 60000; not above timeouts.deadlineMs)`: logged once at startup.
   */
  adjusted: string[];
}

/** Module options after validation: what the rest of the module reads. */
export interface ResolvedLlmOptions {
  upstreams: ReadonlyMap<string, ResolvedUpstream>;
  defaultUpstream: string;
  serviceName: string;
  lastResort?: LlmLastResort;
  context: {
    global: boolean;
    userId: LlmContextExtractor;
    featureName: LlmContextExtractor;
    requestId: LlmContextExtractor;
  };
  tracing: { captureContent: boolean };
  events: ResolvedEventsOptions;
  health: { failReadinessWhenOpen: boolean };
  drain: { timeoutMs: number };
  /** Undefined: budgets in memory. */
  redis?: ResolvedRedisOptions;
}
