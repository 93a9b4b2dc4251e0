import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { OpenAiErrorInit } from './openai-error.body';

/**
 * OpenAI's 401 for a wrong key. Unlike OpenAI it never echoes the key, not even masked: test
 * output and logs that capture simulator answers must not leak what a client sent.
 */
export const INVALID_API_KEY: OpenAiErrorInit = {
  message: 'Incorrect API key provided.',
  type: 'invalid_request_error',
  code: 'invalid_api_key',
};

// Headers that carry a key: OpenAI's bearer token and Azure OpenAI's `api-key`.
const SECRET_HEADERS: Readonly<Record<string, string>> = {
  authorization: 'Bearer ***',
  'api-key': '***',
  'x-api-key': '***',
};

const digest = (text: string): Buffer => createHash('sha256').update(text).digest();

/**
 * Whether the request carries `Authorization: Bearer <apiKey>`; always true when no key is set.
 *
 * @example
 * isAuthorized(req.headers, 'sk-test'); // false for 'Bearer sk-other'
 */
export function isAuthorized(headers: IncomingHttpHeaders, apiKey: string | undefined): boolean {
  if (!apiKey) return true;
  const match = /^Bearer\s+(.+)$/i.exec(headers.authorization ?? '');
  // Compared by digest so the comparison takes the same time whatever the key's length.
  return match?.[1] !== undefined && timingSafeEqual(digest(match[1].trim()), digest(apiKey));
}

/**
 * The headers as `RecordedRequest` keeps them: lower-case, one string each, credentials
 * replaced, because recorded requests end up in test output and the control API.
 *
 * @example
 * redactHeaders({ authorization: 'Bearer sk-live' }).authorization; // 'Bearer ***'
 */
export function redactHeaders(headers: IncomingHttpHeaders): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    const key = name.toLowerCase();
    result[key] = SECRET_HEADERS[key] ?? (Array.isArray(value) ? value.join(', ') : value);
  }
  return result;
}
