import { CircuitState } from 'cockatiel';
import {
  type LlmRateLimiter,
  type RateLimitReservation,
  UnlimitedRateLimiter,
} from '../limits/llm-rate-limiter';
import type { TrackedBreaker } from '../resilience/tracked-breaker';
import { withinBudget } from './limiter.layer';
import type { LlmCall } from './llm-call';

/** What the layer reads of a call and a breaker: the attempt count, a closed circuit. */
const call = { record: { attemptCount: 0 }, deadline: {} } as unknown as LlmCall<string>;
const closed = { policy: { state: CircuitState.Closed } } as unknown as TrackedBreaker;

describe('the limiter layer', () => {
  it('with the unlimited limiter sends in the same turn, with a free reservation', async () => {
    const seen: RateLimitReservation[] = [];
    const result = withinBudget(call, new UnlimitedRateLimiter(), closed, 'closed', (r) => {
      seen.push(r);
      return Promise.resolve('sent');
    });
    // Sent before the layer returned: no promise was waited for.
    expect(seen).toHaveLength(1);
    expect(seen[0]!.waitedMs).toBe(0);
    expect('release' in seen[0]!).toBe(false);
    await expect(result).resolves.toBe('sent');
  });

  it('with any other limiter sends once its reservation came; an unused one is given back', async () => {
    const released: string[] = [];
    const limiter: LlmRateLimiter = {
      acquire: () =>
        Promise.resolve({
          waitedMs: 5,
          settle: () => undefined,
          release: () => void released.push('released'),
        }),
    };
    const seen: number[] = [];
    const result = withinBudget(call, limiter, closed, 'closed', (r) => {
      seen.push(r.waitedMs);
      return Promise.reject(new Error('no slot'));
    });
    expect(seen).toEqual([]);
    await expect(result).rejects.toThrow('no slot');
    expect(seen).toEqual([5]);
    // No attempt started (the bulkhead turned it away): the budget is back.
    expect(released).toEqual(['released']);
  });
});
