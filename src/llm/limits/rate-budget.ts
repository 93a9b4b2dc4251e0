import type { CallDeadline } from '../resilience/call-deadline';
import type { LlmError } from '../resilience/llm.errors';
import { AdaptiveRate } from './adaptive-rate';
import type {
  BudgetDimension,
  BudgetLimits,
  BudgetNeed,
  BudgetStore,
  BudgetTake,
  TakeResult,
} from './budget.store';
import {
  BudgetWaitQueue,
  type QueuedCall,
  type ServeOutcome,
  type WaiterContext,
} from './budget-wait.queue';
import type { ProviderBudgetView } from './rate-limit.headers';
import {
  type BudgetIdentity,
  queueFullError,
  type RateLimitRejection,
  shutdownError,
  waitPastDeadlineError,
} from './rate-limit.errors';

/** One budget's settings. */
export interface BudgetConfig extends BudgetIdentity {
  /** Store key: `upstream` for the shared budget, `upstream/model` for a model's own. */
  key: string;
  maxWaiting: number;
  /** The short interval admissions are paced over (0: off). */
  intervalMs: number;
  replicas: number;
  adaptive: boolean;
  /** Tokens reserved for a completion when the request sets no maximum. */
  completionTokens: number;
  /** Whether a call's unused estimate goes back once its usage is known (not on Azure). */
  refundUnusedTokens: boolean;
}

/** Told about every rejection (metrics). */
export type RejectionListener = (budget: RateBudget, reason: RateLimitRejection) => void;

type Short = Exclude<TakeResult, { admitted: true }>;

/**
 * One requests/tokens budget: its limits in force (adaptive rate applied), its store and the calls
 * waiting for it. A call that finds others waiting queues behind them even if room just freed.
 * Every wait is bounded by the caller's deadline: a wait that would pass it is rejected at once.
 */
export class RateBudget {
  readonly rate: AdaptiveRate;
  private readonly queue: BudgetWaitQueue;
  /** The needs of calls refused and now asking the store how long they would wait, in order. */
  private readonly joining: BudgetNeed[] = [];
  /**
   * How long a successful attempt of this budget's calls takes, a moving average (0 until one
   * is seen). A wait must leave the call that long: sent with less, it spends the provider's
   * quota and then times out.
   */
  private attemptMs = 0;

  /**
   * @param replicasNow the replicas sharing the quota now (learned through Redis), else
   * `undefined` for the configured `limits.replicas`
   */
  constructor(
    readonly config: BudgetConfig,
    private readonly store: BudgetStore,
    private readonly onRejected: RejectionListener,
    private readonly replicasNow: () => number | undefined = () => undefined,
  ) {
    this.rate = new AdaptiveRate(config.windowMs, config.adaptive);
    this.queue = new BudgetWaitQueue(
      (call) => this.serve(call),
      (call) => this.store.adjust(config.key, call.take.id, { requests: 0, tokens: 0 }),
    );
  }

  /** Calls waiting now. */
  get waiting(): number {
    return this.queue.length;
  }

  /** The limits in force: the configured ones scaled by the adaptive rate. */
  limits(): BudgetLimits {
    return { rpm: this.rate.apply(this.config.rpm), tpm: this.rate.apply(this.config.tpm) };
  }

  /** Resolves once `need` is reserved under `id`; rejects at once when waiting cannot work. */
  async acquire(
    id: string,
    need: BudgetNeed,
    deadline: CallDeadline,
    context: WaiterContext,
  ): Promise<void> {
    const { key, windowMs, intervalMs } = this.config;
    const replicas = this.replicas();
    const take: BudgetTake = { id, need, limits: this.limits(), windowMs, intervalMs, replicas };
    let total = need;
    let result: TakeResult | undefined;
    if (!this.behindOthers()) {
      result = await this.store.take(key, take);
      if (result.admitted) return;
    }
    if (!result || this.behindOthers()) {
      // Behind others, the wait is until room frees for everyone ahead too: the calls queued,
      // and those refused just before this one that are still on their way to the queue.
      total = this.joining.reduce(add, this.queue.totalAhead(need, deadline.startedAt));
      this.joining.push(need);
      try {
        result = await this.store.peek(key, { ...take, need: total });
      } finally {
        this.joining.splice(this.joining.indexOf(need), 1);
      }
    }
    let waitMs = result.admitted ? 0 : this.waitOf(result, total);
    if (!result.admitted && result.waitMs === undefined) {
      waitMs = (await this.waitPastWindows(take, total)) ?? waitMs;
    }
    if (this.queue.length >= this.config.maxWaiting) {
      this.onRejected(this, 'queue_full');
      throw queueFullError(this.config, context.model, { waiting: this.queue.length, waitMs });
    }
    if (!result.admitted && waitMs + this.attemptTime(deadline) > deadline.remainingMs()) {
      throw this.pastDeadline(result.dimension, waitMs, deadline, context);
    }
    return this.queue.wait({ take, deadline, context });
  }

  /** Whether a newcomer waits behind others: calls queued, or refused and about to queue. */
  private behindOthers(): boolean {
    return this.queue.busy || this.joining.length > 0;
  }

