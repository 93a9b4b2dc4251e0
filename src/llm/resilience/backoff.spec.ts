import { backoffCeiling, fullJitterDelay } from './backoff';

describe('backoffCeiling', () => {
  it.each([
    [1, 1000],
    [2, 2000],
    [3, 4000],
    [6, 32_000],
    [7, 32_000],
  ])('retry %d has ceiling %d ms with base 1 s and cap 32 s', (retry, expected) => {
    expect(backoffCeiling(retry, 1000, 32_000)).toBe(expected);
  });

  it('returns the cap, not Infinity or NaN, for huge retry numbers', () => {
    expect(backoffCeiling(5000, 1000, 32_000)).toBe(32_000);
    expect(backoffCeiling(Number.MAX_SAFE_INTEGER, 1000, 32_000)).toBe(32_000);
  });

  it('treats a retry below 1 as the first retry', () => {
    expect(backoffCeiling(0, 500, 32_000)).toBe(500);
    expect(backoffCeiling(-3, 500, 32_000)).toBe(500);
  });

  it('is 0 when the base is 0, even for huge retry numbers', () => {
    expect(backoffCeiling(5000, 0, 32_000)).toBe(0);
  });

  it('never exceeds a cap smaller than the base', () => {
    expect(backoffCeiling(1, 1000, 300)).toBe(300);
  });
});

describe('fullJitterDelay', () => {
  it('scales the ceiling by the random draw', () => {
    expect(fullJitterDelay(3, 1000, 32_000, () => 0.25)).toBe(1000);
  });

  it('can be 0 (full jitter draws from the whole window)', () => {
    expect(fullJitterDelay(4, 1000, 32_000, () => 0)).toBe(0);
  });

  it('stays below the cap for large retries', () => {
    expect(fullJitterDelay(100, 1000, 32_000, () => 0.999)).toBeCloseTo(31_968);
  });

  it('uses Math.random by default and stays inside [0, ceiling)', () => {
    for (let i = 0; i < 200; i += 1) {
      const delay = fullJitterDelay(2, 1000, 32_000);
      expect(delay).toBeGreaterThanOrEqual(0);
      expect(delay).toBeLessThan(2000);
    }
  });
});
