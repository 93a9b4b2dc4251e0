import {
  handleWhen,
  type IBackoff,
  type IRetryBackoffContext,
  retry,
  type RetryPolicy,
} from 'cockatiel';
import type { RetryDelay } from '../call/call-record.types';
import { type LlmRetryOptions } from '../llm-module.options';
import { fullJitterDelay } from './backoff';
import { type CallDeadline } from './call-deadline';
import { isLlmError, LlmError } from './llm.errors';

/**
 * cockatiel asks its backoff for the next wait with the failure in hand. A server hint in the
 * error (already parsed by the classifier) replaces the computed full-jitter delay, capped at
 * `maxServerHintMs`. When the wait would run past the call's deadline the backoff throws instead:
 * cockatiel then rejects at once with that error, rather than sleeping into the deadline.
 */
class ServerHintBackoff implements IBackoff<IRetryBackoffContext<unknown>> {
  constructor(
    private readonly options: LlmRetryOptions,
    private readonly deadline: CallDeadline,
    private readonly onDelay: (delay: RetryDelay, failure: unknown) => void,
    private readonly random: () => number,
    readonly duration = 0,
  ) {}

  next(context: IRetryBackoffContext<unknown>): IBackoff<IRetryBackoffContext<unknown>> {
    const failure = 'error' in context.result ? context.result.error : undefined;
    const delay = chooseDelay(failure, context.attempt, this.options, this.random);
    const remainingMs = this.deadline.remainingMs();
    if (delay.delayMs >= remainingMs && isLlmError(failure)) {
      throw waitPastDeadline(failure, delay, remainingMs);
    }
    this.onDelay(delay, failure);
    return new ServerHintBackoff(
      this.options,
      this.deadline,
      this.onDelay,
      this.random,
      delay.delayMs,
    );
  }
}

/** The wait before retry number `retry` (1-based) after `failure`. */
export function chooseDelay(
  failure: unknown,
  retry: number,
  options: LlmRetryOptions,
  random: () => number = Math.random,
): RetryDelay {
  if (isLlmError(failure) && failure.retryAfterMs !== undefined && failure.retryAfterSource) {
    return {
      delayMs: Math.min(failure.retryAfterMs, options.maxServerHintMs),
      source: failure.retryAfterSource,
    };
  }
  return {
    delayMs: fullJitterDelay(retry, options.baseDelayMs, options.maxDelayMs, random),
    source: 'backoff',
  };
}

function waitPastDeadline(failure: LlmError, delay: RetryDelay, remainingMs: number): LlmError {
  const waitS = (delay.delayMs / 1000).toFixed(1);
  return new LlmError(
    'deadline_exceeded',
    `Upstream '${failure.upstream}' model '${failure.model}' failed (${failure.kind}` +
      `${failure.status ? ` ${failure.status}` : ''}) and the next retry would wait ${waitS} s ` +
      `(${delay.source}), but only ${(remainingMs / 1000).toFixed(1)} s remain of the deadline; ` +
      `failing now instead of sleeping into it. Retry after ${waitS} s.`,
    {
      retryable: false,
      status: failure.status,
      requestId: failure.requestId,
      upstream: failure.upstream,
      model: failure.model,
      providerCode: failure.providerCode,
      retryAfterMs: delay.delayMs,
      retryAfterSource: delay.source,
      cause: failure,
    },
  );
}

/**
 * The only retry layer: up to `maxRetries` retries of what the classifier calls retryable,
 * waiting per {@link chooseDelay}. Built per call because the wait depends on the call's deadline.
 */
export function createRetryPolicy(
  options: LlmRetryOptions,
  deadline: CallDeadline,
  onDelay: (delay: RetryDelay, failure: unknown) => void,
  random: () => number = Math.random,
): RetryPolicy {
  return retry(RETRYABLE, {
    maxAttempts: options.maxRetries,
    backoff: new ServerHintBackoff(options, deadline, onDelay, random),
  });
}

/** What is retried, built once: `retry()` copies its filters into each call's policy. */
const RETRYABLE = handleWhen((error) => isLlmError(error) && error.retryable);
