import type { CallRecord } from '../call/call-record';
import type { RetryDelay } from '../call/call-record.types';
import type { LlmTelemetry } from '../observability/llm-telemetry';
import type { CallDeadline } from '../resilience/call-deadline';
import { isLlmError } from '../resilience/llm.errors';
import { executeWithRetry, type RetryingCall } from '../resilience/retry.policy';
import { type LlmCall, whereOf } from './llm-call';

/**
 * The retry layer, against one target: the only retry in the process (cockatiel `retry`, one
 * policy per upstream's options, told the call's deadline by {@link executeWithRetry}). Each
 * retry is recorded before its backoff sleep; each try first checks that the call is not over.
 */
export function withRetry<T>(
  call: LlmCall<T>,
  telemetry: LlmTelemetry,
  run: () => Promise<T>,
): Promise<T> {
  const { record, deadline } = call;
  return executeWithRetry(
    record.upstream.retry,
    new CallRetries(record, deadline, telemetry),
    () => {
      // The call's where-object only when it is over (not one per try).
      if (deadline.signal.aborted) throw deadline.abortError(whereOf(record));
      return run();
    },
  );
}

/** The call as its retry policy sees it: each delay is recorded and reported. */
class CallRetries implements RetryingCall {
  constructor(
    private readonly record: CallRecord,
    readonly deadline: CallDeadline,
    private readonly telemetry: LlmTelemetry,
  ) {}

  delayed(delay: RetryDelay, failure: unknown): void {
    const reason = isLlmError(failure) ? failure.kind : 'network';
    this.telemetry.retryScheduled(this.record, this.record.noteRetry(delay, reason));
  }
}
