import type { CallRecord } from '../call/call-record';
import type { AttemptRecord, CallResponseInfo } from '../call/call-record.types';
import type { RateBudget } from './rate-budget';
import { windowGuardMs } from './budget.store';
import { providerBudgetViews } from './rate-limit.headers';

/** What one attempt holds of a budget until it is settled. */
export interface Reservation {
  budget: RateBudget;
  id: string;
  /** Tokens reserved before the attempt (0 when the budget counts no tokens). */
  estimate: number;
}

/**
 * Settles reservations with what the attempt told: the provider's own count
 * (`x-ratelimit-remaining-*` / `-reset-*`, on successes and 429s alike) corrects the local view;
 * a 429 from the provider lowers the adaptive rate (the limiter let the request through, so the
 * provider grants less than configured), unless it only met the window's edge; a success may
 * raise it; the real usage replaces the
 * token estimate. A stream's usage only comes with its last chunk, when the call ends.
 *
 * @example
 * settler.settle({ budget, id, estimate }, call, attempt); // after the attempt
 * settler.callEnded(call); // from the call observer: a stream's usage is known now
 */
export class ReservationSettler {
  private readonly pending = new WeakMap<CallRecord, Reservation>();

  /** @param onError told about a failure; settling never throws into the call */
  constructor(private readonly onError: (error: unknown) => void) {}

  settle(reservation: Reservation, call: CallRecord, attempt: AttemptRecord): void {
    const { budget } = reservation;
    try {
      const views = providerBudgetViews(attempt.responseHeaders ?? {});
      for (const view of views) {
        budget.correct(view).catch(this.onError);
      }
      const now = Date.now();
      // How long an attempt that went through takes: the time a waiting call must keep.
      if (!attempt.error) budget.attemptSucceeded((attempt.endedAt ?? now) - attempt.startedAt);
      if (attempt.errorKind === 'rate_limited' && attempt.status === 429) {
        if (!atWindowEdge(attempt, budget.config.windowMs)) {
          // A 429 with a wait (Retry-After, retry-after-ms) and no remaining/reset pair, as Azure
          // OpenAI sends it: the budget holds for that wait, for every call, not only this one's
          // retry. Without it a budget set above what the provider grants met 429s in every
          // window, the adaptive rate rising again between them. Held before the rate is
          // lowered: the hold fills the window to the limit every replica counts against.
          const holdMs = attempt.error?.retryAfterMs;
          if (views.length === 0 && holdMs !== undefined && holdMs > 0) {
            const { rpm } = budget.limits();
            const dimension = rpm !== undefined ? 'requests' : 'tokens';
            budget.correct({ dimension, remaining: 0, resetMs: holdMs }).catch(this.onError);
          }
          budget.rate.throttled(now);
        }
      } else if (!attempt.error && budget.rate.succeeded(now)) {
        budget.rateChanged();
      }
      // A failed attempt keeps its estimate: the provider may have counted it.
      if (budget.config.tpm === undefined || attempt.error) return;
      if (call.stream && totalTokens(call.response) === undefined) {
        this.pending.set(call, reservation);
      } else {
        this.reconcile(reservation, call.response);
      }
    } catch (error) {
      this.onError(error);
    }
  }

  /** Reconciles a stream whose usage arrived with its last chunk. */
  callEnded(call: CallRecord): void {
    const reservation = this.pending.get(call);
    if (!reservation) return;
    this.pending.delete(call);
    this.reconcile(reservation, call.response);
  }

  /** Charges or refunds the difference between the estimate and the real usage. */
  private reconcile(reservation: Reservation, response: CallResponseInfo | undefined): void {
    const real = totalTokens(response);
    if (real === undefined || real === reservation.estimate) return;
    // A provider that counts the estimate (Azure) keeps it: only a usage above it is charged.
    if (real < reservation.estimate && !reservation.budget.config.refundUnusedTokens) return;
    const need = { requests: 1, tokens: real };
    reservation.budget
      .adjust(reservation.id, need, real < reservation.estimate)
      .catch(this.onError);
  }
}

/**
 * A 429 whose own wait hint is within the window's guard: the provider's window frees within
 * milliseconds, so the limiter admitted the request at the edge of a window both count alike
 * (the provider counted an earlier request a moment later than this process did). That says
 * nothing about the provider granting less than configured: the rate is not lowered, and the
 * retry waits the hint.
 */
function atWindowEdge(attempt: AttemptRecord, windowMs: number): boolean {
  const hintMs = attempt.error?.retryAfterMs;
  return hintMs !== undefined && hintMs <= windowGuardMs(windowMs);
}

function totalTokens(response: CallResponseInfo | undefined): number | undefined {
  const { inputTokens, outputTokens } = response ?? {};
  return inputTokens === undefined || outputTokens === undefined
    ? undefined
    : inputTokens + outputTokens;
}
