import type { CallRecord } from '../call/call-record';
import { durationText } from './duration-text';
import { LlmError } from './llm.errors';
import type { TrackedBreaker } from './tracked-breaker';

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
      `for ${durationText(waitMs)}.` +
      (last ? ` The last failure was ${last.status ?? last.kind} from the upstream.` : ''),
    { upstream: upstream.name, model, retryAfterMs: waitMs, retryable: false },
  );
}
