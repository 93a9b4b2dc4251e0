import type { CallRecord } from '../call/call-record';
import type { AttemptRecord } from '../call/call-record.types';
import type { CallDeadline } from '../resilience/call-deadline';
import type { LlmError } from '../resilience/llm.errors';
import { hintSpreadMs } from '../resilience/retry.policy';
import type { LimiterMetrics } from './limiter.metrics';
import type { WaiterContext } from './budget-wait.queue';
import { heldPastDeadlineError, shutdownError } from './rate-limit.errors';

/**
 * Upstream-and-model pairs held at once. Models can come from callers (a gateway client's
 * `model`); past the bound the hold that ends first gives way.
 */
export const MAX_HOLDS = 1000;

interface Hold {
  /** When the provider said requests may come again (epoch ms). */
  until: number;
  /** The wait it asked for, which the release spreads after (a tenth of it, 1 s at most). */
  hintMs: number;
  /**
   * With the provider's requests per minute (`x-ratelimit-limit-requests` on the 429): the held
   * calls are released one per `60 000 / limit` ms, not all within the spread.
   */
  emissionMs?: number;
  /** When the next held call may go, released one emission after another (epoch ms). */
  nextSlot: number;
}

/** The slowest release pacing taken from a provider's limit: a call per 10 s (6 per minute). */
const MAX_EMISSION_MS = 10_000;

interface Waiter {
  deadline: CallDeadline;
  context: WaiterContext;
  timer: NodeJS.Timeout;
  reject: (error: LlmError) => void;
  onAbort: () => void;
}

/**
 * The waits a provider asked for, kept for the calls of an upstream without a rate-limit budget.
 * A 429 with a wait (`retry-after-ms`, `Retry-After`, or the exhausted budget's
 * `x-ratelimit-reset-*`) holds its upstream and model until then: an attempt of any call to
 * them waits for the end of the hold, plus a spread of up to a tenth of the wait (1 s at most, as
 * a retry after a hint spreads), instead of being sent into a provider that said it would refuse
 * it. A call whose deadline ends first, with an attempt's usual time kept, is rejected at once
 * with `rate_limited` and the wait in `retryAfterMs`. A hold lasts at most the upstream's
 * `retry.maxServerHintMs` (a longer `Retry-After` holds nothing); each later 429 may extend it. Per process; budgets (`limits`) hold
 * through their own store instead, shared through Redis.
 *
 * @example
 * holds.attempted(call, attempt); // after each attempt: a 429 with a wait starts a hold
 * const waitedMs = holds.isHeld(call) ? await holds.wait(call, deadline) : 0;
 */
export class UpstreamHolds {
  private readonly holds = new Map<string, Hold>();
  /** Per upstream: a moving average of how long its successful plain attempts take. */
  private readonly attemptMs = new Map<string, number>();
  private readonly waiters = new Set<Waiter>();

  constructor(
    private readonly metrics: LimiterMetrics,
    private readonly random: () => number = Math.random,
  ) {}

  /** Whether an attempt of `call` must wait for a hold now. */
  isHeld(call: CallRecord, now = Date.now()): boolean {
    if (this.holds.size === 0) return false;
    const key = keyOf(call);
    const hold = this.holds.get(key);
    if (hold === undefined) return false;
    // Held until the wait is over and, when paced, until the last held call's turn.
    if (endOf(hold) > now) return true;
    this.holds.delete(key);
    return false;
  }

  /** Learns from one attempt: a 429 with a wait holds its upstream and model. */
  attempted(call: CallRecord, attempt: AttemptRecord): void {
    const { error } = attempt;
    if (error === undefined) {
      if (!call.stream && attempt.endedAt !== undefined) {
        this.attemptSucceeded(call.upstream.name, attempt.endedAt - attempt.startedAt);
      }
      return;
    }
    if (attempt.status !== 429 || error.kind !== 'rate_limited') return;
    const hintMs = error.retryAfterMs;
    // No wait said, or 0 (no hint, as the retry reads it): nothing to hold for.
    if (hintMs === undefined || !(hintMs > 0) || !Number.isFinite(hintMs)) return;
    const capMs = call.upstream.retry.maxServerHintMs;
    // As the retry reads them: a budget's reset past the cap is cut to it (the whole budget's
    // return, when one request may go sooner); a Retry-After past it is waited by no call, and
    // holds none: each call meets the provider's answer and ends at once with its wait, as the
    // refused one did. Held, one wrong Retry-After of a day would stop every call for a day.
    const resetHint = error.retryAfterSource?.startsWith('x-ratelimit-reset') === true;
    if (!resetHint && hintMs > capMs) return;
    const heldMs = Math.min(hintMs, capMs);
    const until = (attempt.endedAt ?? Date.now()) + heldMs;
    const emissionMs = emissionOf(attempt.responseHeaders);
    const key = keyOf(call);
    const hold = this.holds.get(key);
    if (hold !== undefined) {
      if (until > hold.until) {
        hold.until = until;
        hold.hintMs = heldMs;
      }
      hold.emissionMs = emissionMs ?? hold.emissionMs;
      return;
    }
    if (this.holds.size >= MAX_HOLDS) this.evict();
    this.holds.set(key, { until, hintMs: heldMs, emissionMs, nextSlot: until });
  }

