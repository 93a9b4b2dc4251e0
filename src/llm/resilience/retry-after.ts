import type { DelaySource } from './llm.errors';

/**
 * Response headers as Node gives them: lower-case keys, a value or an array of values.
 *
 * @example
 * const headers: HeaderBag = { 'retry-after': '2', 'set-cookie': ['a=1', 'b=2'] };
 */
export type HeaderBag = Readonly<Record<string, string | string[] | number | undefined>>;

/** A wait the server asked for, and the header it came from. */
export interface ServerHint {
  /** Milliseconds to wait before the next attempt; uncapped (the caller applies `maxServerHintMs`). */
  delayMs: number;
  source: DelaySource;
}

const DURATION_UNITS_MS: Readonly<Record<string, number>> = {
  h: 3_600_000,
  m: 60_000,
  s: 1000,
  ms: 1,
  us: 0.001,
  µs: 0.001,
  ns: 0.000_001,
};
const DECIMAL = /^\d+(?:\.\d+)?$/;
const DURATION = /^(?:\d+(?:\.\d+)?(?:h|ms|m|s|us|µs|ns))+$/;
const DURATION_PART = /(\d+(?:\.\d+)?)(h|ms|m|s|us|µs|ns)/g;
// RFC 9110 §5.6.7: every HTTP-date format (IMF-fixdate, RFC 850, asctime) starts with a day name.
// Checked first because V8's Date.parse also accepts strings such as "3" or "foo 1".
const HTTP_DATE = /^(?:mon|tue|wed|thu|fri|sat|sun)/i;

/**
 * The first value of a header, or `undefined` when it is absent or empty. Looks the lower-case
 * name up first, then any spelling, so hand-built header objects work too.
 *
 * @example
 * headerValue({ 'x-request-id': ['req_1', 'req_2'] }, 'x-request-id'); // 'req_1'
 */
export function headerValue(headers: HeaderBag, name: string): string | undefined {
  const lower = name.toLowerCase();
  let raw = headers[lower];
  if (raw === undefined) {
    const key = Object.keys(headers).find((k) => k.toLowerCase() === lower);
    raw = key === undefined ? undefined : headers[key];
  }
  const first = Array.isArray(raw) ? raw[0] : raw;
  const text = first === undefined ? undefined : String(first).trim();
  return text === '' ? undefined : text;
}

/**
 * Parses the duration format of OpenAI's `x-ratelimit-reset-*` headers (Go's `time.Duration`
 * text: `20ms`, `1.5s`, `6m0s`, `2h0m0s`); a bare number counts as seconds.
 *
 * @returns milliseconds, or `undefined` for anything else (negative values included)
 * @example
 * parseOpenAiDuration('1m30.5s'); // 90500
 * parseOpenAiDuration('3'); // 3000
 */
export function parseOpenAiDuration(text: string): number | undefined {
  const value = text.trim();
  if (DECIMAL.test(value)) return Number(value) * 1000;
  if (!DURATION.test(value)) return undefined;
  let total = 0;
  for (const [, amount, unit] of value.matchAll(DURATION_PART)) {
    total += Number(amount) * (DURATION_UNITS_MS[unit ?? ''] ?? 0);
  }
  return total;
}

/**
 * The wait a response asks for before the next attempt, from the most precise header present.
 * An invalid value is skipped, and the next header is tried.
 *
 * Precedence, as OpenAI's SDK reads them: `retry-after-ms` (float milliseconds: OpenAI sends
 * the precise wait there, so it wins over `Retry-After`), then `Retry-After` (RFC 9110 §10.2.3:
 * delta seconds or an HTTP date), then, on a 429 only, OpenAI's `x-ratelimit-reset-*`: the
 * budget whose `x-ratelimit-remaining-*` is 0 tells which limit was hit; if neither says so,
 * the longer of the two resets.
 *
 * @example
 * parseServerHint({ 'retry-after': '2' }, 503); // { delayMs: 2000, source: 'retry-after' }
 */
export function parseServerHint(
  headers: HeaderBag,
  status: number | undefined,
  now: number = Date.now(),
): ServerHint | undefined {
  const hint = readServerHint(headers, status, now);
  // A day at most: a date in 2099 became `Retry-After: 2300408472`, past what int32 parsers read.
  if (hint !== undefined && hint.delayMs > MAX_HINT_MS) hint.delayMs = MAX_HINT_MS;
  return hint;
}

/** The longest wait a hint is taken for (a day); a longer one reads as a day. */
export const MAX_HINT_MS = 86_400_000;

function readServerHint(
  headers: HeaderBag,
  status: number | undefined,
  now: number,
): ServerHint | undefined {
  const retryAfterMs = parseDecimal(headerValue(headers, 'retry-after-ms'));
  if (retryAfterMs !== undefined) return { delayMs: retryAfterMs, source: 'retry-after-ms' };
  const retryAfter = parseRetryAfter(headerValue(headers, 'retry-after'), now);
  if (retryAfter !== undefined) return { delayMs: retryAfter, source: 'retry-after' };
  return status === 429 ? parseRateLimitReset(headers) : undefined;
}

/**
 * Reads `x-should-retry`, which OpenAI's and Anthropic's SDKs obey over their status rules.
 *
 * @returns `true` or `false` as the server said (any case), else `undefined`
 * @example
 * parseShouldRetry({ 'x-should-retry': 'false' }); // false
 */
export function parseShouldRetry(headers: HeaderBag): boolean | undefined {
  const value = headerValue(headers, 'x-should-retry')?.toLowerCase();
  return value === 'true' ? true : value === 'false' ? false : undefined;
}

function parseDecimal(value: string | undefined): number | undefined {
  return value !== undefined && DECIMAL.test(value) ? Number(value) : undefined;
}

function parseRetryAfter(value: string | undefined, now: number): number | undefined {
  if (value === undefined) return undefined;
  if (DECIMAL.test(value)) return Number(value) * 1000;
  if (!HTTP_DATE.test(value)) return undefined;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

function parseRateLimitReset(headers: HeaderBag): ServerHint | undefined {
  const reset = (budget: 'tokens' | 'requests'): ServerHint | undefined => {
    const value = headerValue(headers, `x-ratelimit-reset-${budget}`);
    const delayMs = value === undefined ? undefined : parseOpenAiDuration(value);
    return delayMs === undefined ? undefined : { delayMs, source: `x-ratelimit-reset-${budget}` };
  };
  const exhausted = (budget: 'tokens' | 'requests'): boolean =>
    parseDecimal(headerValue(headers, `x-ratelimit-remaining-${budget}`)) === 0;
  const tokens = reset('tokens');
  const requests = reset('requests');
  if (tokens !== undefined && exhausted('tokens')) return tokens;
  if (requests !== undefined && exhausted('requests')) return requests;
  if (tokens === undefined || requests === undefined) return tokens ?? requests;
  return tokens.delayMs >= requests.delayMs ? tokens : requests;
}
