import { LinkedAbortController, unwatchAbort, watchAbort } from '../resilience/abort-link';
import { type CallDeadline } from '../resilience/call-deadline';
import { isLlmError, LlmError } from '../resilience/llm.errors';
import { keepTimerList } from '../resilience/timer-lists';
import { classifyTransportError } from '../transport/transport-error';

/** Why an attempt's request was aborted. */
export type AttemptAbortReason =
  'attempt_timeout' | 'first_chunk_timeout' | 'idle_timeout' | 'call_over' | 'consumer_done';

const TIMEOUT_TEXT: Partial<Record<AttemptAbortReason, string>> = {
  attempt_timeout: 'sent no complete response within the attempt timeout',
  first_chunk_timeout: 'sent no content chunk within the first-chunk timeout',
  idle_timeout: 'went silent mid-stream for longer than the idle timeout',
};

/**
 * The attempt timeout layer: the abort switch of one attempt's HTTP request, linked to the call's
 * deadline signal, with one timer that can be re-armed (attempt timeout, then first-chunk, then
 * idle for a stream). It remembers why it fired, so a socket error can be told apart from our own
 * timeout. Armed by `chat-attempt.ts` (plain) and `stream-attempt.ts` (stream) around the
 * transport.
 */
export class AttemptTimeout {
  // Linked both ways (see abort-link.ts): to the call's signal, and from the transport's request.
  private readonly controller = new LinkedAbortController();
  private timer?: NodeJS.Timeout;
  private armedMs = 0;
  /** The duration of a timer {@link armAfterSend} has yet to set (0: none). */
  private pendingMs = 0;
  private disposed = false;
  /** What the armed timer aborts for. */
  private armedReason: AttemptAbortReason = 'attempt_timeout';
  reason?: AttemptAbortReason;
  private readonly onParentAbort = (): void => this.abort('call_over');
  /** The timer's callback: one per attempt, not one per arming. */
  private readonly fire = (): void => this.abort(this.armedReason);

  constructor(private readonly parent: AbortSignal) {
    if (parent.aborted) this.abort('call_over');
    else watchAbort(parent, this.onParentAbort);
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** (Re)starts the single timer: after `ms` the request is aborted for `reason`. */
  arm(reason: AttemptAbortReason, ms: number): void {
    clearTimeout(this.timer);
    this.pendingMs = 0;
    this.armedMs = ms;
    this.armedReason = reason;
    // The list of attempts' timers stays between attempts (see timer-lists.ts).
    keepTimerList(ms);
    this.timer = setTimeout(this.fire, ms);
  }

  /** Stops the armed timer (one set later by {@link armAfterSend} too); the reason stays. */
  disarm(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.pendingMs = 0;
  }

  /**
   * As {@link arm}, with the timer set on the next tick, still in this turn of the event loop
   * (no timer or I/O callback runs in between; the timer counts from then): called right after
   * the request was sent, the request's write (a tick Node's agent queued) goes first. `relabel`
   * and `abort` work meanwhile as on an armed timer; an abort or dispose first leaves no timer.
   */
  armAfterSend(reason: AttemptAbortReason, ms: number): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.armedMs = ms;
    this.armedReason = reason;
    this.pendingMs = ms;
    process.nextTick(setPendingTimer, this);
  }

  /** Sets the timer {@link armAfterSend} left for the next tick, if still wanted. */
  setPendingTimer(): void {
    const ms = this.pendingMs;
    if (ms === 0) return;
    this.pendingMs = 0;
    if (this.disposed || this.controller.signal.aborted) return;
    // The list of attempts' timers stays between attempts (see timer-lists.ts).
    keepTimerList(ms);
    this.timer = setTimeout(this.fire, ms);
  }

  /**
   * The armed timer, left as it is, now aborts for `reason`; `ms` is what the error then says.
   * For a new timeout that ends when the armed one does (a stream's first-chunk timeout once its
   * headers came, when it was armed from the start): no timer is set, so none of an odd duration
   * (what is left of the timeout) makes and drops a timer list of its own (see timer-lists.ts).
   */
  relabel(reason: AttemptAbortReason, ms: number): void {
    this.armedMs = ms;
    this.armedReason = reason;
  }

  abort(reason: AttemptAbortReason): void {
    if (this.controller.signal.aborted) return;
    this.reason = reason;
    clearTimeout(this.timer);
    this.controller.abort(reason);
  }

  dispose(): void {
    this.disposed = true;
    clearTimeout(this.timer);
    unwatchAbort(this.parent, this.onParentAbort);
  }

  /** The {@link LlmError} for a failure during this attempt. */
  toError(
    error: unknown,
    deadline: CallDeadline,
    context: { upstream: string; model: string; attempts: number },
  ): LlmError {
    if (isLlmError(error)) return error;
    if (this.reason === 'call_over') return deadline.abortError(context);
    const timeoutText = this.reason ? TIMEOUT_TEXT[this.reason] : undefined;
    if (timeoutText) {
      return new LlmError(
        'timeout',
        `Upstream '${context.upstream}' model '${context.model}' ${timeoutText} (${this.armedMs} ms).`,
        { upstream: context.upstream, model: context.model },
      );
    }
    return classifyTransportError(error, context);
  }
}

function setPendingTimer(timeout: AttemptTimeout): void {
  timeout.setPendingTimer();
}
