/**
 * A duration for a message: milliseconds under a second, then seconds (one decimal under ten).
 *
 * @example
 * durationText(250); // '250 ms'
 * durationText(1500); // '1.5 s'
 * durationText(30_000); // '30 s'
 */
export function durationText(ms: number): string {
  const value = Math.max(0, ms);
  if (value < 1000) return `${Math.round(value)} ms`;
  return `${(value / 1000).toFixed(value < 10_000 ? 1 : 0)} s`;
}
