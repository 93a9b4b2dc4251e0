const HOUR_MS = 3_600_000;
const MINUTE_MS = 60_000;

/**
 * Formats a wait the way OpenAI's `x-ratelimit-reset-*` headers do: Go's `time.Duration` text,
 * whole milliseconds below a second, else hours/minutes/seconds with fractional seconds.
 * Clients parse exactly this, so the simulator must not invent its own format.
 *
 * @example
 * formatOpenAiDuration(20); // '20ms'
 * formatOpenAiDuration(1000); // '1s'
 * formatOpenAiDuration(90_500); // '1m30.5s'
 * formatOpenAiDuration(360_000); // '6m0s'
 */
export function formatOpenAiDuration(ms: number): string {
  const total = Math.max(0, Math.ceil(ms));
  if (total === 0) return '0s';
  if (total < 1000) return `${total}ms`;
  const hours = Math.floor(total / HOUR_MS);
  const minutes = Math.floor((total % HOUR_MS) / MINUTE_MS);
  const seconds = `${(total % MINUTE_MS) / 1000}s`;
  if (hours > 0) return `${hours}h${minutes}m${seconds}`;
  if (minutes > 0) return `${minutes}m${seconds}`;
  return seconds;
}
