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

/**
 * The typed error of a call that met a half-open circuit whose probe has been in flight longer
 * than it may wait (`breaker.maxProbeWaitMs`): an upstream that does not answer its probe.
 * `retryAfterMs` is the break before the probe, the time the breaker itself waited.
 *
 * @example
 * throw probePendingError(breaker, record, 5_600);
 */
export function probePendingError(
  breaker: TrackedBreaker,
  record: CallRecord,
  inFlightMs: number,
): LlmError {
  const { upstream, model } = record;
  return new LlmError(
    'circuit_open',
    `Circuit for upstream '${upstream.name}' model '${model}' is half-open: its probe has had ` +
      `no answer for ${durationText(inFlightMs)}; calls are rejected until it answers.`,
    {
      upstream: upstream.name,
      model,
      retryAfterMs: breaker.breakDurationMs,
      retryable: false,
    },
  );
}
