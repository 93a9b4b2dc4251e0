import { Injectable } from '@nestjs/common';
import {
  isBrokenCircuitError,
  isBulkheadRejectedError,
  isIsolatedCircuitError,
  isTaskCancelledError,
} from 'cockatiel';
import { ResolvedUpstream } from '../llm-module.options';
import { CallDeadline } from '../resilience/call-deadline';
import { isLlmError, LlmError } from '../resilience/llm.errors';
import { createRetryPolicy } from '../resilience/retry.policy';
import { TrackedBreaker } from '../resilience/tracked-breaker';
import { UpstreamPoliciesRegistry } from '../resilience/upstream-policies.registry';
import { raceAbort } from './race-abort';
import { AttemptRecord, CallRecord } from './call-record';

/** What one attempt function gets. */
export interface AttemptContext {
  attempt: AttemptRecord;
  deadline: CallDeadline;
  /** Headers every attempt of the call carries: the same client request id, its own number. */
  headers: Record<string, string>;
}

/** Where one logical call goes and what it has done so far. */
export interface CallTarget {
  upstream: ResolvedUpstream;
  model: string;
  record: CallRecord;
  deadline: CallDeadline;
}

/** One logical call through the pipeline. */
export interface CallSpec<T> extends CallTarget {
  /** Sends one attempt; throws an {@link LlmError} when it fails. */
  attempt: (context: AttemptContext) => Promise<T>;
  /**
   * Holds the bulkhead slot (and the deadline) after the result is handed over, until the
   * returned promise settles: a stream occupies its slot until its last chunk.
   */
  holdUntil?: (value: T) => Promise<void>;
  /** Called once the call has left the bulkhead: its slot is free for the next call. */
  onSlotReleased?: () => void;
}

/**
 * The call path, outermost first, as DESIGN.md orders it: bulkhead → total deadline → retry →
 * circuit breaker → attempt (timeout and transport live in the attempt function). Fallbacks and
 * the rate limiter slot in between later without changing the order.
 */
@Injectable()
export class CallPipeline {
  constructor(private readonly policies: UpstreamPoliciesRegistry) {}

  async run<T>(spec: CallSpec<T>): Promise<T> {
    const { deadline } = spec;
    const bulkhead = this.policies.bulkhead(spec.upstream);
    const admitted = new Promise<T>((resolve, reject) => {
      bulkhead
        .execute(async () => {
          try {
            const value = await this.retrying(spec);
            resolve(value);
            if (spec.holdUntil) await spec.holdUntil(value);
          } finally {
            deadline.dispose();
          }
        }, deadline.signal)
        .catch((error: unknown) => {
          deadline.dispose();
          reject(error);
        })
        .finally(() => spec.onSlotReleased?.());
    });
    try {
      // cockatiel's queue and backoff sleeps do not listen to the signal: the caller is released
      // at once on abort or deadline, and the abandoned attempt ends as soon as it wakes.
      return await raceAbort(admitted, deadline.signal, () =>
        deadline.abortError(this.context(spec)),
      );
    } catch (error) {
      throw this.finalError(error, spec);
    }
  }

  private retrying<T>(spec: CallSpec<T>): Promise<T> {
    const { upstream, record, deadline } = spec;
    const breaker = this.policies.breaker(upstream, spec.model);
    const policy = createRetryPolicy(upstream.retry, deadline, (delay) => record.noteDelay(delay));
    return policy.execute(async () => {
      deadline.throwIfOver(this.context(spec));
      try {
        return await breaker.policy.execute(() => this.attempt(spec), deadline.signal);
      } catch (error) {
        if (isBrokenCircuitError(error) || isIsolatedCircuitError(error)) {
          throw this.circuitOpenError(breaker, spec);
        }
        throw error;
      }
    }, deadline.signal);
  }

  private async attempt<T>(spec: CallSpec<T>): Promise<T> {
    const attempt = spec.record.startAttempt();
    const headers = {
      'x-client-request-id': spec.record.clientRequestId,
      'x-llm-attempt': String(attempt.number),
    };
    try {
      const value = await spec.attempt({ attempt, deadline: spec.deadline, headers });
      spec.record.endAttempt(attempt);
      return value;
    } catch (error) {
      const llmError = isLlmError(error) ? error : this.unexpected(error, spec);
      spec.record.endAttempt(attempt, llmError);
      throw llmError;
    }
  }

  private circuitOpenError(breaker: TrackedBreaker, spec: CallTarget): LlmError {
    const waitMs = breaker.openRemainingMs();
    const last = breaker.snapshot().lastFailure;
    return new LlmError(
      'circuit_open',
      `Circuit for upstream '${spec.upstream.name}' model '${spec.model}' is open; calls are rejected ` +
        `for ${Math.ceil(waitMs / 1000)} s.` +
        (last ? ` The last failure was ${last.status ?? last.kind} from the upstream.` : ''),
      { upstream: spec.upstream.name, model: spec.model, retryAfterMs: waitMs, retryable: false },
    );
  }

  private finalError(error: unknown, spec: CallTarget): unknown {
    let result: unknown = error;
    if (isBulkheadRejectedError(error)) {
      const { maxConcurrent, maxQueue } = spec.upstream.bulkhead;
      result = new LlmError(
        'bulkhead_full',
        `Upstream '${spec.upstream.name}' already has ${maxConcurrent} calls in flight and ${maxQueue} ` +
          `queued; rejected at once to protect this service. Shed load or raise bulkhead.maxConcurrent/maxQueue.`,
        { upstream: spec.upstream.name, model: spec.model, retryable: false },
      );
    } else if (isTaskCancelledError(error)) {
      result = spec.deadline.abortError(this.context(spec));
    }
    if (isLlmError(result)) result.attempts = spec.record.attemptCount;
    return result;
  }

  private unexpected(error: unknown, spec: CallTarget): LlmError {
    return new LlmError(
      'invalid_response',
      `Unexpected failure in upstream '${spec.upstream.name}': ${String(error)}`,
      {
        upstream: spec.upstream.name,
        model: spec.model,
        cause: error,
      },
    );
  }

  private context(spec: CallTarget) {
    return { upstream: spec.upstream.name, model: spec.model, attempts: spec.record.attemptCount };
  }
}
