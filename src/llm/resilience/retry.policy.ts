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
import { isLlmError, LlmError, type LlmErrorDetails } from './llm.errors';

/**
 * The call a retry policy runs for: its deadline, and what to do with each delay chosen. A policy
 * shared by the calls of one upstream ({@link executeWithRetry}) finds it by the signal the call
 * gave cockatiel, which hands it to the backoff.
 */
export interface RetryingCall {
  readonly deadline: CallDeadline;
  /** Called with each delay chosen, before the backoff sleep. */
  delayed(delay: RetryDelay, failure: unknown): void;
}

/**
 * The call running in a shared policy, kept on its deadline's signal: a property, because a
 * WeakMap entry per call costs more than the per-call policy it replaces.
 */
const RETRYING = Symbol('llm.retryingCall');
type RetryingSignal = AbortSignal & { [RETRYING]?: RetryingCall };

/**
 * cockatiel asks its backoff for the next wait with the failure in hand. A server hint in the
 * error (already parsed by the classifier) replaces the computed full-jitter delay, capped at
 * `maxServerHintMs`. When the wait would run past the call's deadline the backoff throws instead:
 * cockatiel then rejects at once with that error, rather than sleeping into the deadline.
 */
class ServerHintBackoff implements IBackoff<IRetryBackoffContext<unknown>> {
  constructor(
    private readonly options: LlmRetryOptions,
    private readonly random: () => number,
    /** Undefined in a shared policy's first backoff: the call is then found by its signal. */
    private readonly call?: RetryingCall,
    readonly duration = 0,
  ) {}

  next(context: IRetryBackoffContext<unknown>): IBackoff<IRetryBackoffContext<unknown>> {
    const call = this.call ?? (context.signal as RetryingSignal)[RETRYING];
    if (!call) throw new Error('A shared retry policy ran without its call (see executeWithRetry)');
    const failure = 'error' in context.result ? context.result.error : undefined;
    if (isLlmError(failure) && hintPastCap(failure, this.options)) {
      throw notWaitedFor(failure, this.options.maxServerHintMs);
    }
    const { hintMs, ...delay } = chooseDelay(failure, context.attempt, this.options, this.random);
    const remainingMs = call.deadline.remainingMs();
    // The spread after a hint never costs the retry: it takes at most half of what the deadline
    // leaves after the hint, the other half being the retry's own. Spread to the deadline's edge,
    // the retry went with a few milliseconds to answer in, and timed out after the whole wait.
    if (hintMs !== undefined && hintMs < remainingMs) {
      delay.delayMs = Math.min(delay.delayMs, hintMs + Math.floor((remainingMs - hintMs) / 2));
    }
    if (delay.delayMs >= remainingMs && isLlmError(failure)) {
      throw waitPastDeadline(failure, delay, remainingMs);
    }
    call.delayed(delay, failure);
    return new ServerHintBackoff(this.options, this.random, call, delay.delayMs);
  }
}

/** The spread added after a server's hint, as a share of it, and at most. */
const HINT_SPREAD = 0.1;
const MAX_HINT_SPREAD_MS = 1000;

/**
 * A random spread to add after a server's hint of `hintMs`: up to a tenth of it, 1 s at most.
 * Retries and the calls an upstream's hold kept back (upstream-holds.ts) spread alike.
 */
export function hintSpreadMs(hintMs: number, random: () => number = Math.random): number {
  return Math.min(hintMs * HINT_SPREAD, MAX_HINT_SPREAD_MS) * random();
}

/** The wait before retry number `retry` (1-based) after `failure`. */
export function chooseDelay(
  failure: unknown,
  retry: number,
  options: LlmRetryOptions,
  random: () => number = Math.random,
): RetryDelay & { hintMs?: number } {
  // A hint of 0 (`Retry-After: 0`, a date already past) is no hint, as OpenAI's SDK reads it:
  // taken as is, every retry went at once into an upstream that had just refused.
  if (
    isLlmError(failure) &&
    failure.retryAfterMs !== undefined &&
    failure.retryAfterMs > 0 &&
    failure.retryAfterSource
  ) {
    const hintMs = Math.min(failure.retryAfterMs, options.maxServerHintMs);
    // Never sooner than the hint; spread a little after it, so the callers one window's reset
    // sent back do not all come at the same instant.
    const spreadMs = hintSpreadMs(hintMs, random);
    return { delayMs: Math.round(hintMs + spreadMs), source: failure.retryAfterSource, hintMs };
  }
  return {
    delayMs: fullJitterDelay(retry, options.baseDelayMs, options.maxDelayMs, random),
    source: 'backoff',
  };
}

