import { AttemptRecord, CallRecord, RetryRecord } from '../client/call-record';

/**
 * A port for whatever watches calls: traces, metrics, business events. Every hook is optional
 * and synchronous (they run on the hot path of every call); none may throw into the call.
 *
 * @example
 * class CallCounter implements LlmCallObserver {
 *   count = 0;
 *   onCallEnd(call: CallRecord) { this.count++; }
 * }
 */
export interface LlmCallObserver {
  onCallStart?(call: CallRecord): void;
  onAttemptStart?(call: CallRecord, attempt: AttemptRecord): void;
  onAttemptEnd?(call: CallRecord, attempt: AttemptRecord): void;
  onRetryScheduled?(call: CallRecord, retry: RetryRecord): void;
  /** After the call ended (for a stream: its last chunk, or its failure). */
  onCallEnd?(call: CallRecord): void;
  /**
   * Runs one attempt inside the observer's own context, e.g. with the attempt span active so the
   * HTTP client span becomes its child. Must call `run` exactly once and return its result.
   */
  wrapAttempt?<T>(call: CallRecord, attempt: AttemptRecord, run: () => Promise<T>): Promise<T>;
}
