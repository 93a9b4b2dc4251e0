import { isBulkheadRejectedError } from 'cockatiel';
import type { CallRecord } from '../call/call-record';
import { LlmError } from './llm.errors';

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
  // A call that waited its turn first (a budget, a 429's hold) was not rejected "at once".
  const waitedMs = Date.now() - record.startedAt;
  const when =
    waitedMs < 100 ? 'at once' : `after ${(waitedMs / 1000).toFixed(1)} s of waiting for its turn`;
  return new LlmError(
    'bulkhead_full',
    `Upstream '${upstream.name}' already has ${maxConcurrent} ${maxConcurrent === 1 ? 'call' : 'calls'} ` +
      `in flight and ${maxQueue} queued; rejected ${when} to protect this service. Shed load or raise ` +
      `bulkhead.maxConcurrent/maxQueue.`,
    { upstream: upstream.name, model, retryable: false },
  );
}
