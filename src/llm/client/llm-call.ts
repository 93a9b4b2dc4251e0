import type { CallRecord } from '../call/call-record';
import type { AttemptRecord } from '../call/call-record.types';
import type { CallDeadline } from '../resilience/call-deadline';
import type { LlmError } from '../resilience/llm.errors';

/** A logical call once opened: what it records, and its one deadline. */
export interface OpenCall {
  record: CallRecord;
  deadline: CallDeadline;
  /**
   * The caller answers before the call's end is reported (`LlmClient.chatAnswering`): the end of
   * its successful attempt is then held in {@link heldAttempt} and reported by
   * `CallLifecycle.close`, right before the call's own end.
   */
  reportsAfterAnswer?: boolean;
  /** The successful attempt whose end `CallLifecycle.close` reports (see above). */
  heldAttempt?: AttemptRecord;
}

/** What one attempt function gets. */
export interface AttemptContext {
  attempt: AttemptRecord;
  record: CallRecord;
  deadline: CallDeadline;
  /** Headers every attempt of the call carries: the same client request id, its own number. */
  headers: Record<string, string>;
  /**
   * Set by a successful attempt function: what it leaves to record once its value is handed over
   * (after `LlmCall.succeeded`, so after a `chatAnswering` caller's answer), in the same turn,
   * before the attempt is settled with the rate limiter and its end reported. Must not throw.
   */
  afterAnswer?: () => void;
}

/**
 * How a call keeps its bulkhead slot after its result is handed over: a stream occupies its slot
 * (and its deadline) until its last chunk.
 */
export interface SlotHold<T> {
  /** Settles with how the held part ended, once it ended. */
  until(value: T): Promise<LlmError | undefined>;
  /** Called with how the held part ended. */
  ended(error: LlmError | undefined): void;
  /** Called once the call has left the bulkhead: its slot is free for the next call. */
  released(): void;
}

/** One logical call on its way down the call path (see `call-path.ts`). */
export interface LlmCall<T> extends OpenCall {
  /**
   * The attempt: its timeout and the transport (`chat-attempt.ts`, `stream-attempt.ts`). Throws
   * an {@link LlmError} when it fails.
   */
  attempt: (context: AttemptContext) => Promise<T>;
  hold?: SlotHold<T>;
  /**
   * Told a successful attempt's value where the attempt ended, before the layers above it unwind:
   * nothing above turns a success into a failure, so it is the call's result
   * (`LlmClient.chatAnswering` answers with it). Must not throw.
   */
  succeeded?: (value: T) => void;
}

/** Where a call is now, as errors say it. */
export function whereOf(record: CallRecord): { upstream: string; model: string; attempts: number } {
  return { upstream: record.upstream.name, model: record.model, attempts: record.attemptCount };
}
