import type { CallRecord } from '../call/call-record';
import type { AttemptRecord } from '../call/call-record.types';
import type { CallDeadline } from '../resilience/call-deadline';
import type { LlmError } from '../resilience/llm.errors';
import { parseOpenAiDuration } from '../resilience/retry-after';
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
   * How far apart the held calls are released, in the order the calls started, when the
   * provider states its limits per minute (`x-ratelimit-limit-requests`, and `-tokens` with the
   * tokens an average call of the model takes). Without them, the calls go within the spread.
   */
  emissionMs?: number;
  /**
   * Whether a 429 holds it; false while only an answer saying no request remains does (the
   * rejection's message says which).
   */
  refused: boolean;
  /** When the last paced call was released (epoch ms). */
  releasedAt: number;
  /** Paced calls waiting for their turn, in the order the calls started. */
  queue: Waiter[];
  /** Releases the queue's head at its turn. */
  timer?: NodeJS.Timeout;
}

/** The slowest release pacing taken from a provider's limit: a call per 10 s (6 per minute). */
const MAX_EMISSION_MS = 10_000;

/** The share of a call's deadline kept for its attempt until its upstream's attempts were timed. */
const UNTIMED_ATTEMPT_SHARE = 0.1;

interface Waiter {
  upstream: string;
  model: string;
  deadline: CallDeadline;
  context: WaiterContext;
  /** What the call keeps of its deadline for the attempt. */
  reserveMs: number;
  resolve: () => void;
  reject: (error: LlmError) => void;
  onAbort: () => void;
  /** An unpaced call's own wake-up. */
  timer?: NodeJS.Timeout;
  /** The hold whose queue a paced call waits in. */
  queuedIn?: Hold;
}

/**
 * The waits a provider asked for, kept for the calls of an upstream without a rate-limit budget.
 * A 429 with a wait (`retry-after-ms`, `Retry-After`, or an `x-ratelimit-reset-*`, as the retry
 * reads them) holds its upstream and model until then: an attempt of any call to them waits for
 * the end of the hold, plus a spread of up to a tenth of the wait (1 s at most, as a retry after a
 * hint spreads), or, when the 429 states the provider's requests per minute, for its turn one
 * emission interval after the previous held call's; instead of being sent into a provider that
 * said it would refuse it. A call whose deadline ends first, with an attempt's usual time kept, is
 * rejected at once with `rate_limited` and the wait in `retryAfterMs`. A hold lasts at most the
 * upstream's `retry.maxServerHintMs` (a longer `Retry-After` holds nothing); a later 429 may
 * extend it. Per process; budgets (`limits`) hold through their own store instead, shared
 * through Redis.
 *
 * @example
 * holds.attempted(call, attempt); // after each attempt: a 429 with a wait starts a hold
 * const waitedMs = holds.isHeld(call) ? await holds.wait(call, deadline) : 0;
 */
export class UpstreamHolds {
  private readonly holds = new Map<string, Hold>();
  /** Per upstream: a moving average of how long its successful attempts take. */
  private readonly attemptMs = new Map<string, number>();
  /** Per upstream, per model: a moving average of the tokens its answers counted. */
  private readonly tokensPerCall = new Map<string, Map<string, number>>();
  private readonly waiters = new Set<Waiter>();

  constructor(private readonly metrics: LimiterMetrics) {}

  /** Whether an attempt of `call` must wait for a hold now. */
  isHeld(call: CallRecord): boolean {
    if (this.holds.size === 0) return false;
    const key = keyOf(call);
    const hold = this.holds.get(key);
    if (hold === undefined) return false;
    if (endOf(hold) > Date.now()) return true;
    this.holds.delete(key);
    return false;
  }

