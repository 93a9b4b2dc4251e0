import {
  circuitBreaker,
  type CircuitBreakerPolicy,
  CircuitState,
  ConsecutiveBreaker,
  handleWhen,
} from 'cockatiel';
import { type LlmBreakerOptions } from '../llm-module.options';
import { BreakDurations } from './break-duration';
import { isLlmError, type LlmErrorKind } from './llm.errors';

/**
 * Failures that say the upstream is unhealthy. Client errors (400, 401, 404, ...) say the request
 * or the key is wrong, and rate limits are flow control handled by backoff and the limiter: none of
 * them should cut every other caller off the upstream.
 */
const BREAKER_FAILURE_KINDS: ReadonlySet<LlmErrorKind> = new Set<LlmErrorKind>([
  'server_error',
  'overloaded',
  'timeout',
  'network',
  'invalid_response',
]);

/** Whether an error counts toward opening the circuit. */
export function countsAsBreakerFailure(error: unknown): boolean {
  return isLlmError(error) && BREAKER_FAILURE_KINDS.has(error.kind);
}

/**
 * Whether an error says nothing of the upstream's health: not a failure the breaker counts, and
 * no answer from the upstream either (the caller left, its deadline passed while the attempt
 * waited, the limiter or the bulkhead refused it). A half-open probe ending so proves no recovery.
 */
export function isInconclusiveProbe(error: unknown): boolean {
  return isLlmError(error) && !BREAKER_FAILURE_KINDS.has(error.kind) && error.status === undefined;
}

/** Errors of half-open probes (see {@link failedAsProbe}). */
const probeErrors = new WeakSet<object>();

/**
 * Marks the failure of a call that ran as the half-open probe: only a probe's inconclusive end
 * reopens the circuit. A call that entered while the circuit was closed and was cancelled while
 * a probe ran must not: cockatiel counts it on its closed path, and its count, still at the
 * threshold, reopened the circuit over the probe's success.
 */
export function failedAsProbe(error: unknown): unknown {
  if (typeof error === 'object' && error !== null) probeErrors.add(error);
  return error;
}

/**
 * The seed's breaker: `consecutiveFailures` in a row open the circuit; it half-opens after a break
 * and lets one probe through; a good probe closes it, a bad one reopens it. Breaks last
 * `minBreakMs` while the outage is younger than `maxProbeWaitMs`, then double with each failed
 * probe up to `maxBreakMs` (the seed's 30 s).
 *
 * @param onBreak told the duration of each break as the circuit opens
 * @param onCounted told each failure the breaker counts, before it counts it (before a transition
 *   it causes): what cockatiel's `onFailure` would say of a handled error, without the stopwatch
 *   cockatiel starts on every call of a policy that has an `onFailure` listener
 */
export function createBreakerPolicy(
  options: LlmBreakerOptions,
  onBreak?: (durationMs: number) => void,
  onCounted?: (error: unknown) => void,
): CircuitBreakerPolicy {
  const counts = onCounted
    ? (error: unknown): boolean => {
        if (!countsAsBreakerFailure(error)) return false;
        onCounted(error);
        return true;
      }
    : countsAsBreakerFailure;
  // A half-open probe that ends without the upstream's answer reopens the circuit, for a break as
  // short as the first (BreakDurations): cockatiel takes an error its filter leaves out as a
  // success, and a caller's abort or a local refusal of the probe closed the circuit on an
  // upstream still down, letting every call through to it.
  const policy: CircuitBreakerPolicy = circuitBreaker(
    handleWhen(
      (error) =>
        counts(error) ||
        (policy.state === CircuitState.HalfOpen &&
          probeErrors.has(error as object) &&
          isInconclusiveProbe(error)),
    ),
    {
      breaker: new ConsecutiveBreaker(options.consecutiveFailures),
      halfOpenAfter: new BreakDurations(
        options.minBreakMs,
        options.maxBreakMs,
        options.maxProbeWaitMs,
        onBreak,
        isInconclusiveProbe,
      ),
    },
  );
  return policy;
}
