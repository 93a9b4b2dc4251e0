import { setTimeout as sleep } from 'node:timers/promises';
import { BrokenCircuitError, CircuitState } from 'cockatiel';
import type { BreakerState } from '../call/call-record.types';
import {
  immediateReservation,
  type LlmRateLimiter,
  type RateLimitReservation,
} from '../limits/llm-rate-limiter';
import { heldPastDeadlineError, type ProviderHolds } from '../limits/provider-holds';
import type { TrackedBreaker } from '../resilience/tracked-breaker';
import { type LlmCall, whereOf } from './llm-call';

/**
 * The rate limiter layer, inside the breaker (a budget wait is never a breaker failure) and
 * before each attempt (retries spend budget too): reserves a request and its estimated tokens,
 * waiting within the deadline. A reservation no attempt used is given back.
 */
export function withinBudget<T>(
  call: LlmCall<T>,
  limiter: LlmRateLimiter,
  holds: ProviderHolds,
  breaker: TrackedBreaker,
  breakerState: BreakerState,
  send: (reservation: RateLimitReservation) => Promise<T>,
): Promise<T> {
  // A provider's 429 asked to wait: every call to the target waits for it, or is refused.
  const heldMs = holds.waitMs(call.record.upstream, call.record.model);
  if (heldMs > 0) return afterHold(call, heldMs, limiter, breaker, breakerState, send);
  // No upstream sets a budget (the default): nothing to wait for, nor to give back; the attempt
  // goes in the same turn, without this layer's promises (each costs most on Node 22, whose
  // AsyncLocalStorage runs a promise hook for each).
  const free = immediateReservation(limiter);
  return free ? send(free) : afterBudget(call, limiter, breaker, breakerState, send);
}

async function afterHold<T>(
  call: LlmCall<T>,
  heldMs: number,
  limiter: LlmRateLimiter,
  breaker: TrackedBreaker,
  breakerState: BreakerState,
  send: (reservation: RateLimitReservation) => Promise<T>,
): Promise<T> {
  const { record, deadline } = call;
  const remainingMs = deadline.remainingMs();
  if (heldMs >= remainingMs) {
    throw heldPastDeadlineError(record.upstream.name, record.model, heldMs, remainingMs);
  }
  try {
    await sleep(heldMs, undefined, { signal: deadline.signal });
  } catch {
    throw deadline.abortError(whereOf(record));
  }
  const free = immediateReservation(limiter);
  if (free) return send({ ...free, waitedMs: heldMs });
  return afterBudget(call, limiter, breaker, breakerState, send);
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
