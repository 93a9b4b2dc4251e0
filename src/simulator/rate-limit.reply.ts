import { formatOpenAiDuration } from './openai-duration.format';
import type { OpenAiErrorInit } from './openai-error.body';
import type { RateRejection, RateSnapshot } from './rate-limit.window';

const LEARN_MORE = 'Visit https://platform.openai.com/account/rate-limits to learn more.';

/**
 * OpenAI's `x-ratelimit-*` headers for the configured limits only (no rpm, no request headers).
 *
 * @example
 * rateLimitHeaders(window.snapshot({ rpm: 60, windowMs: 60_000 }));
 * // { 'x-ratelimit-limit-requests': '60', 'x-ratelimit-remaining-requests': '59', ... }
 */
export function rateLimitHeaders(snapshot: RateSnapshot): Record<string, string> {
  const { rpm, tpm } = snapshot.limits;
  const headers: Record<string, string> = {};
  if (rpm) {
    headers['x-ratelimit-limit-requests'] = String(rpm);
    headers['x-ratelimit-remaining-requests'] = String(Math.max(0, rpm - snapshot.requestsUsed));
    headers['x-ratelimit-reset-requests'] = formatOpenAiDuration(snapshot.requestsResetMs);
  }
  if (tpm) {
    headers['x-ratelimit-limit-tokens'] = String(tpm);
    headers['x-ratelimit-remaining-tokens'] = String(Math.max(0, tpm - snapshot.tokensUsed));
    headers['x-ratelimit-reset-tokens'] = formatOpenAiDuration(snapshot.tokensResetMs);
  }
  return headers;
}

/** The 429 OpenAI sends for a refused request: its error and headers. */
export interface RateLimitedReply {
  error: OpenAiErrorInit;
  headers: Record<string, string>;
}

/**
 * Builds the 429 for a rejection, worded like OpenAI's (clients and people grep these messages).
 * A request larger than the whole budget gets no `retry-after`: waiting will never help.
 *
 * @example
 * rateLimitedReply(rejection, 'gpt-4o-mini').headers['retry-after']; // '1'
 */
export function rateLimitedReply(rejection: RateRejection, model: string): RateLimitedReply {
  const { dimension, limit, used, requested, waitMs } = rejection;
  const unit = dimension === 'requests' ? 'requests per min (RPM)' : 'tokens per min (TPM)';
  const where = `for ${model} in organization org-simulator on ${unit}`;
  const headers = rateLimitHeaders(rejection.snapshot);
  headers[`x-ratelimit-remaining-${dimension}`] = '0';
  if (waitMs === undefined) {
    const message =
      `Request too large ${where}: Limit ${limit}, Requested ${requested}. ` +
      `The input or output tokens must be reduced in order to run successfully. ${LEARN_MORE}`;
    return { error: { message, type: dimension, code: 'rate_limit_exceeded' }, headers };
  }
  const message =
    `Rate limit reached ${where}: Limit ${limit}, Used ${used}, Requested ${requested}. ` +
    `Please try again in ${formatOpenAiDuration(waitMs)}. ${LEARN_MORE}`;
  headers['retry-after'] = String(Math.max(1, Math.ceil(waitMs / 1000)));
  headers['retry-after-ms'] = String(Math.max(1, Math.ceil(waitMs)));
  return { error: { message, type: dimension, code: 'rate_limit_exceeded' }, headers };
}
