/**
 * The upper bound of the wait before a retry: `baseMs · 2^(retry-1)`, capped at `maxMs`.
 * Safe for any retry number: an exponent past what a double holds yields `maxMs`, not
 * `Infinity` or `NaN`.
 *
 * @param retry 1 for the first retry (the second attempt); lower values count as 1
 * @example
 * backoffCeiling(3, 1000, 32_000); // 4000
 * backoffCeiling(10_000, 1000, 32_000); // 32000
 */
export function backoffCeiling(retry: number, baseMs: number, maxMs: number): number {
  const cap = Math.max(0, maxMs);
  const base = Math.max(0, baseMs);
  if (base === 0 || cap === 0) return 0;
  const exponent = Math.max(0, Math.floor(retry) - 1);
  // 2 ** 1024 is Infinity (and 0 * Infinity is NaN, hence the early return above).
  const raw = base * 2 ** exponent;
  return Number.isFinite(raw) ? Math.min(cap, raw) : cap;
}

/**
 * The wait before a retry with "full jitter" (AWS Architecture Blog, "Exponential Backoff And
 * Jitter", 2015): a uniform draw from 0 up to {@link backoffCeiling}. Spreading retries over the
 * whole window is what keeps many clients that failed together from retrying together; AWS's
 * simulation shows it does the least total work of the jitter variants.
 *
 * @param retry 1 for the first retry
 * @param random source of numbers in [0, 1); injectable for tests
 * @example
 * fullJitterDelay(2, 1000, 32_000); // somewhere in [0, 2000)
 * fullJitterDelay(2, 1000, 32_000, () => 0.5); // 1000
 */
export function fullJitterDelay(
  retry: number,
  baseMs: number,
  maxMs: number,
  random: () => number = Math.random,
): number {
  return random() * backoffCeiling(retry, baseMs, maxMs);
}
