import type { ChatCompletionRequest } from '../llm/index';
import { InvalidRequestError } from './invalid-request.error';

/**
 * Checks what is specific to the HTTP body of `POST /v1/chat/completions` (a JSON object, a
 * boolean or null `stream`: null is OpenAI's default, no stream); LlmClient checks the request itself (messages, model, max_tokens) and names
 * the field the same way. The content stays the provider's to judge.
 *
 * @throws InvalidRequestError with `param` set to the field, e.g. `messages[2].role`
 * @example
 * const request = validateChatRequestBody(req.body); // ChatCompletionRequest
 */
export function validateChatRequestBody(body: unknown): ChatCompletionRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new InvalidRequestError(
      'The request body must be a JSON object (send it with Content-Type: application/json).',
      null,
      'invalid_type',
    );
  }
  const request = body as Record<string, unknown>;
  const { stream } = request;
  if (stream !== undefined && stream !== null && typeof stream !== 'boolean') {
    const text = `'stream' must be true, false or null when given; got ${describe(stream)}.`;
    throw new InvalidRequestError(text, 'stream', 'invalid_type');
  }
  return request as ChatCompletionRequest;
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return value.length === 0 ? 'an empty array' : 'an array';
  if (value === null) return 'null';
  if (typeof value === 'object') return 'an object';
  // The body came from JSON, so it is a string, number or boolean here. Capped: it may be a
  // whole prompt sent in the wrong field.
  const text = JSON.stringify(value);
  return `${typeof value} ${text.length > 40 ? `${text.slice(0, 40)}...` : text}`;
}
