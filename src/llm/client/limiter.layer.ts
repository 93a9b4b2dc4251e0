import { BrokenCircuitError, CircuitState, isBulkheadRejectedError } from 'cockatiel';
import type { BreakerState } from '../call/call-record.types';
import {
  immediateReservation,
  type LlmRateLimiter,
  type RateLimitReservation,
} from '../limits/llm-rate-limiter';
import { unwatchAbort, watchAbort } from '../resilience/abort-link';
import { isLlmErrorKind } from '../resilience/llm.errors';
import type { TrackedBreaker } from '../resilience/tracked-breaker';
import type { LlmCall } from './llm-call';

/**
 * The rate limiter layer, inside the breaker (a budget wait is never a breaker failure) and
 * before each attempt (retries spend budget too): reserves a request and its estimated tokens,
 * waiting within the deadline. A reservation no attempt used is given back.
 */
export function withinBudget<T>(
  call: LlmCall<T>,
  limiter: LlmRateLimiter,
  breaker: TrackedBreaker,
  breakerState: BreakerState,
  send: (reservation: RateLimitReservation) => Promise<T>,
): Promise<T> {
  // No upstream sets a budget (the default) and this one is not held after a 429: nothing to
  // wait for, nor to give back; the attempt goes in the same turn, without this layer's promises
  // (each costs most on Node 22, whose AsyncLocalStorage runs a promise hook for each).
  const free = immediateReservation(limiter, call.record);
  if (!free) return afterBudget(call, limiter, breaker, breakerState, send);
  // A retry has waited its turn (its backoff): it waits for a bulkhead slot too (see inTurn).
  return call.record.attemptCount === 0 ? send(free) : inTurn(call, free, send);
}

async function afterBudget<T>(
  call: LlmCall<T>,
  limiter: LlmRateLimiter,
  breaker: TrackedBreaker,
  breakerState: BreakerState,
  send: (reservation: RateLimitReservation) => Promise<T>,
): Promise<T> {
  const { record, deadline } = call;
  const reservation = await limiter.acquire(record, deadline);
  if (breakerState === 'closed' && breaker.policy.state !== CircuitState.Closed) {
    // The circuit opened while this call waited for budget: it must not add to the outage's
    // traffic. It gives the budget back and meets the open circuit instead.
    reservation.release?.();
    throw new BrokenCircuitError();
  }
  return inTurn(call, reservation, send);
}

/**
 * Sends a call that waited its turn (for a budget, a 429's hold, or a retry's backoff). Released
 * with many others at once, it may find the bulkhead full: it then waits for a slot, within its
 * deadline, instead of failing as bulkhead_full after its wait (a new call still fails at once).
 * A reservation no attempt used is given back.
 */
async function inTurn<T>(
  call: LlmCall<T>,
  reservation: RateLimitReservation,
  send: (reservation: RateLimitReservation) => Promise<T>,
): Promise<T> {
  const { record, deadline } = call;
  const attemptsBefore = record.attemptCount;
  for (let pollMs = FIRST_SLOT_POLL_MS; ; pollMs = Math.min(pollMs * 2, MAX_SLOT_POLL_MS)) {
    try {
      return await send(reservation);
    } catch (error) {
      const sent = record.attemptCount !== attemptsBefore;
      const sleepMs = pollMs * (0.5 + Math.random() / 2);
      if (
        !sent &&
        (reservation.waitedMs > 0 || attemptsBefore > 0) &&
        (isBulkheadRejectedError(error) || isLlmErrorKind(error, 'bulkhead_full')) &&
        deadline.remainingMs() > sleepMs
      ) {
        await abortableSleep(sleepMs, deadline.signal);
        if (!deadline.signal.aborted) continue;
      }
      // No slot (bulkhead full, or aborted in its queue): nothing was sent, the budget is back.
      if (!sent) reservation.release?.();
      throw error;
    }
  }
}

/** How often a call that waited for its turn looks for a bulkhead slot: from 10 ms, doubling. */
const FIRST_SLOT_POLL_MS = 10;
const MAX_SLOT_POLL_MS = 160;

/** Resolves after `ms`, or at once when `signal` aborts (the caller then reads the signal). */
function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      unwatchAbort(signal, done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    watchAbort(signal, done);
  });
}
