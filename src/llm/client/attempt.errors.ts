import type { CallRecord } from '../call/call-record';
import { LlmError } from '../resilience/llm.errors';

/**
 * An attempt that failed with something other than an {@link LlmError}: thrown by our own code,
 * not answered by the upstream, so never retried nor a breaker failure.
 *
 * @example
 * throw unexpectedError(new TypeError('...'), record); // kind 'internal', cause kept
 */
export function unexpectedError(error: unknown, record: CallRecord): LlmError {
  const { upstream, model } = record;
  return new LlmError(
    'internal',
    `Unexpected failure inside this process while calling upstream '${upstream.name}': ` +
      `${error instanceof Error ? error.name : typeof error}. Not retried; see the cause.`,
    { upstream: upstream.name, model, cause: error, retryable: false },
  );
}