  /**
   * Learns from one attempt: a 429 with a wait holds its upstream and model, and so does an
   * answer that says no request remains (`x-ratelimit-remaining-requests: 0` with its reset).
   */
  attempted(call: CallRecord, attempt: AttemptRecord): void {
    const { error } = attempt;
    if (error === undefined) {
      if (attempt.endedAt !== undefined) {
        this.attemptSucceeded(call.upstream.name, attempt.endedAt - attempt.startedAt);
      }
      this.countTokens(call);
      const headers = attempt.responseHeaders;
      if (headers?.['x-ratelimit-remaining-requests'] === '0') this.exhausted(call, attempt);
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
    this.hold(call, attempt, Math.min(hintMs, capMs), true, this.statedEmission(call, attempt));
  }

  /**
   * An answer that says the provider's requests are used up (OpenAI sends the count on every
   * answer): the next request would meet a 429, so the model is held as a 429 would hold it,
   * until one request is back (a minute over the stated limit), or the whole budget's reset when
   * no limit is stated, then paced. Without the reset nothing is held: there is no telling when
   * the count is back (Azure OpenAI sends neither).
   */
  private exhausted(call: CallRecord, attempt: AttemptRecord): void {
    const reset = attempt.responseHeaders?.['x-ratelimit-reset-requests'];
    const resetMs = reset === undefined ? undefined : parseOpenAiDuration(reset);
    // A reset past the cap holds nothing, as a Retry-After past it does: one wrong header on an
    // answer must not stop the model. The next call meets the provider's own answer.
    if (resetMs === undefined || !(resetMs > 0) || resetMs > call.upstream.retry.maxServerHintMs) {
      return;
    }
    const stated = this.statedEmission(call, attempt);
    this.hold(call, attempt, Math.min(resetMs, stated ?? resetMs), false, stated);
  }

  /**
   * Holds `call`'s upstream and model for `heldMs` after `attempt` ended, or extends the hold;
   * `refused` when the attempt met a 429 (else its answer said no request remains); `stated` the
   * pace the provider's stated limits give ({@link statedEmission}).
   */
  private hold(
    call: CallRecord,
    attempt: AttemptRecord,
    heldMs: number,
    refused: boolean,
    stated: number | undefined,
  ): void {
    const endedAt = attempt.endedAt ?? Date.now();
    const until = endedAt + heldMs;
    const key = keyOf(call);
    const hold = this.holds.get(key);
    if (hold === undefined) {
      if (this.holds.size >= MAX_HOLDS) this.evict();
      this.holds.set(key, {
        until,
        hintMs: heldMs,
        emissionMs: stated,
        refused,
        releasedAt: -Infinity,
        queue: [],
      });
      return;
    }
    hold.refused ||= refused;
    if (stated !== undefined && stated !== hold.emissionMs) {
      hold.emissionMs = stated;
      this.pump(hold);
    }
    if (until <= hold.until) return;
    hold.until = until;
    hold.hintMs = heldMs;
    // The queue moves behind the new wait, in the same order; a call whose turn now comes too
    // late for its deadline is told at once.
    this.pump(hold);
  }

  /**
   * Waits for the hold on `call`'s upstream and model to end: paced, for the call's turn; else
   * for the end of the wait and a spread, again if a later 429 extended it meanwhile. Rejects at
   * once when the call's turn comes too late for its deadline, with the time an attempt takes
   * kept, and on the deadline or the caller's abort.
   * @returns how long the call waited, in ms
   */
  async wait(call: CallRecord, deadline: CallDeadline): Promise<number> {
    const startedAt = Date.now();
    const known = this.attemptMs.get(call.upstream.name);
    const waiter = {
      upstream: call.upstream.name,
      model: call.model,
      deadline,
      context: { upstream: call.upstream.name, model: call.model, attempts: call.attemptCount },
      reserveMs: Math.min(known ?? deadline.totalMs * UNTIMED_ATTEMPT_SHARE, deadline.totalMs / 2),
      resolve: () => undefined,
      reject: () => undefined,
      onAbort: () => undefined,
    } satisfies Waiter;
    for (;;) {
      const now = Date.now();
      const hold = this.holds.get(keyOf(call));
      if (hold === undefined || endOf(hold) <= now) break;
      if (deadline.signal.aborted) throw deadline.abortError(waiter.context);
      if (hold.emissionMs !== undefined) {
        await this.queueFor(hold, waiter);
        break;
      }
      const holdMs = hold.until - now;
      const spareMs = deadline.expiresAt - hold.until - waiter.reserveMs;
      if (spareMs < 0) throw this.rejected(waiter, hold, holdMs);
      // The spread never eats into what the attempt needs of the deadline.
      const spreadMs = Math.min(hintSpreadMs(hold.hintMs), spareMs);
      await this.sleep(waiter, Math.ceil(holdMs + spreadMs));
      // Woken later than foreseen (a busy process): too little left for an attempt to finish.
      if (deadline.remainingMs() < waiter.reserveMs) throw this.rejected(waiter, hold, 0);
    }
    const waitedMs = Date.now() - startedAt;
    if (waitedMs > 0) this.metrics.heldFor(call.upstream.name, call.model, waitedMs);
    return waitedMs;
  }

  /** Rejects every waiting call (module shutdown). */
  close(): void {
    for (const waiter of [...this.waiters]) {
      this.finish(waiter);
      waiter.reject(shutdownError(waiter.context, 'to be sent'));
    }
    for (const hold of this.holds.values()) clearTimeout(hold.timer);
    this.holds.clear();
  }

  /** Queues a paced call in the order the calls started, unless its turn comes too late. */
  private queueFor(hold: Hold, waiter: Waiter): Promise<void> {
    const { queue } = hold;
    let at = queue.length;
    while (at > 0 && queue[at - 1]!.deadline.startedAt > waiter.deadline.startedAt) at--;
    const turn = this.turnOf(hold, at);
    if (turn + waiter.reserveMs > waiter.deadline.expiresAt) {
      return Promise.reject(this.rejected(waiter, hold, turn - Date.now()));
    }
    return new Promise<void>((resolve, reject) => {
      this.watch(waiter, resolve, reject);
      waiter.queuedIn = hold;
      queue.splice(at, 0, waiter);
      this.pump(hold);
    });
  }

  /**
   * Releases the head of a paced queue if its turn has come, and sets the timer for the next;
   * rejects the calls whose turn now comes too late for their deadline.
   */
  private pump(hold: Hold): void {
    clearTimeout(hold.timer);
    hold.timer = undefined;
    for (let at = 0; at < hold.queue.length;) {
      const waiter = hold.queue[at]!;
      const turn = this.turnOf(hold, at);
      if (turn + waiter.reserveMs > waiter.deadline.expiresAt) {
        this.finish(waiter);
        waiter.reject(this.rejected(waiter, hold, turn - Date.now()));
        continue;
      }
      at++;
    }
    const head = hold.queue[0];
    if (head === undefined) return;
    const now = Date.now();
    const turn = this.turnOf(hold, 0);
    if (turn > now) {
      hold.timer = setTimeout(() => this.pump(hold), Math.ceil(turn - now));
      return;
    }
    this.finish(head);
    hold.releasedAt = now;
    head.resolve();
    if (hold.queue.length > 0) this.pump(hold);
  }

  /** When the call at `position` of a paced queue goes (epoch ms). */
  private turnOf(hold: Hold, position: number): number {
    const emissionMs = hold.emissionMs ?? 0;
    const next = Math.max(hold.until, hold.releasedAt + emissionMs, Date.now());
    return next + position * emissionMs;
  }

  private rejected(waiter: Waiter, hold: Hold, holdMs: number): LlmError {
    this.metrics.heldRejected(waiter.upstream, waiter.model);
    return heldPastDeadlineError(waiter.upstream, waiter.model, {
      refused: hold.refused,
      waitMs: Math.max(0, holdMs),
      remainingMs: waiter.deadline.remainingMs(),
      attemptMs: waiter.reserveMs,
    });
  }

  /** Sleeps `ms`, released early by the deadline or the caller's abort (rejecting). */
  private sleep(waiter: Waiter, ms: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.watch(waiter, resolve, reject);
      waiter.timer = setTimeout(() => {
        this.finish(waiter);
        resolve();
      }, ms);
    });
  }

  /** Makes `waiter` settle its promise, and end at once on the deadline or the caller's abort. */
  private watch(waiter: Waiter, resolve: () => void, reject: (error: LlmError) => void): void {
    waiter.resolve = resolve;
    waiter.reject = reject;
    waiter.onAbort = () => {
      this.finish(waiter);
      reject(waiter.deadline.abortError(waiter.context));
    };
    waiter.deadline.signal.addEventListener('abort', waiter.onAbort, { once: true });
    this.waiters.add(waiter);
  }

  private finish(waiter: Waiter): void {
    clearTimeout(waiter.timer);
    waiter.timer = undefined;
    waiter.deadline.signal.removeEventListener('abort', waiter.onAbort);
    this.waiters.delete(waiter);
    const hold = waiter.queuedIn;
    if (hold === undefined) return;
    waiter.queuedIn = undefined;
    const at = hold.queue.indexOf(waiter);
    if (at >= 0) hold.queue.splice(at, 1);
  }

  private attemptSucceeded(upstream: string, durationMs: number): void {
    if (!(durationMs >= 0)) return;
    const average = this.attemptMs.get(upstream);
    this.attemptMs.set(
      upstream,
      average === undefined ? durationMs : 0.8 * average + 0.2 * durationMs,
    );
  }

  /** Keeps a moving average of the tokens `call`'s answers count, per upstream and model. */
  private countTokens(call: CallRecord): void {
    // A plain answer's usage is known now; a stream's only if it came before the attempt's end.
    const usage = call.response;
    const tokens = (usage?.inputTokens ?? NaN) + (usage?.outputTokens ?? NaN);
    if (!(tokens >= 0)) return;
    let models = this.tokensPerCall.get(call.upstream.name);
    if (models === undefined) {
      models = new Map();
      this.tokensPerCall.set(call.upstream.name, models);
    }
    const average = models.get(call.model);
    // Model names can come from callers: past the bound the model counted first gives way.
    if (average === undefined && models.size >= MAX_HOLDS) {
      models.delete(models.keys().next().value!);
    }
    models.set(call.model, average === undefined ? tokens : 0.8 * average + 0.2 * tokens);
  }

  /** The pace the provider's stated limits give `call`'s model ({@link emissionOf}). */
  private statedEmission(call: CallRecord, attempt: AttemptRecord): number | undefined {
    const tokens = this.tokensPerCall.get(call.upstream.name)?.get(call.model);
    return emissionOf(attempt.responseHeaders, tokens);
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

/**
 * When a hold is over: its wait, the queue of paced calls, and one emission interval after the
 * last of them went (the provider counts that one too).
 */
function endOf(hold: Hold): number {
  if (hold.queue.length > 0) return Number.POSITIVE_INFINITY;
  return Math.max(hold.until, hold.releasedAt + (hold.emissionMs ?? 0));
}

/**
 * How far apart to release held calls by the provider's stated limits (OpenAI's
 * `x-ratelimit-limit-requests` and `-tokens`, per minute): a minute over the requests, or the
 * minute's share an average call's tokens take, whichever is longer; at least 1 ms and at most
 * {@link MAX_EMISSION_MS}. Undefined without either (Azure OpenAI states none), or with only the
 * tokens' before any answer of the model counted its tokens.
 */
function emissionOf(
  headers: Record<string, string> | undefined,
  tokensPerCall: number | undefined,
): number | undefined {
  const requests = perMinute(headers?.['x-ratelimit-limit-requests']);
  const tokens = perMinute(headers?.['x-ratelimit-limit-tokens']);
  const byRequests = requests === undefined ? 0 : 60_000 / requests;
  const byTokens =
    tokens === undefined || tokensPerCall === undefined ? 0 : (60_000 * tokensPerCall) / tokens;
  const emissionMs = Math.max(byRequests, byTokens);
  return emissionMs > 0 ? Math.max(1, Math.min(emissionMs, MAX_EMISSION_MS)) : undefined;
}

/** A stated limit: a whole number from 1, or undefined. */
function perMinute(value: string | undefined): number | undefined {
  const limit = value?.trim();
  return limit !== undefined && /^[1-9][0-9]{0,11}$/.test(limit) ? Number(limit) : undefined;
}

/** Upstream names are configured; a model name is anything a caller sent, hence the separator. */
function keyOf(call: CallRecord): string {
  return `${call.upstream.name}\u0000${call.model}`;
}
