import { DelaySource, LlmError, LlmErrorKind } from '../resilience/llm.errors';
import { RetryDelay } from '../resilience/retry.policy';

/** One attempt that reached the upstream (passed the breaker). */
export interface AttemptRecord {
  /** 1 for the first attempt. */
  number: number;
  startedAt: number;
  endedAt?: number;
  /** The wait before this attempt and where it came from (none before the first). */
  delayBeforeMs: number;
  delaySource?: DelaySource;
  /** Set when the attempt failed. */
  errorKind?: LlmErrorKind;
  status?: number;
  upstreamRequestId?: string;
}

/** What happened during one logical call: read by metadata now, by traces and events later. */
export class CallRecord {
  readonly startedAt = Date.now();
  readonly attempts: AttemptRecord[] = [];
  private pendingDelay?: RetryDelay;

  constructor(
    readonly upstream: string,
    readonly model: string,
    readonly clientRequestId: string,
  ) {}

  /** Attempts that reached the upstream. */
  get attemptCount(): number {
    return this.attempts.length;
  }

  /** Called by the retry backoff before it sleeps. */
  noteDelay(delay: RetryDelay): void {
    this.pendingDelay = delay;
  }

  startAttempt(): AttemptRecord {
    const attempt: AttemptRecord = {
      number: this.attempts.length + 1,
      startedAt: Date.now(),
      delayBeforeMs: this.pendingDelay?.delayMs ?? 0,
      delaySource: this.pendingDelay?.source,
    };
    this.pendingDelay = undefined;
    this.attempts.push(attempt);
    return attempt;
  }

  /** Closes an attempt; the attempt function may already have set its status and request id. */
  endAttempt(attempt: AttemptRecord, error?: LlmError): void {
    attempt.endedAt = Date.now();
    attempt.errorKind = error?.kind;
    attempt.status = error?.status ?? attempt.status;
    attempt.upstreamRequestId = error?.requestId ?? attempt.upstreamRequestId;
  }

  /** Total time spent waiting between attempts. */
  get totalDelayMs(): number {
    return this.attempts.reduce((sum, a) => sum + a.delayBeforeMs, 0);
  }
}
