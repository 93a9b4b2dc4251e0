import { LLM_DEFAULTS } from '../options/llm.defaults';
import { LlmError } from './llm.errors';
import { TrackedBreaker } from './tracked-breaker';

const fail = (error: Error) => () => Promise.reject(error);

describe('TrackedBreaker', () => {
  it('keeps the last failure it counted, before the transition it causes says it', async () => {
    const breaker = new TrackedBreaker('up', 'm', {
      ...LLM_DEFAULTS.breaker,
      consecutiveFailures: 2,
    });
    const described: string[] = [];
    breaker.onTransition((state) => described.push(breaker.describeTransition(state)));
    const first = new LlmError('server_error', 'first 500', { status: 500 });
    await breaker.policy.execute(fail(first)).catch(() => undefined);
    expect(breaker.snapshot().lastFailure).toMatchObject({ kind: 'server_error', status: 500 });
    expect(described).toEqual([]);
    const second = new LlmError('overloaded', 'second 529', { status: 529 });
    await breaker.policy.execute(fail(second)).catch(() => undefined);
    // The transition's account names the failure that opened it.
    expect(described).toHaveLength(1);
    expect(described[0]).toContain('Last failure: 529 (second 529)');
    expect(breaker.snapshot()).toMatchObject({
      state: 'open',
      lastFailure: { kind: 'overloaded', status: 529, message: 'second 529' },
    });
  });

  it('keeps no failure the breaker does not count (a rate limit, a client error, a success)', async () => {
    const breaker = new TrackedBreaker('up', 'm', LLM_DEFAULTS.breaker);
    await breaker.policy
      .execute(fail(new LlmError('rate_limited', 'slow down', { status: 429 })))
      .catch(() => undefined);
    await breaker.policy
      .execute(fail(new LlmError('bad_request', 'no', { status: 400 })))
      .catch(() => undefined);
    await breaker.policy.execute(() => Promise.resolve('ok'));
    expect(breaker.snapshot().lastFailure).toBeUndefined();
    expect(breaker.snapshot().state).toBe('closed');
  });
});
