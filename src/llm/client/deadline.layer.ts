import { isTaskCancelledError } from 'cockatiel';
import { unwatchAbort, watchAbort } from '../resilience/abort-link';
import { bulkheadError } from '../resilience/bulkhead.errors';
import { finalMessage } from '../resilience/error-classifier';
import { isLlmError } from '../resilience/llm.errors';
import { type LlmCall, whereOf } from './llm-call';

/**
 * The outermost layer: the call's one total deadline (`timeouts.deadlineMs` or the call's
 * `deadlineMs`, made by `CallLifecycle.open`) covers every target of the fallback chain, every
 * wait and every attempt. cockatiel's queue and backoff sleeps do not listen to the signal: the
 * caller is released at once on abort or deadline, and the abandoned work ends as soon as it wakes
 * (the retry layer checks the deadline before each attempt).
 */
export function withinDeadline<T>(call: LlmCall<T>, run: () => Promise<T>): Promise<T> {
  const { record, deadline } = call;
  const abortError = (): Error => deadline.abortError(whereOf(record));
  // cockatiel's own rejections become the call's typed errors.
  const typed = (error: unknown): unknown => {
    let result: unknown = bulkheadError(error, record);
    if (isTaskCancelledError(error)) result = abortError();
    if (isLlmError(result)) {
      result.attempts = record.attemptCount;
      result.message = finalMessage(result.message, result.attempts);
      if (result.kind === 'deadline_exceeded') result.message += timedOutAttempts(record);
    }
    return result;
  };
  let running: Promise<T>;
  try {
    running = run();
  } catch (error) {
    return Promise.reject(typed(error));
  }
  return raceAbort(running, deadline.signal, abortError, typed);
}

/**
 * Settles with `promise`, or rejects with `onAbort()` as soon as `signal` aborts, whichever
 * comes first. The promise itself goes on; its outcome is ignored. `mapError`, when given,
 * turns either rejection into the one the caller gets (in the same step: no promise of its own).
 */
export function raceAbort<T>(
  promise: Promise<T>,
  signal: AbortSignal,
  onAbort: () => Error,
  mapError: (error: unknown) => unknown = (error) => error,
): Promise<T> {
  if (signal.aborted) {
    promise.catch(() => undefined);
    return Promise.reject(mapError(onAbort()));
  }
  return new Promise<T>((resolve, reject) => {
    const abort = (): void => reject(mapError(onAbort()));
    watchAbort(signal, abort);
    promise.then(
      (value) => {
        unwatchAbort(signal, abort);
        resolve(value);
      },
      (error: unknown) => {
        unwatchAbort(signal, abort);
        reject(mapError(error));
      },
    );
  });
}

/**
 * What a deadline's message adds when attempts timed out before it: the upstream took the
 * requests and did not answer (a hang, a stream that sent no content), which "slow but healthy"
 * does not describe.
 */
function timedOutAttempts(record: LlmCall<unknown>['record']): string {
  let timedOut = 0;
  for (const attempt of record.attempts) if (attempt.errorKind === 'timeout') timedOut++;
  if (timedOut === 0) return '';
  return (
    ` ${timedOut === record.attempts.length ? 'Every attempt' : `${timedOut} of its attempts`} ` +
    'timed out before it: the upstream took the requests and did not answer in time.'
  );
}
