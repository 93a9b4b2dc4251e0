import type { CallDeadline } from '../resilience/call-deadline';
import type { LlmError } from '../resilience/llm.errors';
import type { BudgetNeed, BudgetTake } from './budget.store';

/** Who asked, for errors. */
export interface WaiterContext {
  upstream: string;
  model: string;
  attempts: number;
}

/** A call waiting for budget. */
export interface QueuedCall {
  take: BudgetTake;
  deadline: CallDeadline;
  context: WaiterContext;
}

/** What serving the head of the queue came to. */
export type ServeOutcome =
  | { admitted: true }
  | { admitted: false; retryInMs: number }
  | { admitted: false; error: LlmError };

interface Waiter extends QueuedCall {
  resolve: () => void;
  reject: (error: LlmError) => void;
  onAbort: () => void;
  done: boolean;
}

/**
 * The calls waiting for one budget, first come first served by the time each call started (its
 * deadline's start): only the head is served, and it is served again when `serve` says room
 * frees (or on `wake`). A caller's abort or deadline takes its
 * call out of the queue at once.
 */
export class BudgetWaitQueue {
  private readonly waiters: Waiter[] = [];
  private pumping = false;
  private wakeUp?: () => void;

  /**
   * @param serve tries to reserve the head's need
   * @param release gives back a reservation made for a call that was aborted meanwhile
   */
  constructor(
    private readonly serve: (call: QueuedCall) => Promise<ServeOutcome>,
    private readonly release: (call: QueuedCall) => Promise<void>,
  ) {}

  /** Calls waiting now. */
  get length(): number {
    return this.waiters.length;
  }

  /** Whether a newcomer must queue behind others (or behind the head being served). */
  get busy(): boolean {
    return this.waiters.length > 0 || this.pumping;
  }

  /** The needs of the waiting calls that would be served before one that started at `startedAt`, plus `need`. */
  totalAhead(need: BudgetNeed, startedAt: number): BudgetNeed {
    return this.waiters
      .filter((w) => w.deadline.startedAt <= startedAt)
      .reduce(
        (sum, w) => ({
          requests: sum.requests + w.take.need.requests,
          tokens: sum.tokens + w.take.need.tokens,
        }),
        need,
      );
  }

  /** Resolves when the call got its budget; rejects when it cannot, or on abort. */
  wait(call: QueuedCall): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = { ...call, resolve, reject, done: false, onAbort: () => undefined };
      waiter.onAbort = () => {
        this.finish(waiter);
        reject(call.deadline.abortError(call.context));
        this.wake();
      };
      call.deadline.signal.addEventListener('abort', waiter.onAbort, { once: true });
      // In order of the calls' arrival, not of their attempts: a retry, or a call back from
      // waiting for an open circuit, goes ahead of the calls that came after it.
      let at = this.waiters.length;
      while (at > 0 && this.waiters[at - 1]!.deadline.startedAt > call.deadline.startedAt) at--;
      this.waiters.splice(at, 0, waiter);
      void this.pump();
    });
  }

  /** Serves the head again now: room may have freed. */
  wake(): void {
    this.wakeUp?.();
  }

  /** Rejects every waiting call (module shutdown). */
  close(errorFor: (call: QueuedCall) => LlmError): void {
    for (const waiter of [...this.waiters]) {
      this.finish(waiter);
      waiter.reject(errorFor(waiter));
    }
    this.wake();
  }

  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (this.waiters.length > 0) {
        const head = this.waiters[0]!;
        let outcome: ServeOutcome;
        try {
          outcome = await this.serve(head);
        } catch {
          // The stores fall back rather than fail; should one fail anyway, never strand a call.
          outcome = { admitted: true };
        }
        if (head.done) {
          // Aborted meanwhile: give back what may just have been reserved for it.
          if (outcome.admitted) await this.release(head).catch(() => undefined);
        } else if (outcome.admitted) {
          this.finish(head);
          head.resolve();
        } else if ('error' in outcome) {
          this.finish(head);
          head.reject(outcome.error);
        } else {
          await this.sleep(outcome.retryInMs);
        }
      }
    } finally {
      this.pumping = false;
    }
  }

  private finish(waiter: Waiter): void {
    waiter.done = true;
    waiter.deadline.signal.removeEventListener('abort', waiter.onAbort);
    const index = this.waiters.indexOf(waiter);
    if (index >= 0) this.waiters.splice(index, 1);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => this.wake(), ms);
      this.wakeUp = () => {
        clearTimeout(timer);
        this.wakeUp = undefined;
        resolve();
      };
    });
  }
}