  /**
   * Waits for the hold on `call`'s upstream and model to end (and its spread), again if a later
   * 429 extended it meanwhile. Rejects at once when the hold ends too late for the deadline, and
   * on the deadline or the caller's abort.
   * @returns how long the call waited, in ms
   */
  async wait(call: CallRecord, deadline: CallDeadline): Promise<number> {
    const startedAt = Date.now();
    const context = {
      upstream: call.upstream.name,
      model: call.model,
      attempts: call.attemptCount,
    };
    // The turn this call took, when paced: it goes then, unless a later 429 moved the hold.
    let turn: number | undefined;
    for (;;) {
      const now = Date.now();
      const hold = this.holds.get(keyOf(call));
      if (hold === undefined) break;
      if (turn !== undefined ? hold.until <= turn : endOf(hold) <= now) {
        break;
      }
      if (deadline.signal.aborted) throw deadline.abortError(context);
      const remainingMs = deadline.remainingMs(now);
      const reserveMs = Math.min(this.attemptMs.get(call.upstream.name) ?? 0, deadline.totalMs / 2);
      if (hold.emissionMs !== undefined) {
        // Paced: the next turn after the hold, one emission after the previous held call's.
        const slot = Math.max(hold.until, hold.nextSlot);
        const holdMs = slot - now;
        if (holdMs + reserveMs > remainingMs) {
          throw this.rejected(call, { holdMs, remainingMs, reserveMs });
        }
        hold.nextSlot = slot + hold.emissionMs;
        turn = slot;
        await this.sleep(deadline, context, Math.ceil(holdMs));
        continue;
      }
      const holdMs = hold.until - now;
      if (holdMs + reserveMs > remainingMs) {
        throw this.rejected(call, { holdMs, remainingMs, reserveMs });
      }
      // The spread never eats into what the attempt needs of the deadline.
      const spreadMs = Math.min(
        hintSpreadMs(hold.hintMs, this.random),
        remainingMs - holdMs - reserveMs,
      );
      await this.sleep(deadline, context, Math.ceil(holdMs + spreadMs));
    }
    const waitedMs = Date.now() - startedAt;
    if (waitedMs > 0) this.metrics.heldFor(call.upstream.name, call.model, waitedMs);
    return waitedMs;
  }

  private rejected(
    call: CallRecord,
    details: { holdMs: number; remainingMs: number; reserveMs: number },
  ): LlmError {
    this.metrics.heldRejected(call.upstream.name, call.model);
    return heldPastDeadlineError(call.upstream.name, call.model, {
      waitMs: details.holdMs,
      remainingMs: details.remainingMs,
      attemptMs: details.reserveMs,
    });
  }

  /** Sleeps `ms`, released early by the deadline or the caller's abort (rejecting). */
  private sleep(deadline: CallDeadline, context: WaiterContext, ms: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        deadline,
        context,
        reject,
        onAbort: () => {
          this.finish(waiter);
          reject(deadline.abortError(context));
        },
        timer: setTimeout(() => {
          this.finish(waiter);
          resolve();
        }, ms),
      };
      deadline.signal.addEventListener('abort', waiter.onAbort, { once: true });
      this.waiters.add(waiter);
    });
  }

  /** Rejects every waiting call (module shutdown). */
  close(): void {
    for (const waiter of [...this.waiters]) {
      this.finish(waiter);
      waiter.reject(shutdownError(waiter.context, 'to be sent'));
    }
    this.holds.clear();
  }

  private finish(waiter: Waiter): void {
    clearTimeout(waiter.timer);
    waiter.deadline.signal.removeEventListener('abort', waiter.onAbort);
    this.waiters.delete(waiter);
  }

  private attemptSucceeded(upstream: string, durationMs: number): void {
    if (!(durationMs >= 0)) return;
    const average = this.attemptMs.get(upstream);
    this.attemptMs.set(
      upstream,
      average === undefined ? durationMs : 0.8 * average + 0.2 * durationMs,
    );
  }

  /** Drops the holds that are over, or else the one that ends first. */
  private evict(): void {
    const now = Date.now();
    let first: [string, Hold] | undefined;
    for (const entry of this.holds) {
      if (endOf(entry[1]) <= now) this.holds.delete(entry[0]);
      else if (first === undefined || endOf(entry[1]) < endOf(first[1])) first = entry;
    }
    if (this.holds.size >= MAX_HOLDS && first !== undefined) this.holds.delete(first[0]);
  }
}

/** When a hold is over: its wait, and the last paced call's turn. */
function endOf(hold: Hold): number {
  return Math.max(hold.until, hold.nextSlot);
}

/**
 * How far apart to release held calls: a minute over the provider's requests per minute, as
 * its 429 states them (`x-ratelimit-limit-requests`, OpenAI's), at most {@link MAX_EMISSION_MS}.
 * Undefined without it (Azure OpenAI sends none): the calls go within the spread.
 */
function emissionOf(headers: Record<string, string> | undefined): number | undefined {
  const limit = headers?.['x-ratelimit-limit-requests'];
  if (limit === undefined || !/^[1-9][0-9]{0,8}$/.test(limit)) return undefined;
  return Math.min(60_000 / Number(limit), MAX_EMISSION_MS);
}

/** Upstream names are configured; a model name is anything a caller sent, hence the separator. */
function keyOf(call: CallRecord): string {
  return `${call.upstream.name}\u0000${call.model}`;
}
