import { Inject, Injectable } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  BrokenCircuitError,
  CircuitState,
  isBrokenCircuitError,
  isIsolatedCircuitError,
  isTaskCancelledError,
} from 'cockatiel';
import { LlmRateLimiter } from '../limits/llm-rate-limiter';
import { LlmTelemetry } from '../observability/llm-telemetry';
import { CallDeadline } from '../resilience/call-deadline';
import { isLlmError, LlmError } from '../resilience/llm.errors';
import { createRetryPolicy } from '../resilience/retry.policy';
import { TrackedBreaker } from '../resilience/tracked-breaker';
import { UpstreamPoliciesRegistry } from '../resilience/upstream-policies.registry';
import { AttemptRecord, CallRecord } from './call-record';
import { bulkheadError, circuitOpenError } from './pipeline.errors';
import { raceAbort } from './race-abort';

/** What one attempt function gets. */
export interface AttemptContext {
  attempt: AttemptRecord;
  record: CallRecord;
  deadline: CallDeadline;
  /** Headers every attempt of the call carries: the same client request id, its own number. */
  headers: Record<string, string>;
}

/** A call's record and deadline, made before it enters the pipeline. */
export interface CallTarget {
  record: CallRecord;
  deadline: CallDeadline;
}

/** One logical call through the pipeline. */
export interface CallSpec<T> extends CallTarget {
  /** Sends one attempt; throws an {@link LlmError} when it fails. */
  attempt: (context: AttemptContext) => Promise<T>;
  /**
   * Holds the bulkhead slot (and the deadline) after the result is handed over, until the
   * returned promise settles with how that part ended: a stream occupies its slot until its last
   * chunk.
   */
  holdUntil?: (value: T) => Promise<LlmError | undefined>;
  /** Called with how the held part ended (see `holdUntil`). */
  onHeldEnd?: (error: LlmError | undefined) => void;
  /** Called once the call has left the bulkhead: its slot is free for the next call. */
  onSlotReleased?: () => void;
  /**
   * Whether an open circuit may be waited for (within `breaker.maxProbeWaitMs` and the deadline). The
   * runner says no while a fallback is left: moving on answers sooner.
   */
  mayWaitForCircuit?: boolean;
}

/**
 * The call path against one upstream and model, outermost first: (the caller's total deadline) →
 * retry → circuit breaker → rate limiter → bulkhead slot → attempt (timeout and transport live in
 * the attempt function). The bulkhead holds only attempts in flight: waits hold no slot. The
 * fallback chain around it, and the start and end of the logical call, belong to
 * {@link CallRunner}.
 */
@Injectable()
export class CallPipeline {
  constructor(
    private readonly policies: UpstreamPoliciesRegistry,
    private readonly telemetry: LlmTelemetry,
    @Inject(LlmRateLimiter) private readonly limiter: LlmRateLimiter,
  ) {}

  async run<T>(spec: CallSpec<T>): Promise<T> {
    const { deadline } = spec;
    try {
      // cockatiel's queue and backoff sleeps do not listen to the signal: the caller is released
      // at once on abort or deadline, and the abandoned attempt ends as soon as it wakes.
      return await raceAbort(this.retrying(spec), deadline.signal, () => this.abortError(spec));
    } catch (error) {
      throw this.finalError(error, spec);
    }
  }

