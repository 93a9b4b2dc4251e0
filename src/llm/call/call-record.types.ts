import type { DelaySource, LlmError, LlmErrorKind } from '../resilience/llm.errors';

/** A breaker state as people and orchestrators should read it. */
export type BreakerState = 'closed' | 'open' | 'half_open' | 'isolated';

/** The wait chosen before one retry, and where it came from. */
export interface RetryDelay {
  delayMs: number;
  source: DelaySource;
}

/** One attempt that reached the upstream (passed the breaker). */
export interface AttemptRecord {
  /** 1 for the first attempt. */
  number: number;
  startedAt: number;
  endedAt?: number;
  /** The wait before this attempt and where it came from (none before the first). */
  delayBeforeMs: number;
  delaySource?: DelaySource;
  /** The breaker's effective state when the attempt passed it, and after the attempt. */
  breakerBefore?: BreakerState;
  breakerAfter?: BreakerState;
  /** Time spent waiting for rate-limit budget before this attempt. */
  limiterWaitMs: number;
  /** Set when the attempt failed. */
  error?: LlmError;
  errorKind?: LlmErrorKind;
  status?: number;
  upstreamRequestId?: string;
  /**
   * The upstream's rate-limit (`x-ratelimit-*`) and `openai-processing-ms` headers of this
   * attempt's answer, as the call's metadata and the gateway's answer carry them.
   */
  upstreamHeaders?: Readonly<Record<string, string>>;
  /**
   * Lower-case headers of the upstream's answer, when there was one (rate-limit correction). A
   * plain call's successful attempt gets them once its completion is handed over (with
   * `chatAnswering`, after the answer), before the attempt is settled with the rate limiter or
   * its end reported.
   */
  responseHeaders?: Record<string, string>;
}

/** A retry the call path decided on: why, and how long it waits. */
export interface RetryRecord {
  /** 1 for the first retry (it precedes attempt 2). */
  number: number;
  reason: LlmErrorKind;
  delayMs: number;
  source: DelaySource;
}

/** One move along the fallback chain: from where, to where, and why. */
export interface FallbackHop {
  fromUpstream: string;
  fromModel: string;
  /** The next target, or `last-resort` for the application's degraded answer. */
  toUpstream: string;
  toModel: string;
  /** The error kind that made the call move. */
  reason: LlmErrorKind;
  at: number;
}

/** What the provider answered, as far as telemetry reads it. */
export interface CallResponseInfo {
  id?: string;
  model?: string;
  finishReasons: string[];
  inputTokens?: number;
  outputTokens?: number;
}
