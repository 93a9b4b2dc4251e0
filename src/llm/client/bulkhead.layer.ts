import type { BulkheadPolicy } from 'cockatiel';
import { bulkheadError } from '../resilience/bulkhead.errors';
import type { LlmCall } from './llm-call';

/**
 * The bulkhead layer, per upstream, innermost before the attempt: only attempts hold slots. A
 * call waiting for budget, for a probe or for its next retry costs a promise, not a connection,
 * and is bounded by `limits.maxQueue`, its deadline and its abort; the bulkhead bounds what is
 * in flight upstream. A full bulkhead rejects at once with `bulkhead_full` (typed, for a plain
 * call, by the breaker layer it runs in: neither the breaker nor the retry counts it). A stream keeps its
 * slot until its last chunk, or until it failed after content (see {@link LlmCall.hold}).
 */
export function inBulkheadSlot<T>(
  call: LlmCall<T>,
  bulkhead: BulkheadPolicy,
  send: () => Promise<T>,
): Promise<T> {
  const { hold } = call;
  if (!hold) {
    // A plain call: its slot is released when the attempt settles, which is what execute does.
    // A full bulkhead's rejection is typed by the breaker layer around this one (see
    // `breaker.layer.ts`), as it passes: no promise of this layer's own on every call.
    return bulkhead.execute(send, call.deadline.signal);
  }
  return new Promise<T>((resolve, reject) => {
    bulkhead
      .execute(async () => {
        const value = await send();
        resolve(value);
        hold.ended(await hold.until(value));
      }, call.deadline.signal)
      .catch((error: unknown) => reject(bulkheadError(error, call.record)))
      .finally(() => hold.released());
  });
}