  /**
   * Runs one attempt in a bulkhead slot. Only attempts hold slots: a call waiting for budget, for
   * a probe or for its next retry costs a promise, not a connection, and is bounded by
   * `limits.maxQueue`, its deadline and its abort; the bulkhead bounds what is in flight
   * upstream. A stream keeps its slot until its last chunk, or until it failed after content.
   */
  private inSlot<T>(spec: CallSpec<T>, send: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.policies
        .bulkhead(spec.record.upstream)
        .execute(async () => {
          const value = await send();
          resolve(value);
          if (spec.holdUntil) spec.onHeldEnd?.(await spec.holdUntil(value));
        }, spec.deadline.signal)
        .catch((error: unknown) => reject(bulkheadError(error, spec.record)))
        .finally(() => spec.onSlotReleased?.());
    });
  }

  private retrying<T>(spec: CallSpec<T>): Promise<T> {
    const { record, deadline } = spec;
    const breaker = this.policies.breaker(record.upstream, record.model);
    const policy = createRetryPolicy(record.upstream.retry, deadline, (delay, failure) => {
      const reason = isLlmError(failure) ? failure.kind : 'network';
      this.telemetry.retryScheduled(record, record.noteRetry(delay, reason));
    });
    return policy.execute(async () => {
      deadline.throwIfOver(this.context(spec));
      for (;;) {
        try {
          return await this.throughBreaker(spec, breaker);
        } catch (error) {
          if (isIsolatedCircuitError(error)) throw circuitOpenError(breaker, spec.record);
          if (!isBrokenCircuitError(error)) throw error;
          if (!(await this.waitForProbe(spec, breaker)))
            throw circuitOpenError(breaker, spec.record);
        }
      }
    }, deadline.signal);
  }

  private async throughBreaker<T>(spec: CallSpec<T>, breaker: TrackedBreaker): Promise<T> {
    const { record, deadline } = spec;
    let attempt: AttemptRecord | undefined;
    try {
      return await breaker.policy.execute(async () => {
        const breakerState = breaker.effectiveState();
        // Inside the breaker, as DESIGN.md orders it; a budget wait is never a breaker failure.
        const reservation = await this.limiter.acquire(record, deadline);
        if (breakerState === 'closed' && breaker.policy.state !== CircuitState.Closed) {
          // The circuit opened while this call waited for budget: it must not add to the
          // outage's traffic. It gives the budget back and meets the open circuit instead.
          reservation.release?.();
          throw new BrokenCircuitError();
        }
        try {
          return await this.inSlot(spec, async () => {
            attempt = record.startAttempt(breakerState);
            attempt.limiterWaitMs = reservation.waitedMs;
            try {
              return await this.attempt(spec, attempt);
            } finally {
              reservation.settle(record, attempt);
            }
          });
        } catch (error) {
          // No slot (bulkhead full, or aborted in its queue): nothing was sent, the budget is back.
          if (!attempt) reservation.release?.();
          throw error;
        }
      }, deadline.signal);
    } finally {
      if (attempt) {
        attempt.breakerAfter = breaker.effectiveState();
        this.telemetry.attemptEnded(record, attempt);
      }
    }
  }

  /**
   * Waits until an open circuit lets a probe through, when the call may (no fallback left), the
   * probe is due within `breaker.maxProbeWaitMs` and before the deadline. False: fail at once. A
   * half-open circuit whose probe is in flight is waited for by cockatiel itself; a bad probe
   * reopens the circuit for a longer break and brings the call back here.
   */
  private async waitForProbe<T>(spec: CallSpec<T>, breaker: TrackedBreaker): Promise<boolean> {
    const { record, deadline } = spec;
    if (spec.mayWaitForCircuit === false) return false;
    const waitMs = Math.max(1, breaker.openRemainingMs());
    if (waitMs > record.upstream.breaker.maxProbeWaitMs || waitMs >= deadline.remainingMs()) {
      return false;
    }
    const started = Date.now();
    try {
      await sleep(waitMs, undefined, { signal: deadline.signal });
    } catch {
      throw this.abortError(spec);
    } finally {
      record.breakerWaitMs += Date.now() - started;
    }
    return true;
  }

  private async attempt<T>(spec: CallSpec<T>, attempt: AttemptRecord): Promise<T> {
    const { record } = spec;
    const headers = {
      'x-client-request-id': record.clientRequestId,
      'x-llm-attempt': String(attempt.number),
    };
    this.telemetry.attemptStarted(record, attempt);
    try {
      const value = await this.telemetry.runAttempt(record, attempt, () =>
        spec.attempt({ attempt, record, deadline: spec.deadline, headers }),
      );
      record.endAttempt(attempt);
      return value;
    } catch (error) {
      const llmError = isLlmError(error) ? error : this.unexpected(error, spec);
      record.endAttempt(attempt, llmError);
      throw llmError;
    }
  }

  private finalError(error: unknown, spec: CallTarget): unknown {
    let result: unknown = bulkheadError(error, spec.record);
    if (isTaskCancelledError(error)) result = this.abortError(spec);
    if (isLlmError(result)) result.attempts = spec.record.attemptCount;
    return result;
  }

  private abortError(spec: CallTarget): LlmError {
    return spec.deadline.abortError(this.context(spec));
  }

  private unexpected(error: unknown, spec: CallTarget): LlmError {
    const { upstream, model } = spec.record;
    // Thrown by our own code, not answered by the upstream: never retried nor a breaker failure.
    return new LlmError(
      'internal',
      `Unexpected failure inside this process while calling upstream '${upstream.name}': ` +
        `${error instanceof Error ? error.name : typeof error}. Not retried; see the cause.`,
      { upstream: upstream.name, model, cause: error, retryable: false },
    );
  }

  private context(spec: CallTarget) {
    const { upstream, model } = spec.record;
    return { upstream: upstream.name, model, attempts: spec.record.attemptCount };
  }
}
