import { BrokenCircuitError, CircuitState } from 'cockatiel';
import type { BreakerState } from '../call/call-record.types';
import {
  immediateReservation,
  type LlmRateLimiter,
  type RateLimitReservation,
} from '../limits/llm-rate-limiter';
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
  return free ? send(free) : afterBudget(call, limiter, breaker, breakerState, send);
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
  const attemptsBefore = record.attemptCount;
  try {
    return await send(reservation);
  } catch (error) {
    // No slot (bulkhead full, or aborted in its queue): nothing was sent, the budget is back.
    if (record.attemptCount === attemptsBefore) reservation.release?.();
    throw error;
  }
}
