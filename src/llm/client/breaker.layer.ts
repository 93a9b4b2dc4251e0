import { setTimeout as sleep } from 'node:timers/promises';
import { CircuitState, isBrokenCircuitError, isIsolatedCircuitError } from 'cockatiel';
import type { BreakerState } from '../call/call-record.types';
import type { LlmTelemetry } from '../observability/llm-telemetry';
import { circuitOpenError, probePendingError } from '../resilience/breaker.errors';
import { failedAsProbe } from '../resilience/breaker.policy';
import { bulkheadError } from '../resilience/bulkhead.errors';
import type { TrackedBreaker } from '../resilience/tracked-breaker';
import { type LlmCall, whereOf } from './llm-call';

/**
 * The circuit breaker layer, per upstream and model: `run` goes through the cockatiel breaker,
 * told the breaker's effective state as it passed. An open circuit is met with `circuit_open`,
 * unless its probe is due soon enough to wait for (see {@link waitForProbe}). Once the breaker
 * has counted an attempt, the attempt is reported with the state it left the breaker in.
 */
export async function throughBreaker<T>(
  call: LlmCall<T>,
  breaker: TrackedBreaker,
  mayWaitForCircuit: boolean,
  telemetry: LlmTelemetry,
  run: (breakerState: BreakerState) => Promise<T>,
): Promise<T> {
  const { record, deadline } = call;
  for (;;) {
    // A probe in flight: cockatiel would hold this call until it answers, however long the
    // upstream takes (a hanging one: the whole deadline). Waited here instead, within bounds.
    if (breaker.policy.state === CircuitState.HalfOpen) {
      await waitForProbeAnswer(call, breaker, mayWaitForCircuit);
      continue;
    }
    try {
      // One pass through the breaker, inline (no promise of its own): at most one attempt
      // starts in it, reported before the failure is looked at.
      const attemptsBefore = record.attemptCount;
      try {
        return await breaker.policy.execute(() => {
          // The half-open probe's failure is marked as the probe's (see failedAsProbe); other
          // calls pay for no promise of this.
          if (breaker.policy.state !== CircuitState.HalfOpen) return run(breaker.effectiveState());
          return run('half_open').catch((error: unknown) => {
            throw failedAsProbe(error);
          });
        }, deadline.signal);
      } finally {
        reportAttempt(call, attemptsBefore, breaker, telemetry);
      }
    } catch (error) {
      if (isIsolatedCircuitError(error)) throw circuitOpenError(breaker, record);
      // A full bulkhead below (`bulkhead.layer.ts`) as `bulkhead_full`; other errors as they are.
      if (!isBrokenCircuitError(error)) throw bulkheadError(error, record);
      if (!(await waitForProbe(call, breaker, mayWaitForCircuit))) {
        throw circuitOpenError(breaker, record);
      }
    }
  }
}

/**
 * Once the breaker counted the pass's attempt (if one started): its end, with the state left. A
 * successful attempt of a call answered before its end is reported is held for the call's close
 * (`CallLifecycle.close`): nothing else is reported between the two.
 */
function reportAttempt<T>(
  call: LlmCall<T>,
  attemptsBefore: number,
  breaker: TrackedBreaker,
  telemetry: LlmTelemetry,
): void {
  const { record } = call;
  const attempt = record.attempts[attemptsBefore];
  if (attempt) {
    attempt.breakerAfter = breaker.effectiveState();
    if (call.reportsAfterAnswer && attempt.error === undefined) call.heldAttempt = attempt;
    else telemetry.attemptEnded(record, attempt);
  }
}

/**
 * Waits for the answer of a half-open circuit's probe, in flight, when the call may (no fallback
 * left), while the probe has been in flight for less than `breaker.maxProbeWaitMs`; throws
 * `circuit_open` ({@link probePendingError}) otherwise, and once the probe has been out that
 * long. A good probe closes the circuit, a bad one reopens it: either way the call goes on.
 */
async function waitForProbeAnswer<T>(
  call: LlmCall<T>,
  breaker: TrackedBreaker,
  mayWaitForCircuit: boolean,
): Promise<void> {
  const { record, deadline } = call;
  const inFlightMs = breaker.probeInFlightMs() ?? 0;
  const waitMs = record.upstream.breaker.maxProbeWaitMs - inFlightMs;
  if (!mayWaitForCircuit || waitMs <= 0) throw probePendingError(breaker, record, inFlightMs);
  const started = Date.now();
  await new Promise<void>((resolve, reject) => {
    // Counted as the wait ends, before the caller is told: on the deadline's abort the deadline
    // layer releases the caller at once, and the call's telemetry must see the wait.
    const done = (): void => {
      clearTimeout(timer);
      changed.dispose();
      deadline.signal.removeEventListener('abort', aborted);
      record.breakerWaitMs += Date.now() - started;
    };
    const changed = breaker.policy.onStateChange(() => {
      done();
      resolve();
    });
    const aborted = (): void => {
      done();
      reject(deadline.abortError(whereOf(record)));
    };
    const timer = setTimeout(() => {
      done();
      resolve();
    }, waitMs);
    if (deadline.signal.aborted) aborted();
    else deadline.signal.addEventListener('abort', aborted, { once: true });
  });
  const stillMs = breaker.probeInFlightMs();
  if (stillMs !== undefined) throw probePendingError(breaker, record, stillMs);
}

/**
 * Waits until an open circuit lets a probe through, when the call may (no fallback left), the
 * probe is due within `breaker.maxProbeWaitMs` and before the deadline. False: fail at once. A
 * half-open circuit whose probe is in flight is waited for by {@link waitForProbeAnswer}; a bad
 * probe reopens the circuit for a longer break and brings the call back here.
 */
async function waitForProbe<T>(
  call: LlmCall<T>,
  breaker: TrackedBreaker,
  mayWaitForCircuit: boolean,
): Promise<boolean> {
  const { record, deadline } = call;
  if (!mayWaitForCircuit) return false;
  const waitMs = Math.max(1, breaker.openRemainingMs());
  if (waitMs > record.upstream.breaker.maxProbeWaitMs || waitMs >= deadline.remainingMs()) {
    return false;
  }
  const started = Date.now();
  let counted = false;
  // Counted when the abort fires, not when the sleep's rejection arrives: the deadline layer
  // releases the caller on the same abort, and the call's telemetry must see the wait.
  const count = (): void => {
    if (counted) return;
    counted = true;
    record.breakerWaitMs += Date.now() - started;
  };
  deadline.signal.addEventListener('abort', count, { once: true });
  try {
    await sleep(waitMs, undefined, { signal: deadline.signal });
  } catch {
    throw deadline.abortError(whereOf(record));
  } finally {
    deadline.signal.removeEventListener('abort', count);
    count();
  }
  return true;
}