/**
 * Whether the provider said in so many words when to come back (`retry-after-ms`, `Retry-After`)
 * and that is later than `maxServerHintMs`: a retry sooner is one it said it would refuse (a 429
 * with `Retry-After: 3600` was waited 60 s, then sent into the window still closed). The reset
 * of an `x-ratelimit-*` budget is not such a wait (it is when the whole budget is back; room
 * for one request may come sooner): it stays capped.
 */
function hintPastCap(failure: LlmError, options: LlmRetryOptions): boolean {
  return (
    (failure.retryAfterSource === 'retry-after-ms' || failure.retryAfterSource === 'retry-after') &&
    failure.retryAfterMs !== undefined &&
    failure.retryAfterMs > options.maxServerHintMs
  );
}

/** What an error built from `failure` keeps of the upstream's answer it came from. */
function answerOf(failure: LlmError): LlmErrorDetails {
  return {
    status: failure.status,
    requestId: failure.requestId,
    upstreamHeaders: failure.upstreamHeaders,
    upstream: failure.upstream,
    model: failure.model,
    providerCode: failure.providerCode,
  };
}

/** The failure as it came, not retried, saying why: its hint is past what the call waits for. */
function notWaitedFor(failure: LlmError, maxServerHintMs: number): LlmError {
  const hintS = ((failure.retryAfterMs ?? 0) / 1000).toFixed(1);
  return new LlmError(
    failure.kind,
    `${failure.message} The provider asked to wait ${hintS} s (${failure.retryAfterSource}), ` +
      `longer than retry.maxServerHintMs (${(maxServerHintMs / 1000).toFixed(1)} s): not retried.`,
    {
      ...answerOf(failure),
      retryable: failure.retryable,
      param: failure.param,
      retryAfterMs: failure.retryAfterMs,
      retryAfterSource: failure.retryAfterSource,
      cause: failure,
    },
  );
}

function waitPastDeadline(failure: LlmError, delay: RetryDelay, remainingMs: number): LlmError {
  const waitS = (delay.delayMs / 1000).toFixed(1);
  // What the caller is told: the provider's own wait, uncapped (maxServerHintMs caps only how
  // long this process would sleep). A backoff's wait is no advice: nothing said when to come back.
  const callerWaitMs =
    delay.source !== 'backoff' && failure.retryAfterMs !== undefined
      ? failure.retryAfterMs
      : undefined;
  return new LlmError(
    'deadline_exceeded',
    `Upstream '${failure.upstream}' model '${failure.model}' failed (${failure.kind}` +
      `${failure.status ? ` ${failure.status}` : ''}) and the next retry would wait ${waitS} s ` +
      `(${delay.source}), but only ${(remainingMs / 1000).toFixed(1)} s remain of the deadline; ` +
      `failing now instead of sleeping into it.` +
      (callerWaitMs === undefined ? '' : ` Retry after ${(callerWaitMs / 1000).toFixed(1)} s.`),
    {
      ...answerOf(failure),
      retryable: false,
      retryAfterMs: callerWaitMs,
      retryAfterSource: callerWaitMs === undefined ? undefined : delay.source,
      cause: failure,
    },
  );
}

/** One policy per upstream's retry options: cockatiel's policy keeps no state between runs. */
const sharedPolicies = new WeakMap<LlmRetryOptions, RetryPolicy>();

/**
 * The only retry layer: runs `fn` with up to `maxRetries` retries of what the classifier calls
 * retryable, waiting per {@link chooseDelay} within the call's deadline. The policy is built
 * once per upstream's options rather than per call: the call's deadline and delays reach the
 * policy's backoff through the deadline's signal, which cockatiel passes it.
 *
 * @example
 * await executeWithRetry(upstream.retry, { deadline, delayed: (delay) => log(delay) }, send);
 */
export function executeWithRetry<T>(
  options: LlmRetryOptions,
  call: RetryingCall,
  fn: () => Promise<T>,
): Promise<T> {
  let policy = sharedPolicies.get(options);
  if (!policy) {
    policy = retry(RETRYABLE, {
      maxAttempts: options.maxRetries,
      backoff: new ServerHintBackoff(options, Math.random),
    });
    sharedPolicies.set(options, policy);
  }
  const signal: RetryingSignal = call.deadline.signal;
  // Kept with the signal: a fallback's next target runs here with the same call.
  signal[RETRYING] = call;
  return policy.execute(fn, signal);
}

/** What is retried, built once: `retry()` copies its filters into each call's policy. */
const RETRYABLE = handleWhen((error) => isLlmError(error) && error.retryable);
