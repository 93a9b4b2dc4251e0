import { Inject, Injectable } from '@nestjs/common';
import type { BreakerState } from '../call/call-record.types';
import { LlmRateLimiter, type RateLimitReservation } from '../limits/llm-rate-limiter';
import { LlmTelemetry } from '../observability/llm-telemetry';
import { isLlmError } from '../resilience/llm.errors';
import { UpstreamPoliciesRegistry } from '../resilience/upstream-policies.registry';
import { unexpectedError } from './attempt.errors';
import { throughBreaker } from './breaker.layer';
import { inBulkheadSlot } from './bulkhead.layer';
import { withinDeadline } from './deadline.layer';
import { FallbackChain } from './fallback-chain.layer';
import type { AttemptContext, LlmCall } from './llm-call';
import { withinBudget } from './limiter.layer';
import { withRetry } from './retry.layer';

/**
 * The call path of one logical call, outermost first, as {@link CallPath.run} composes it:
 *
 *   deadline → fallback chain → retry → circuit breaker → rate limiter → bulkhead → attempt timeout → transport
 *
 * 1. deadline (`deadline.layer.ts`): one total deadline over everything below, fallbacks included.
 * 2. fallback chain (`fallback-chain.layer.ts`, `fallback.policy.ts`): the next target when this
 *    one is unavailable; its last step is the application's `lastResort`.
 * 3. retry (`retry.layer.ts`, `resilience/retry.policy.ts`): the only retry layer; server hints
 *    replace the backoff; a wait past the deadline fails at once.
 * 4. circuit breaker (`breaker.layer.ts`, `resilience/tracked-breaker.ts`) per upstream and model.
 * 5. rate limiter (`limiter.layer.ts`, `limits/`): budget before each attempt, retries included;
 *    its waits are not breaker failures.
 * 6. bulkhead (`bulkhead.layer.ts`) per upstream: only attempts in flight hold slots, so the calls
 *    waiting above (for budget, a probe, a retry) never fill it.
 * 7. attempt timeout (`attempt-timeout.layer.ts`), armed by the attempt function:
 *    `chat-attempt.ts` (plain) or `stream-attempt.ts` (up to the first content chunk), around
 * 8. transport (`send-chat-request.ts`, `transport/llm-http.transport.ts`).
 *
 * Opening and closing the call (record, deadline, telemetry) is `call-lifecycle.ts`.
 */
@Injectable()
export class CallPath {
  constructor(
    private readonly fallbackChain: FallbackChain,
    private readonly policies: UpstreamPoliciesRegistry,
    private readonly telemetry: LlmTelemetry,
    @Inject(LlmRateLimiter) private readonly limiter: LlmRateLimiter,
  ) {}

  /** Runs one logical call down the path; the record says which target answered. */
  run<T>(call: LlmCall<T>): Promise<T> {
    return withinDeadline(call, () =>
      this.fallbackChain.run(call, (mayWaitForCircuit) => {
        // The target the chain has the call at now: its own breaker and bulkhead.
        const breaker = this.policies.breaker(call.record.upstream, call.record.model);
        const bulkhead = this.policies.bulkhead(call.record.upstream);
        return withRetry(call, this.telemetry, () =>
          throughBreaker(call, breaker, mayWaitForCircuit, this.telemetry, (breakerState) =>
            withinBudget(call, this.limiter, breaker, breakerState, (reservation) =>
              inBulkheadSlot(call, bulkhead, () => this.attempt(call, breakerState, reservation)),
            ),
          ),
        );
      }),
    );
  }

  /**
   * One attempt, recorded and traced: its timeout and transport are the call's attempt function.
   * The reservation is settled with what the attempt really cost.
   */
  private async attempt<T>(
    call: LlmCall<T>,
    breakerState: BreakerState,
    reservation: RateLimitReservation,
  ): Promise<T> {
    const { record, deadline } = call;
    const attempt = record.startAttempt(breakerState);
    attempt.limiterWaitMs = reservation.waitedMs;
    const headers = {
      'x-client-request-id': record.clientRequestId,
      'x-llm-attempt': String(attempt.number),
    };
    this.telemetry.attemptStarted(record, attempt);
    const context: AttemptContext = { attempt, record, deadline, headers, afterAnswer: undefined };
    try {
      const running = this.telemetry.runAttempt(record, attempt, () => call.attempt(context));
      // The request is Node's now (its write a tick queued already): the starts follow it.
      this.telemetry.attemptSent(record);
      const value = await running;
      record.endAttempt(attempt);
      call.succeeded?.(value);
      return value;
    } catch (error) {
      const llmError = isLlmError(error) ? error : unexpectedError(error, call.record);
      record.endAttempt(attempt, llmError);
      throw llmError;
    } finally {
      // What a successful attempt left for after its value was handed over (see AttemptContext).
      context.afterAnswer?.();
      reservation.settle(record, attempt);
    }
  }
}
