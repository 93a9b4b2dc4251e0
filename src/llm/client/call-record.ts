import { LlmCallContext, ChatCompletionRequest } from './chat.types';
import { ResolvedUpstream } from '../llm-module.options';
import { DelaySource, LlmError, LlmErrorKind } from '../resilience/llm.errors';
import { RetryDelay } from '../resilience/retry.policy';
import { BreakerState } from '../resilience/tracked-breaker';

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
  /** Lower-case headers of the upstream's answer, when there was one (rate-limit correction). */
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

/** Everything needed to identify a call before it starts. */
export interface CallRecordInit {
  upstream: ResolvedUpstream;
  model: string;
  clientRequestId: string;
  stream: boolean;
  context: LlmCallContext;
  request: ChatCompletionRequest;
}

/**
 * What happened during one logical call. The call path writes it; metadata, traces, metrics and
 * business events read it.
 */
export class CallRecord {
  readonly startedAt = Date.now();
  readonly attempts: AttemptRecord[] = [];
  readonly retries: RetryRecord[] = [];
  readonly fallbacks: FallbackHop[] = [];
  /** The upstream and model being called now: the requested ones until a fallback moves on. */
  upstream: ResolvedUpstream;
  model: string;
  /** The upstream and model the caller asked for. */
  readonly requestedUpstream: ResolvedUpstream;
  readonly requestedModel: string;
  /** True when the answer came from the last-resort function, not from any model. */
  degraded = false;
  /** Time spent waiting for open circuits to let a probe through (`breaker.maxProbeWaitMs`). */
  breakerWaitMs = 0;
  readonly clientRequestId: string;
  readonly stream: boolean;
  readonly context: LlmCallContext;
  readonly request: ChatCompletionRequest;
  response?: CallResponseInfo;
  /** Set when the call failed: the error the caller received. */
  error?: LlmError;
  endedAt?: number;
  private pendingDelay?: RetryDelay;

  constructor(init: CallRecordInit) {
    this.upstream = this.requestedUpstream = init.upstream;
    this.model = this.requestedModel = init.model;
    this.clientRequestId = init.clientRequestId;
    this.stream = init.stream;
    this.context = init.context;
    this.request = init.request;
  }

  /** Attempts that reached the upstream. */
  get attemptCount(): number {
    return this.attempts.length;
  }

  /** Total time spent waiting between attempts. */
  get totalDelayMs(): number {
    return this.attempts.reduce((sum, a) => sum + a.delayBeforeMs, 0);
  }

  /** Wall time so far, or of the whole call once it ended. */
  get durationMs(): number {
    return (this.endedAt ?? Date.now()) - this.startedAt;
  }

  /** Called by the retry backoff before it sleeps. */
  noteRetry(delay: RetryDelay, reason: LlmErrorKind): RetryRecord {
    this.pendingDelay = delay;
    const retry = { number: this.retries.length + 1, reason, ...delay };
    this.retries.push(retry);
    return retry;
  }

  startAttempt(breakerBefore?: BreakerState): AttemptRecord {
    const attempt: AttemptRecord = {
      number: this.attempts.length + 1,
      startedAt: Date.now(),
      delayBeforeMs: this.pendingDelay?.delayMs ?? 0,
      delaySource: this.pendingDelay?.source,
      breakerBefore,
      limiterWaitMs: 0,
    };
    this.pendingDelay = undefined;
    this.attempts.push(attempt);
    return attempt;
  }

  /** Closes an attempt; the attempt function may already have set its status and request id. */
  endAttempt(attempt: AttemptRecord, error?: LlmError): void {
    attempt.endedAt = Date.now();
    attempt.error = error;
    attempt.errorKind = error?.kind;
    attempt.status = error?.status ?? attempt.status;
    attempt.upstreamRequestId = error?.requestId ?? attempt.upstreamRequestId;
  }

  /** Moves the call to the next target of its fallback chain. */
  moveTo(upstream: ResolvedUpstream, model: string, reason: LlmErrorKind): FallbackHop {
    const hop: FallbackHop = {
      fromUpstream: this.upstream.name,
      fromModel: this.model,
      toUpstream: upstream.name,
      toModel: model,
      reason,
      at: Date.now(),
    };
    this.fallbacks.push(hop);
    this.upstream = upstream;
    this.model = model;
    return hop;
  }

  /** Records that the last-resort function answered instead of any model. */
  degrade(reason: LlmErrorKind): FallbackHop {
    const hop: FallbackHop = {
      fromUpstream: this.upstream.name,
      fromModel: this.model,
      toUpstream: 'last-resort',
      toModel: 'last-resort',
      reason,
      at: Date.now(),
    };
    this.fallbacks.push(hop);
    this.degraded = true;
    return hop;
  }

  /** Ends the call, once: with the error the caller gets, or successfully. */
  end(error?: LlmError): void {
    if (this.endedAt !== undefined) return;
    this.endedAt = Date.now();
    this.error = error;
  }
}
