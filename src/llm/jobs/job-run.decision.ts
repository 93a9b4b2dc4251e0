import { isLlmError, type LlmError } from '../resilience/llm.errors';
import type { LlmJobRedeliveryReason } from './llm-jobs.metrics';

/** Longest backoff between failed runs of one job. */
const MAX_FAILURE_DELAY_MS = 60_000;

/** What a worker does with a run that did not complete. */
export type JobRunDecision =
  /** Put the job back to wait `delayMs` (a wait, or a failure with runs left). */
  | { action: 'delay'; delayMs: number; reason: LlmJobRedeliveryReason; countsAsFailure: boolean }
  /** End the job as failed: no run can fix it, or its deadline leaves no room for another. */
  | { action: 'fail' }
  /** It kept failing: end it as failed and put it in the dead-letter queue. */
  | { action: 'dead_letter' };

/** The facts a decision needs about the job. */
export interface JobRunFacts {
  /** Failed runs before this one (crashed runs included). */
  failures: number;
  maxDeliveries: number;
  /** Epoch ms. */
  deadlineAt: number;
  now: number;
  failureDelayMs: number;
}

/** Errors that say "wait and try again": the wait is the provider's or our own protection's. */
const WAIT_KINDS = new Set(['rate_limited', 'circuit_open', 'bulkhead_full']);

/**
 * Decides what follows a failed run. Waits (rate limit, open circuit, full bulkhead) that come with
 * a time to wait become delayed redeliveries and do not count as failures: the job waits in the
 * broker instead of holding a worker. Retryable failures are tried again after a growing delay,
 * up to `maxDeliveries` runs in all, then dead-lettered. Anything else fails the job at once.
 * A delay that would pass the job's deadline fails the job instead.
 */
export function decideAfterFailure(error: unknown, facts: JobRunFacts): JobRunDecision {
  const left = facts.deadlineAt - facts.now;
  if (left <= 0) return { action: 'fail' };
  if (!isLlmError(error)) return failure(facts, left);
  if (
    WAIT_KINDS.has(error.kind) &&
    (error.retryAfterMs !== undefined || error.kind === 'bulkhead_full')
  ) {
    const delayMs = Math.max(error.retryAfterMs ?? facts.failureDelayMs, 1);
    if (delayMs >= left) return { action: 'fail' };
    return {
      action: 'delay',
      delayMs,
      reason: error.kind as LlmJobRedeliveryReason,
      countsAsFailure: false,
    };
  }
  if (!isRetryableForJob(error)) return { action: 'fail' };
  return failure(facts, left);
}

function failure(facts: JobRunFacts, left: number): JobRunDecision {
  if (facts.failures + 1 >= facts.maxDeliveries) return { action: 'dead_letter' };
  const delayMs = Math.min(facts.failureDelayMs * 2 ** facts.failures, MAX_FAILURE_DELAY_MS);
  if (delayMs >= left) return { action: 'fail' };
  return { action: 'delay', delayMs, reason: 'failure', countsAsFailure: true };
}

/** Retryable kinds, plus a run that only ran out of its hold time (the job has time left). */
function isRetryableForJob(error: LlmError): boolean {
  return error.retryable || error.kind === 'deadline_exceeded';
}
