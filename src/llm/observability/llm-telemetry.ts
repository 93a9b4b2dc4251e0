import { Injectable, Logger } from '@nestjs/common';
import { CallRecord } from '../call/call-record';
import { AttemptRecord, FallbackHop, RetryRecord } from '../call/call-record.types';
import { LlmCallObserver, LlmRequestEnding } from './llm-call-observer';

type Hook = 'onCallStart' | 'onAttemptStart' | 'onAttemptEnd' | 'onCallEnd';

/**
 * Fans each call's lifecycle out to the registered observers (tracing, metrics, events). An
 * observer that throws is logged and skipped: telemetry never fails a call.
 */
@Injectable()
export class LlmTelemetry {
  private readonly observers: LlmCallObserver[] = [];
  /** The observers with a `wrapAttempt`, in registration order. */
  private readonly wrappers: LlmCallObserver[] = [];
  private readonly logger = new Logger('LlmTelemetry');

  /** Adds an observer; observability services register themselves when they are created. */
  register(observer: LlmCallObserver): void {
    this.observers.push(observer);
    if (observer.wrapAttempt) this.wrappers.push(observer);
  }

  callStarted(call: CallRecord): void {
    this.notify('onCallStart', call);
  }

  attemptStarted(call: CallRecord, attempt: AttemptRecord): void {
    this.notify('onAttemptStart', call, attempt);
  }

  attemptEnded(call: CallRecord, attempt: AttemptRecord): void {
    this.notify('onAttemptEnd', call, attempt);
  }

  retryScheduled(call: CallRecord, retry: RetryRecord): void {
    for (const observer of this.observers) {
      this.guard(() => observer.onRetryScheduled?.(call, retry));
    }
  }

  fallback(call: CallRecord, hop: FallbackHop): void {
    for (const observer of this.observers) {
      this.guard(() => observer.onFallback?.(call, hop));
    }
  }

  callEnded(call: CallRecord): void {
    this.notify('onCallEnd', call);
  }

  requestEnded(request: LlmRequestEnding): void {
    for (const observer of this.observers) {
      this.guard(() => observer.onRequestEnd?.(request));
    }
  }

  /** Runs an attempt inside every observer's `wrapAttempt`, outermost first. */
  runAttempt<T>(call: CallRecord, attempt: AttemptRecord, run: () => Promise<T>): Promise<T> {
    const { wrappers } = this;
    // The common cases (no tracing, or tracing alone) without a closure per observer.
    if (wrappers.length === 0) return run();
    if (wrappers.length === 1) return wrappers[0]!.wrapAttempt!(call, attempt, run);
    return wrappers.reduceRight<() => Promise<T>>(
      (inner, observer) => () => observer.wrapAttempt!(call, attempt, inner),
      run,
    )();
  }

  // A loop with its own try, not guard(): no closure per observer on every hook of every call.
  private notify(hook: Hook, call: CallRecord, attempt?: AttemptRecord): void {
    for (const observer of this.observers) {
      if (!observer[hook]) continue;
      try {
        observer[hook](call, attempt!);
      } catch (error) {
        this.observerFailed(error);
      }
    }
  }

  private guard(fn: () => void): void {
    try {
      fn();
    } catch (error) {
      this.observerFailed(error);
    }
  }

  /** An observer's work failed (here or later, on its own turn): logged, and the call goes on. */
  observerFailed(error: unknown): void {
    this.logger.warn(`A call observer failed and was skipped: ${String(error)}`);
  }
}
