import { isBulkheadRejectedError } from 'cockatiel';
import { LlmError } from './llm.errors';
import type { TrackedBreaker } from './tracked-breaker';
import type { CallRecord } from '../call/call-record';

/**
 * The typed error of a call an open circuit refused: how long until its probe, and why it opened.
 *
 * @example
 * throw circuitOpenError(breaker, record); // kind 'circuit_open', retryAfterMs set
 */
export function circuitOpenError(breaker: TrackedBreaker, record: CallRecord): LlmError {
  const waitMs = breaker.openRemainingMs();
  const last = breaker.snapshot().lastFailure;
  const { upstream, model } = record;
  return new LlmError(
    'circuit_open',
    `Circuit for upstream '${upstream.name}' model '${model}' is open; calls are rejected ` +
      `for ${Math.ceil(waitMs / 1000)} s.` +
      (last ? ` The last failure was ${last.status ?? last.kind} from the upstream.` : ''),
    { upstream: upstream.name, model, retryAfterMs: waitMs, retryable: false },
  );
}

/**
 * cockatiel's bulkhead rejection as a typed, non-retryable `bulkhead_full`; other errors as they
 * are.
 *
 * @example
 * throw bulkheadError(error, record);
 */
export function bulkheadError(error: unknown, record: CallRecord): unknown {
  if (!isBulkheadRejectedError(error)) return error;
  const { upstream, model } = record;
  const { maxConcurrent, maxQueue } = upstream.bulkhead;
  return new LlmError(
    'bulkhead_full',
    `Upstream '${upstream.name}' already has ${maxConcurrent} calls in flight and ` +
      `${maxQueue} queued; rejected at once to protect this service. Shed load or raise ` +
      `bulkhead.maxConcurrent/maxQueue.`,
    { upstream: upstream.name, model, retryable: false },
  );
}
