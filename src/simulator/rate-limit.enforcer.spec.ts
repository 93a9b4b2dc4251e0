import { RateEnforcer, type RateLimits } from './rate-limit.enforcer';

const base = { windowMs: 60_000, intervalMs: 1_000, burstMs: 1_000 } as const;

function admitted(enforcer: RateEnforcer, limits: RateLimits, at: number[], tokens = 1): number[] {
  return at.filter((now) => {
    if (enforcer.check(limits, tokens, now)) return false;
    enforcer.admit(limits, tokens, now);
    return true;
  });
}

describe('RateEnforcer', () => {
  it('sliding: counts any window, so a minute budget may arrive in one second', () => {
    const limits: RateLimits = { ...base, enforcement: 'sliding', rpm: 60 };
    const enforcer = new RateEnforcer(limits);
    const burst = Array.from({ length: 61 }, (_, i) => 1_000 + i);
    expect(admitted(enforcer, limits, burst)).toHaveLength(60);
    expect(enforcer.check(limits, 1, 1_100)?.waitMs).toBe(60_000 - 100);
  });

  it.each([
    [1_000, 10],
    [10_000, 100],
  ])('interval of %i ms: allows limit × interval / 60 000 (%i) per clock interval', (ms, share) => {
    const limits: RateLimits = { ...base, enforcement: 'interval', intervalMs: ms, rpm: 600 };
    const enforcer = new RateEnforcer(limits);
    const start = 50 * ms;
    const burst = Array.from({ length: share + 5 }, (_, i) => start + i);
    expect(admitted(enforcer, limits, burst)).toHaveLength(share);
    // The wait is the rest of the interval, and the next interval starts empty.
    expect(enforcer.check(limits, 1, start + 10)?.waitMs).toBe(ms - 10);
    expect(enforcer.check(limits, 1, start + ms)).toBeUndefined();
  });

  it('interval: an empty interval admits one request of any size below the minute limit', () => {
    const limits: RateLimits = { ...base, enforcement: 'interval', tpm: 600 };
    const enforcer = new RateEnforcer(limits);
    expect(admitted(enforcer, limits, [5_000, 5_001], 50)).toEqual([5_000]);
    expect(enforcer.check(limits, 601, 9_000)?.waitMs).toBeUndefined();
  });

  it('bucket: a burst up to its capacity, then the per-minute rate', () => {
    const limits: RateLimits = { ...base, enforcement: 'bucket', burstMs: 2_000, rpm: 600 };
    const enforcer = new RateEnforcer(limits);
    const burst = Array.from({ length: 30 }, () => 1_000);
    expect(admitted(enforcer, limits, burst)).toHaveLength(20);
    // 600 per minute refills one request every 100 ms.
    expect(enforcer.check(limits, 1, 1_000)?.waitMs).toBe(100);
    expect(admitted(enforcer, limits, [1_100, 1_150, 1_200, 1_210])).toEqual([1_100, 1_200]);
  });

  it('bucket: tokens are corrected with the real usage after the answer', () => {
    const limits: RateLimits = { ...base, enforcement: 'bucket', burstMs: 6_000, tpm: 1_000 };
    const enforcer = new RateEnforcer(limits);
    enforcer.admit(limits, 100, 0).settle(20);
    expect(enforcer.snapshot(limits, 0).tokens).toMatchObject({ used: 20, remaining: 80 });
  });
});
