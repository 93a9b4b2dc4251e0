import type { INestApplicationContext } from '@nestjs/common';
import type { CallRecord } from '../../src/llm/call/call-record';
import type { AttemptRecord, FallbackHop, RetryRecord } from '../../src/llm/call/call-record.types';
import type {
  LlmCallObserver,
  LlmRequestEnding,
} from '../../src/llm/observability/llm-call-observer';
import { LlmTelemetry } from '../../src/llm/observability/llm-telemetry';

/**
 * The one call recorder of the tests: an observer that keeps every ended call and writes each hook
 * down in order. Tests assert on what was done (attempts, retries and their sources, the waits the
 * call recorded), not on how long it took by the wall clock.
 */
export class CallRecorder implements LlmCallObserver {
  /** Calls that ended, in the order they ended. */
  readonly calls: CallRecord[] = [];
  /** Intercepted requests that made LLM calls, as they ended. */
  readonly requests: LlmRequestEnding[] = [];
  /** Moves along fallback chains, in order. */
  readonly hops: FallbackHop[] = [];
  /** One line per hook, e.g. `attempt 2 after retry-after`, `retry 1 rate_limited via retry-after`. */
  readonly log: string[] = [];

  onCallStart(call: CallRecord): void {
    this.log.push(`start ${call.stream ? 'stream' : 'chat'}`);
  }
  onAttemptStart(_call: CallRecord, attempt: AttemptRecord): void {
    this.log.push(`attempt ${attempt.number} after ${attempt.delaySource ?? 'nothing'}`);
  }
  onAttemptEnd(_call: CallRecord, attempt: AttemptRecord): void {
    this.log.push(
      `attempt ${attempt.number} ${attempt.errorKind ?? 'ok'} ${attempt.status ?? ''}`.trim(),
    );
  }
  onRetryScheduled(_call: CallRecord, retry: RetryRecord): void {
    this.log.push(`retry ${retry.number} ${retry.reason} via ${retry.source}`);
  }
  onFallback(_call: CallRecord, hop: FallbackHop): void {
    this.hops.push(hop);
  }
  onCallEnd(call: CallRecord): void {
    this.log.push(`end ${call.error?.kind ?? 'ok'}`);
    this.calls.push(call);
  }

  onRequestEnd(request: LlmRequestEnding): void {
    this.requests.push(request);
  }

  /** The last call that ended (fails the test when none did). */
  get last(): CallRecord {
    const call = this.calls.at(-1);
    if (!call) throw new Error('no call has ended yet');
    return call;
  }

  /** Forgets what was recorded (between tests; the observer stays registered). */
  clear(): void {
    this.calls.length = 0;
    this.hops.length = 0;
    this.requests.length = 0;
    this.log.length = 0;
  }
}

/** Registers a new `CallRecorder` with the app's `LlmTelemetry` and returns it. */
export function recordCalls(app: INestApplicationContext): CallRecorder {
  const recorder = new CallRecorder();
  app.get(LlmTelemetry).register(recorder);
  return recorder;
}
