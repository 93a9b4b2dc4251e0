import {
  circuitBreaker,
  type CircuitBreakerPolicy,
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
  return circuitBreaker(handleWhen(counts), {
    breaker: new ConsecutiveBreaker(options.consecutiveFailures),
    halfOpenAfter: new BreakDurations(
      options.minBreakMs,
      options.maxBreakMs,
      options.maxProbeWaitMs,
      onBreak,
    ),
  });
}