  /** Tells how long a successful attempt took (see {@link attemptMs}). */
  attemptSucceeded(durationMs: number): void {
    if (!(durationMs >= 0) || !Number.isFinite(durationMs)) return;
    this.attemptMs = this.attemptMs === 0 ? durationMs : 0.8 * this.attemptMs + 0.2 * durationMs;
  }

  /** What a waiting call must keep for its attempt: {@link attemptMs}, at most half its deadline. */
  private attemptTime(deadline: CallDeadline): number {
    return Math.min(this.attemptMs, deadline.totalMs / 2);
  }

  /** Replaces what a reservation counts, e.g. with the real token usage. */
  async adjust(id: string, need: BudgetNeed, freed: boolean): Promise<void> {
    await this.store.adjust(this.config.key, id, need);
    if (freed) this.queue.wake();
  }

  /** Applies the provider's view of one dimension, if this budget limits it. */
  async correct(view: ProviderBudgetView): Promise<void> {
    const limit = this.limits()[view.dimension === 'requests' ? 'rpm' : 'tpm'];
    if (limit === undefined) return;
    const { windowMs } = this.config;
    const replicas = this.replicas();
    // A reset beyond the window is a longer-term quota: the window cannot hold it, the next
    // response repeats it.
    const resetMs = Math.min(view.resetMs, windowMs);
    await this.store.correct(this.config.key, { ...view, resetMs, limit }, windowMs, replicas);
  }

  /** Replicas sharing the quota: the live count Redis last told, else `limits.replicas`. */
  replicas(): number {
    return this.replicasNow() ?? this.config.replicas;
  }

  /** Serves the queue again when the rate went up: room may have appeared. */
  rateChanged(): void {
    this.queue.wake();
  }

  /** Rejects every waiting call (module shutdown). */
  close(): void {
    this.queue.close(({ context }) => shutdownError(context, 'for budget'));
  }

  /** The head of the queue: admitted, back in a while, or rejected past its deadline. */
  private async serve(call: QueuedCall): Promise<ServeOutcome> {
    const attemptMs = this.attemptTime(call.deadline);
    if (call.deadline.remainingMs() < attemptMs) {
      // Its wait ran later than foreseen: too little is left for an attempt to finish.
      const dimension = this.config.rpm !== undefined ? 'requests' : 'tokens';
      return {
        admitted: false,
        error: this.pastDeadline(dimension, 0, call.deadline, call.context),
      };
    }
    call.take.limits = this.limits();
    const result = await this.store.take(this.config.key, call.take);
    if (result.admitted) return result;
    const waitMs = this.waitOf(result, call.take.need);
    if (waitMs + attemptMs <= call.deadline.remainingMs()) {
      return { admitted: false, retryInMs: waitMs };
    }
    return {
      admitted: false,
      error: this.pastDeadline(result.dimension, waitMs, call.deadline, call.context),
    };
  }

  private pastDeadline(
    dimension: BudgetDimension,
    waitMs: number,
    deadline: CallDeadline,
    context: WaiterContext,
  ): LlmError {
    this.onRejected(this, 'deadline');
    return waitPastDeadlineError(this.config, context.model, {
      waitMs,
      remainingMs: deadline.remainingMs(),
      attemptMs: this.attemptTime(deadline),
      dimension,
    });
  }

  /**
   * The wait for a need beyond one window's room (the calls ahead and this one): the last
   * `limit` of it go a window after the same number went in the window before, so it is the wait
   * for what is left past whole windows, plus those windows. Counting from the drain of the whole
   * log instead told every call of a burst past the first window the same wait, a window too
   * long: at 30 RPM with 120 s deadlines, 69 of 100 calls were refused at once, told to come back
   * in 121 s, though 29 of them would have gone within their deadline.
   */
  private async waitPastWindows(take: BudgetTake, total: BudgetNeed): Promise<number | undefined> {
    const { rpm, tpm } = take.limits;
    const windows =
      Math.ceil(Math.max(rpm ? total.requests / rpm : 0, tpm ? total.tokens / tpm : 0)) - 1;
    if (windows < 1) return undefined;
    const rest: BudgetNeed = {
      requests: Math.max(take.need.requests, total.requests - windows * (rpm ?? 0)),
      tokens: Math.max(take.need.tokens, total.tokens - windows * (tpm ?? 0)),
    };
    const result = await this.store.peek(this.config.key, { ...take, need: rest });
    if (result.admitted) return windows * this.config.windowMs;
    if (result.waitMs === undefined) return undefined;
    return Math.max(1, result.waitMs) + windows * this.config.windowMs;
  }

  /** The store's wait, or for a need beyond one window's room, whole windows after the drain. */
  private waitOf(result: Short, need: BudgetNeed): number {
    if (result.waitMs !== undefined) return Math.max(1, result.waitMs);
    const { rpm, tpm } = this.limits();
    const windows = Math.max(rpm ? need.requests / rpm : 0, tpm ? need.tokens / tpm : 0);
    return result.drainMs + Math.max(0, Math.ceil(windows) - 1) * this.config.windowMs;
  }
}

function add(sum: BudgetNeed, need: BudgetNeed): BudgetNeed {
  return { requests: sum.requests + need.requests, tokens: sum.tokens + need.tokens };
}
