import { Injectable, Logger } from '@nestjs/common';
import { CallRecord } from '../call/call-record';
import { AttemptRecord, FallbackHop, RetryRecord } from '../call/call-record.types';
import type { CallDeadline } from '../resilience/call-deadline';
import { LlmCallObserver, LlmRequestEnding } from './llm-call-observer';

type Hook = 'onCallStart' | 'onAttemptStart' | 'onAttemptEnd' | 'onCallEnd';

/**
 * The start reports a call holds back until its request is handed to Node (see
 * {@link LlmTelemetry.callStarted}): kept on the record under a symbol of this module's.
 */
class HeldStarts {
  /** The call's own start, not reported yet. */
  call = true;
  /** An attempt whose start is not reported yet (at most one: the next starts after its end). */
  attempt: AttemptRecord | undefined = undefined;
  /**
   * A report of them is queued: the call's first, in its deadline's arming tick (see
   * {@link LlmTelemetry.callStarted}), then after a later attempt's send (a `process.nextTick`).
   */
  queued = true;

  constructor(
    readonly telemetry: LlmTelemetry,
    readonly record: CallRecord,
  ) {}

  get pending(): boolean {
    return this.call || this.attempt !== undefined;
  }
}

const HELD = Symbol('llm.heldStarts');
type Holding = CallRecord & { [HELD]?: HeldStarts };

/** A report queued by {@link LlmTelemetry.callStarted} or {@link LlmTelemetry.attemptSent}. */
function reportQueued(held: HeldStarts): void {
  held.queued = false;
  held.telemetry.reportHeld(held);
}

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

  /**
   * The call started. With `deadline` (no tracer provider registered: no span takes its start
   * time from it), its start and its first attempt's are reported in the deadline's arming tick,
   * queued when the call was opened and running after what the call queued meanwhile (usually its
   * first request's write, in the same turn); a later attempt's once its request is handed to Node
   * ({@link attemptSent}); and whatever is held, right before anything else is reported for the
   * call (an end, a retry, a fallback), when that comes first. Every observer then sees the same
   * hooks, in the same order, with the same records: only when the two start hooks run moves.
   */
  callStarted(call: CallRecord, deadline?: CallDeadline): void {
    if (deadline === undefined) return this.notify('onCallStart', call);
    const held = new HeldStarts(this, call);
    (call as Holding)[HELD] = held;
    deadline.inArmingTick(reportQueued, held);
  }

  /** The attempt started: reported now, or held with the call's (see {@link callStarted}). */
  attemptStarted(call: CallRecord, attempt: AttemptRecord): void {
    const held = (call as Holding)[HELD];
    if (held === undefined) return this.notify('onAttemptStart', call, attempt);
    // Never the case (an attempt starts after the previous one's end was reported); kept in order.
    if (held.attempt !== undefined) this.reportHeld(held);
    held.attempt = attempt;
  }

  /**
   * The attempt's request is handed to Node (whose write is a tick queued already): the starts
   * the call holds are reported on a tick queued now, after that write, before any timer or I/O
   * callback can run, unless a report is queued already (the call's first: see
   * {@link callStarted}).
   */
  attemptSent(call: CallRecord): void {
    const held = (call as Holding)[HELD];
    if (held === undefined || held.queued || held.attempt === undefined) return;
    held.queued = true;
    process.nextTick(reportQueued, held);
  }

  /** Reports the starts `held` still holds, the call's first. */
  reportHeld(held: HeldStarts): void {
    const { record } = held;
    if (held.call) {
      held.call = false;
      this.notify('onCallStart', record);
    }
    const { attempt } = held;
    if (attempt !== undefined) {
      held.attempt = undefined;
      this.notify('onAttemptStart', record, attempt);
    }
  }

  attemptEnded(call: CallRecord, attempt: AttemptRecord): void {
    this.startsFirst(call);
    this.notify('onAttemptEnd', call, attempt);
  }

  retryScheduled(call: CallRecord, retry: RetryRecord): void {
    this.startsFirst(call);
    for (const observer of this.observers) {
      this.guard(() => observer.onRetryScheduled?.(call, retry));
    }
  }

  fallback(call: CallRecord, hop: FallbackHop): void {
    this.startsFirst(call);
    for (const observer of this.observers) {
      this.guard(() => observer.onFallback?.(call, hop));
    }
  }

  callEnded(call: CallRecord): void {
    this.startsFirst(call);
    this.notify('onCallEnd', call);
  }

  requestEnded(request: LlmRequestEnding): void {
    // A call of the request still holding its starts (it began in this very turn) reports them.
    for (const call of request.context.calls) this.startsFirst(call);
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

  /** Before anything else is reported for a call: the starts it still holds. */
  private startsFirst(call: CallRecord): void {
    const held = (call as Holding)[HELD];
    if (held !== undefined && held.pending) this.reportHeld(held);
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
