import { LinkedAbortController, unwatchAbort, watchAbort } from './abort-link';
import { LlmError } from './llm.errors';
import { keepTimerList } from './timer-lists';

/**
 * The total deadline of one logical call: every queue wait, attempt and backoff sleep counts
 * against it. Its `signal` aborts when the deadline passes or when the caller's own signal aborts,
 * and `abortError()` says which of the two it was.
 */
export class CallDeadline {
  readonly startedAt = Date.now();
  readonly expiresAt: number;
  // Linked, not listened to: the layers that follow the deadline (the caller's release, the
  // attempt's request) cost a list entry each, not an EventTarget listener (see abort-link.ts).
  private readonly controller = new LinkedAbortController();
  /** Aborts when the deadline passes or the caller aborts. */
  readonly signal: AbortSignal = this.controller.signal;
  private timer?: NodeJS.Timeout;
  private readonly onCallerAbort = (): void => this.controller.abort('cancelled');
  // The first in a field: the one a call usually has (its tracker) costs no list.
  private disposer?: (deadline: CallDeadline) => void;
  private moreDisposers?: ((deadline: CallDeadline) => void)[];
  private disposed = false;
  /** Run once in the tick that sets the timer (see {@link inArmingTick}). */
  private armingFn?: (arg: never) => void = undefined;
  private armingArg: unknown = undefined;

  constructor(
    readonly totalMs: number,
    private readonly callerSignal?: AbortSignal,
  ) {
    this.expiresAt = this.startedAt + totalMs;
    // The list of calls' deadlines stays between calls (see timer-lists.ts).
    keepTimerList(totalMs);
    // The timer is set two ticks later, still in this turn of the event loop (no timer or I/O
    // callback runs in between; the timer counts from then): the call's first attempt is then
    // usually on the wire already (its request's write is a tick queued in between).
    process.nextTick(armSoon, this);
    if (callerSignal?.aborted) this.controller.abort('cancelled');
    else if (callerSignal) watchAbort(callerSignal, this.onCallerAbort);
  }

  /**
   * Runs `fn(arg)` once, in the tick that sets the timer (see the constructor): after what the
   * call queued meanwhile, usually its first request's write, in the same turn; whether or not
   * the call is over by then. One per deadline (a later one replaces it).
   */
  inArmingTick<A>(fn: (arg: A) => void, arg: A): void {
    this.armingFn = fn;
    this.armingArg = arg;
  }

  /** Sets the deadline's timer (once), unless the call is over already; see the constructor. */
  armTimer(): void {
    if (this.disposed || this.timer) return;
    this.timer = setTimeout(() => this.controller.abort('deadline'), this.totalMs);
  }

  /** What {@link inArmingTick} asked for, once (the constructor's second tick). */
  armingTick(): void {
    const fn = this.armingFn;
    if (fn === undefined) return;
    const arg = this.armingArg;
    this.armingFn = this.armingArg = undefined;
    (fn as (arg: unknown) => void)(arg);
  }

  /** Milliseconds left, never negative. */
  remainingMs(now = Date.now()): number {
    return Math.max(0, this.expiresAt - now);
  }

  /** Whether the caller (not the deadline) ended the call. */
  get cancelledByCaller(): boolean {
    return this.controller.signal.reason === 'cancelled';
  }

  /** Ends the call as its caller's abort would (`LlmChatStream.cancel()`): `cancelled`. */
  cancel(): void {
    this.controller.abort('cancelled');
  }

  /** Ends the call because the process shuts down (see `LlmDrain`): never retried. */
  shutDown(): void {
    this.controller.abort('shutting_down');
  }

  /**
   * Runs `fn` once, with this deadline, when the call is over ({@link dispose}); given the
   * deadline, a tracker (`LlmDrain`) needs no closure per call.
   */
  onDispose(fn: (deadline: CallDeadline) => void): void {
    if (this.disposed) fn(this);
    else if (!this.disposer) this.disposer = fn;
    else (this.moreDisposers ??= []).push(fn);
  }

  /** The error that describes why `signal` aborted. */
  abortError(context: {
    upstream: string;
    model: string;
    attempts: number;
    cause?: unknown;
  }): LlmError {
    if (this.controller.signal.reason === 'shutting_down') {
      return new LlmError(
        'shutting_down',
        `The call to upstream '${context.upstream}' model '${context.model}' was ended because ` +
          'this process is shutting down and the drain timeout passed. Send it again to another replica.',
        { ...context, retryable: false },
      );
    }
    if (this.cancelledByCaller) {
      return new LlmError(
        'cancelled',
        `The caller aborted the call to upstream '${context.upstream}'.`,
        {
          ...context,
          retryable: false,
        },
      );
    }
    return new LlmError(
      'deadline_exceeded',
      `Call to upstream '${context.upstream}' model '${context.model}' did not finish within its ` +
        `${this.totalMs} ms deadline (${context.attempts} attempt(s)). Raise timeouts.deadlineMs or ` +
        `the call's deadlineMs if the provider is slow but healthy.`,
      { ...context, retryable: false },
    );
  }

  /** Stops the timer and unlinks the caller's signal; call when the call is over. */
  dispose(): void {
    clearTimeout(this.timer);
    if (this.callerSignal) unwatchAbort(this.callerSignal, this.onCallerAbort);
    if (this.disposed) return;
    this.disposed = true;
    const { disposer, moreDisposers } = this;
    this.disposer = this.moreDisposers = undefined;
    disposer?.(this);
    if (moreDisposers) for (const fn of moreDisposers) fn(this);
  }
}

/** The constructor's first tick: queues the second, behind what the call queued meanwhile. */
function armSoon(deadline: CallDeadline): void {
  process.nextTick(arm, deadline);
}

function arm(deadline: CallDeadline): void {
  deadline.armTimer();
  deadline.armingTick();
}
