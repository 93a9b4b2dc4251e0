import { formatOpenAiDuration } from './openai-duration.format';
import { openAiErrorBody } from './openai-error.body';
import type { RateLimits, RateRejection, RateSnapshot } from './rate-limit.enforcer';

const LEARN_MORE = 'Visit https://platform.openai.com/account/rate-limits to learn more.';

/** A 429 as one provider sends it: body and headers. */
export interface RateLimitedReply {
  body: object;
  headers: Record<string, string>;
}

/**
 * OpenAI's `x-ratelimit-*` headers for the configured limits only. `limit` is per minute, as
 * OpenAI reports it; `remaining` and `reset` describe the unit in force (window, interval or
 * bucket): what could be sent now, and when that allowance is whole again.
 *
 * @example
 * openAiRateHeaders(enforcer.snapshot(limits));
 * // { 'x-ratelimit-limit-requests': '60', 'x-ratelimit-remaining-requests': '59', ... }
 */
export function openAiRateHeaders(snapshot: RateSnapshot): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const dimension of ['requests', 'tokens'] as const) {
    const usage = snapshot[dimension];
    if (!usage) continue;
    headers[`x-ratelimit-limit-${dimension}`] = String(usage.limit);
    headers[`x-ratelimit-remaining-${dimension}`] = String(Math.floor(usage.remaining));
    headers[`x-ratelimit-reset-${dimension}`] = formatOpenAiDuration(usage.resetMs);
  }
  return headers;
}

/**
 * OpenAI's 429, worded like OpenAI's (clients and people grep these messages), with
 * `retry-after-ms`, `retry-after` and the `x-ratelimit-*` headers. A request larger than the
 * whole budget gets no retry hint: waiting will never help.
 *
 * @example
 * openAiRateLimitedReply(rejection, 'gpt-4o-mini').headers['retry-after-ms']; // '100'
 */
export function openAiRateLimitedReply(rejection: RateRejection, model: string): RateLimitedReply {
  const { dimension, limit, used, requested, waitMs } = rejection;
  const unit = dimension === 'requests' ? 'requests per min (RPM)' : 'tokens per min (TPM)';
  const where = `for ${model} in organization org-simulator on ${unit}`;
  const headers = openAiRateHeaders(rejection.snapshot);
  headers[`x-ratelimit-remaining-${dimension}`] = '0';
  const code = 'rate_limit_exceeded';
  if (waitMs === undefined) {
    const message =
      `Request too large ${where}: Limit ${rejection.snapshot[dimension]?.limit}, Requested ` +
      `${requested}. The input or output tokens must be reduced in order to run successfully. ` +
      LEARN_MORE;
    return { body: openAiErrorBody({ message, type: dimension, code }), headers };
  }
  const message =
    `Rate limit reached ${where}${enforcedAs(rejection.snapshot.limits)}: Limit ${roundOf(limit)}, ` +
    `Used ${used}, Requested ${requested}. Please try again in ${formatOpenAiDuration(waitMs)}. ` +
    LEARN_MORE;
  headers['retry-after'] = String(Math.max(1, Math.ceil(waitMs / 1000)));
  headers['retry-after-ms'] = String(Math.max(1, Math.ceil(waitMs)));
  return { body: openAiErrorBody({ message, type: dimension, code }), headers };
}

/**
 * Azure OpenAI's `x-ratelimit-remaining-*` headers (Azure sends no limit or reset headers).
 *
 * @example
 * azureRateHeaders(snapshot); // { 'x-ratelimit-remaining-requests': '9' }
 */
export function azureRateHeaders(snapshot: RateSnapshot): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const dimension of ['requests', 'tokens'] as const) {
    const usage = snapshot[dimension];
    if (usage) headers[`x-ratelimit-remaining-${dimension}`] = String(Math.floor(usage.remaining));
  }
  return headers;
}

/**
 * Azure OpenAI's 429: whole seconds in `retry-after` (no `retry-after-ms`, no reset headers)
 * and its `{ error: { code: '429', message } }` body, worded as Azure words it.
 *
 * @example
 * azureRateLimitedReply(rejection).headers['retry-after']; // '1'
 */
export function azureRateLimitedReply(rejection: RateRejection): RateLimitedReply {
  const seconds = Math.max(1, Math.ceil((rejection.waitMs ?? 86_400_000) / 1000));
  const kind = rejection.dimension === 'requests' ? 'call rate limit' : 'token rate limit';
  const message =
    'Requests to the ChatCompletions_Create Operation under Azure OpenAI API version 2024-10-21 ' +
    `have exceeded ${kind} of your current OpenAI S0 pricing tier. Please retry after ${seconds} ` +
    `second${seconds === 1 ? '' : 's'}. Please go here: https://aka.ms/oai/quotaincrease if you ` +
    'would like to further increase the default rate limit.';
  const headers = azureRateHeaders(rejection.snapshot);
  headers[`x-ratelimit-remaining-${rejection.dimension}`] = '0';
  headers['retry-after'] = String(seconds);
  return { body: { error: { code: '429', message } }, headers };
}

function enforcedAs(limits: RateLimits): string {
  if (limits.enforcement === 'interval') return ` (enforced per ${limits.intervalMs / 1000}s)`;
  if (limits.enforcement === 'bucket')
    return ` (enforced as a bucket of ${limits.burstMs / 1000}s)`;
  return '';
}

function roundOf(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(1);
}
