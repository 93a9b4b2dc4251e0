import { type LlmError, type LlmErrorKind, RETRYABLE_KINDS } from '../resilience/llm.errors';

/**
 * Failures any other model or upstream may not have: the primary is unavailable or unfit.
 * Retryable kinds reach the chain only once their retries are spent.
 */
const ANY_TARGET: ReadonlySet<LlmErrorKind> = new Set<LlmErrorKind>([
  ...RETRYABLE_KINDS,
  'circuit_open',
  'not_found',
  // A model with a larger window fixes it.
  'context_length_exceeded',
]);

/** Failures tied to the upstream itself (its key, its account, our capacity for it). */
const OTHER_UPSTREAM: ReadonlySet<LlmErrorKind> = new Set<LlmErrorKind>([
  'auth',
  'quota_exceeded',
  'bulkhead_full',
]);

/**
 * Whether a failure should move the call to the next target of its fallback chain. A request the
 * provider refused (bad request, content filter), a caller's abort, a stream that already
 * delivered content, or a deadline with no time left stay failures.
 *
 * @example
 * shouldFallBack(circuitOpen, { sameUpstream: true }); // true
 * shouldFallBack(authError, { sameUpstream: true }); // false: the same key would fail again
 */
export function shouldFallBack(error: LlmError, next: { sameUpstream: boolean }): boolean {
  if (ANY_TARGET.has(error.kind)) return true;
  if (OTHER_UPSTREAM.has(error.kind)) return !next.sameUpstream;
  // A provider's wait hint longer than the deadline: another target may answer now.
  return error.kind === 'deadline_exceeded' && error.status === 429;
}
