import type { LlmTelemetry } from '../observability/llm-telemetry';
import { isLlmError } from '../resilience/llm.errors';
import { createRetryPolicy } from '../resilience/retry.policy';
import { type LlmCall, whereOf } from './llm-call';

/**
 * The retry layer, against one target: the only retry in the process (cockatiel `retry`, built
 * per call by {@link createRetryPolicy} because its waits depend on the deadline). Each retry is
 * recorded before its backoff sleep; each try first checks that the call is not over.
 */
export function withRetry<T>(
  call: LlmCall<T>,
  telemetry: LlmTelemetry,
  run: () => Promise<T>,
): Promise<T> {
  const { record, deadline } = call;
  const policy = createRetryPolicy(record.upstream.retry, deadline, (delay, failure) => {
    const reason = isLlmError(failure) ? failure.kind : 'network';
    telemetry.retryScheduled(record, record.noteRetry(delay, reason));
  });
  return policy.execute(() => {
    deadline.throwIfOver(whereOf(record));
    return run();
  }, deadline.signal);
}
