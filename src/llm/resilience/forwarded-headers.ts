/**
 * The upstream's response headers that a caller may want as the provider sent them: its
 * rate-limit state (OpenAI's and Azure OpenAI's `x-ratelimit-*`) and OpenAI's processing time.
 * The call's metadata and its errors carry them; the gateway sends them on its answers, as a
 * client talking to OpenAI directly would read them (`response.headers` in the OpenAI SDK's
 * `withResponse()`).
 */
export const FORWARDED_HEADER_NAMES: readonly string[] = [
  'x-ratelimit-limit-requests',
  'x-ratelimit-limit-tokens',
  'x-ratelimit-remaining-requests',
  'x-ratelimit-remaining-tokens',
  'x-ratelimit-reset-requests',
  'x-ratelimit-reset-tokens',
  'openai-processing-ms',
];

const FORWARDED = new Set(FORWARDED_HEADER_NAMES);

/** Longest value kept: these are counts and durations (`59`, `6m0s`), never text. */
export const MAX_FORWARDED_VALUE = 64;

/**
 * What these headers hold, at most {@link MAX_FORWARDED_VALUE} characters: a count (`59`,
 * `123.4`), a duration in Go's notation as OpenAI sends it (`6m0s`, `20ms`, `7.66s`, `1h2m3s`) or
 * a time (`2026-11-28T07:00:00Z`). Anything else is not forwarded: free text from the upstream (an
 * echo of the key cut into pieces too short to be recognised and masked, say), a value already
 * masked (`***`), or a value no client could read as one of them (`1e400s`, `5m-3s`).
 */
const FORWARDABLE =
  /^(?:\d+(?:\.\d+)?|(?:\d+(?:\.\d+)?(?:h|m|s|ms|us|µs|ns))+|\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d))$/;

/** Whether `name` (lower case) is one of {@link FORWARDED_HEADER_NAMES}. */
export function isForwardedHeader(name: string): boolean {
  return FORWARDED.has(name);
}

/** Whether a value reads as a count, duration or time (see {@link FORWARDABLE}); others are left out. */
export function isForwardableValue(value: string): boolean {
  return value.length <= MAX_FORWARDED_VALUE && FORWARDABLE.test(value);
}

/**
 * The forwarded headers in a response's header record (lower-case names, values bounded and
 * masked), or undefined when it has none. A value that is not a string (a list, from another
 * process's plain form) is left out.
 *
 * @example
 * forwardedHeaders({ 'x-ratelimit-remaining-requests': '59', 'content-type': 'application/json' });
 * // { 'x-ratelimit-remaining-requests': '59' }
 */
export function forwardedHeaders(
  headers: Readonly<Record<string, unknown>>,
): Readonly<Record<string, string>> | undefined {
  let found: Record<string, string> | undefined;
  for (const name of FORWARDED_HEADER_NAMES) {
    const value = Object.hasOwn(headers, name) ? headers[name] : undefined;
    if (typeof value === 'string' && isForwardableValue(value)) (found ??= {})[name] = value;
  }
  return found;
}
