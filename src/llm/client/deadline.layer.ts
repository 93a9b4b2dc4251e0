import { isTaskCancelledError } from 'cockatiel';
import { unwatchAbort, watchAbort } from '../resilience/abort-link';
import { bulkheadError } from '../resilience/bulkhead.errors';
import { isLlmError } from '../resilience/llm.errors';
import { type LlmCall, whereOf } from './llm-call';

/**
 * The outermost layer: the call's one total deadline (`timeouts.deadlineMs` or the call's
 * `deadlineMs`, made by `CallLifecycle.open`) covers every target of the fallback chain, every
 * wait and every attempt. cockatiel's queue and backoff sleeps do not listen to the signal: the
 * caller is released at once on abort or deadline, and the abandoned work ends as soon as it wakes
 * (the retry layer checks the deadline before each attempt).
 */
export async function withinDeadline<T>(call: LlmCall<T>, run: () => Promise<T>): Promise<T> {
  const abortError = () => call.deadline.abortError(whereOf(call.record));
  try {
    return await raceAbort(run(), call.deadline.signal, abortError);
  } catch (error) {
    // cockatiel's own rejections become the call's typed errors.
    let result: unknown = bulkheadError(error, call.record);
    if (isTaskCancelledError(error)) result = abortError();
    if (isLlmError(result)) result.attempts = call.record.attemptCount;
    throw result;
  }
}

/**
 * Settles with `promise`, or rejects with `onAbort()` as soon as `signal` aborts, whichever
 * comes first. The promise itself goes on; its outcome is ignored.
 */
export function raceAbort<T>(
  promise: Promise<T>,
  signal: AbortSignal,
  onAbort: () => Error,
): Promise<T> {
  if (signal.aborted) {
    promise.catch(() => undefined);
    return Promise.reject(onAbort());
  }
  return new Promise<T>((resolve, reject) => {
    const abort = (): void => reject(onAbort());
    watchAbort(signal, abort);
    promise.then(
      (value) => {
        unwatchAbort(signal, abort);
        resolve(value);
      },
      (error: unknown) => {
        unwatchAbort(signal, abort);
        reject(error);
      },
    );
  });
}
