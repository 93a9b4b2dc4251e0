import type { CallRecordView } from './call/call-record.view';
import type { ChatCompletion, ChatCompletionRequest } from './call/chat.types';
import type {
  LlmLimitOptions,
  LlmRedisOptions,
  ResolvedLimits,
  ResolvedRedisOptions,
} from './limits/llm-limits.options';
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
  /** Cap of a server hint (`Retry-After`, `retry-after-ms`, `x-ratelimit-reset-*`). @default 60000 */
  maxHintMs: number;
}

/** Circuit breaker settings, applied per upstream and model. */
export interface LlmBreakerOptions {
  /** Consecutive failures that open the circuit. @default 5 */
  consecutiveFailures: number;
  /**
   * The longest break: once the outage is older than `maxWaitMs`, each failed probe doubles the
   * break up to this (the seed's 30 s), so a long outage is probed once per `halfOpenAfterMs`.
   * @default 30000
   */
  halfOpenAfterMs: number;
  /**
   * The shortest break, and every break while the circuit has been open for less than
   * `maxWaitMs`: a short outage is probed once a second, so calls waiting for it go on within a
   * second of its end. A good probe closes the circuit and the next opening starts over.
   * @default 1000
   */
  minHalfOpenAfterMs: number;
  /**
   * How long a call that meets an open circuit may wait for its probe instead of failing at once
   * with `circuit_open`: when the probe is due within this time (and within the call's deadline)
   * the call waits, then tries (as the probe, or right after a good probe). After a bad probe it
   * waits again only if the next probe is also due within this time; otherwise it fails at once
   * with `retryAfterMs`. Also how long breaks stay short: past it the outage is a long one, breaks
   * double (2, 4, 8, 16, 30 s) and most calls fail in milliseconds. Waiting calls hold no bulkhead
   * slot; a call with a fallback left moves on instead. 0: the classic breaker, which fails at
   * once and doubles its breaks from the first. @default 5000
   */
  maxWaitMs: number;
}

/** Bulkhead settings of one upstream: protects this process from piling up behind a slow API. */
export interface LlmBulkheadOptions {
  /** Calls in flight at once. @default 32 */
  maxConcurrent: number;
  /** Calls waiting for a slot; one more is rejected at once with `bulkhead_full`. @default 64 */
  maxQueue: number;
}

/** Timeouts of one upstream, in milliseconds. */
export interface LlmTimeoutOptions {
  /** TCP connect. @default 10000 */
  connectMs: number;
  /** One attempt: until the whole response (plain) or its headers (stream). @default 60000 */
  attemptMs: number;
  /** The whole call: every attempt, every wait and, for a stream, its last chunk. @default 120000 */
  totalMs: number;
  /** Stream: from the request to the first content chunk (keep-alives and empty deltas do not count). @default 30000 */
  firstChunkMs: number;
  /** Stream: the longest gap between two chunks after content started. @default 30000 */
  idleMs: number;
}

/** The per-upstream settings that may also be given once in `defaults`. */
export interface LlmPolicyOptions {
  retry?: Partial<LlmRetryOptions>;
  breaker?: Partial<LlmBreakerOptions>;
  bulkhead?: Partial<LlmBulkheadOptions>;
  timeouts?: Partial<LlmTimeoutOptions>;
}

/** One OpenAI-compatible API (OpenAI, Azure OpenAI, DeepSeek, vLLM, Ollama, ...). */
export interface LlmUpstreamOptions extends LlmPolicyOptions {
  /** Name used in errors, health, metrics and `upstream` call options, e.g. `openai`. */
  name: string;
  /** Base URL up to and including the version, e.g. `https://api.openai.com/v1`. */
  baseUrl: string;
  /** Sent as `Authorization: Bearer <apiKey>`; omit for local servers that need none. Never logged. */
  apiKey?: string;
  /** Model used when a request names none, e.g. `gpt-4o-mini`. */
  defaultModel: string;
  /** Provider name recorded in traces (`gen_ai.provider.name`). @default 'openai' */
  provider?: string;
  /** Extra headers sent on every request (e.g. `OpenAI-Organization`). */
  headers?: Record<string, string>;
  /** Requests- and tokens-per-minute budgets; see {@link LlmLimitOptions}. @default no budget */
  limits?: LlmLimitOptions;
  /**
   * Per model, where a call goes when that model is unavailable, in order. A target names another
   * model of this upstream, another upstream (same model), or both; `'*'` applies to models
   * without their own entry.
   *
   * @example { 'gpt-4o': [{ model: 'gpt-4o-mini' }, { upstream: 'azure' }] }
   */
  fallbacks?: Record<string, LlmFallbackTarget[]>;
}

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

/** Where business events go: Elasticsearch, structured log lines, or both off. */
export interface LlmEventsOptions {
  /** Ship one document per call (and per request that made calls) to Elasticsearch. */
  elasticsearch?: {
    /** Cluster URL, e.g. `http://localhost:9200`. */
    node: string;
    /** `apiKey`, or `username` + `password`. Never logged. */
    auth?: { apiKey?: string; username?: string; password?: string };
    /** Data stream `logs-<dataset>-<namespace>`. @default 'llm.calls' */
    dataset?: string;
    /** @default 'default' */
    namespace?: string;
    /** Days the data stream keeps documents (data stream lifecycle). @default 30 */
    retentionDays?: number;
    /** Most events held in memory while Elasticsearch is slow or down. @default 10000 */
    maxBufferedEvents?: number;
    /** Most bytes of events held in memory. @default 10485760 (10 MiB) */
    maxBufferedBytes?: number;
    /** Events per bulk request. @default 500 */
    maxBulkEvents?: number;
    /** How often the buffer is flushed. @default 1000 */
    flushIntervalMs?: number;
    /** How long shutdown waits for the last flush. @default 5000 */
    shutdownTimeoutMs?: number;
  };
  /** Write each event as one JSON line on stdout (the gateway does when no cluster is set). @default false */
  log?: boolean;
}

/** Options of {@link LlmModule.forRoot}. */
export interface LlmModuleOptions {
  /** One or more upstreams; the first is the default unless `defaultUpstream` names another. */
  upstreams: LlmUpstreamOptions[];
  /** Name of the upstream used when a call names none. @default the first upstream */
  defaultUpstream?: string;
  /** Policy settings shared by every upstream; an upstream's own settings win. */
  defaults?: LlmPolicyOptions & {
    /** Budgets each upstream gets (its own count) unless it sets its own. @default no budget */
    limits?: LlmLimitOptions;
  };
  /** How requests set the business context of the LLM calls they make. */
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
  /** Degraded answer of plain `chat()` calls when the whole fallback chain is unavailable. */
  lastResort?: LlmLastResort;
  /** Tracing settings (spans go to whatever OpenTelemetry SDK the application registered). */
  tracing?: {
    /** Record prompt and completion text on spans. Off: they may hold personal data. @default false */
    captureContent?: boolean;
  };
  /** Business-impact events. Off unless configured. */
  events?: LlmEventsOptions;
  /**
   * Keep the rate-limit budgets in Redis, so replicas together stay under the provider's quota.
   * @default budgets in memory, per process
   */
  redis?: LlmRedisOptions;
  /** Health indicator settings. */
  health?: {
    /**
     * Make readiness fail (503) while a breaker is open. Off by default: failing readiness on
     * every replica at once removes the whole service, and a breaker only half-opens when a call
     * reaches it. @default false
     */
    failReadinessWhenOpen?: boolean;
  };
  /** Graceful shutdown (see `LlmDrain`). */
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
  fallbacks: Record<string, Array<{ upstream: string; model?: string }>>;
  retry: LlmRetryOptions;
  breaker: LlmBreakerOptions;
  bulkhead: LlmBulkheadOptions;
  timeouts: LlmTimeoutOptions;
  /** Undefined when the upstream has no budget. */
  limits?: ResolvedLimits;
  /**
   * Defaults that gave way to a value the user set, e.g. `timeouts.attemptMs 30000 (default
   * 60000; not above timeouts.totalMs)`: logged once at startup.
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
  /** As given: the events writer validates and defaults its own section. */
  events: LlmEventsOptions;
  health: { failReadinessWhenOpen: boolean };
  drain: { timeoutMs: number };
  /** Undefined: budgets in memory. */
  redis?: ResolvedRedisOptions;
}

/** The defaults, chosen from the seeds (see README "How the defaults were chosen"). */
export const LLM_DEFAULTS = {
  retry: { maxRetries: 3, baseDelayMs: 1_000, maxDelayMs: 32_000, maxHintMs: 60_000 },
  breaker: {
    consecutiveFailures: 5,
    halfOpenAfterMs: 30_000,
    minHalfOpenAfterMs: 250,
    maxWaitMs: 5_000,
  },
  bulkhead: { maxConcurrent: 32, maxQueue: 64 },
  timeouts: {
    connectMs: 10_000,
    attemptMs: 60_000,
    totalMs: 120_000,
    firstChunkMs: 30_000,
    idleMs: 30_000,
  },
} as const satisfies Required<{ [K in keyof LlmPolicyOptions]: Required<LlmPolicyOptions[K]> }>;
