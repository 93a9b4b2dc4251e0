import type { ChatCompletionRequest } from '../llm/index';
import { InvalidRequestError } from './invalid-request.error';

/**
 * Checks the structure of a `POST /v1/chat/completions` body before any upstream call, naming the
 * first field at fault. The content (roles, tools, parameters) stays the provider's to judge:
 * unknown fields pass through untouched.
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
    );
  }
  const request = body as Record<string, unknown>;
  const { messages, model, stream } = request;
  if (!Array.isArray(messages) || messages.length === 0) {
    const got = messages === undefined ? 'it is missing' : `got ${describe(messages)}`;
    throw new InvalidRequestError(
      `'messages' must be a non-empty array of messages such as [{"role":"user","content":"Hi"}]; ${got}.`,
      'messages',
    );
  }
  messages.forEach((message: unknown, i) => {
    if (typeof message !== 'object' || message === null || Array.isArray(message)) {
      const text = `'messages[${i}]' must be an object with a 'role'; got ${describe(message)}.`;
      throw new InvalidRequestError(text, `messages[${i}]`);
    }
    const role = (message as Record<string, unknown>).role;
    if (typeof role !== 'string' || role.length === 0) {
      const text = `'messages[${i}].role' must be a string such as 'user'; got ${describe(role)}.`;
      throw new InvalidRequestError(text, `messages[${i}].role`);
    }
  });
  if (model !== undefined && (typeof model !== 'string' || model.length === 0)) {
    const text = `'model' must be a non-empty string when given; got ${describe(model)}.`;
    throw new InvalidRequestError(text, 'model');
  }
  if (stream !== undefined && typeof stream !== 'boolean') {
    const text = `'stream' must be true or false when given; got ${describe(stream)}.`;
    throw new InvalidRequestError(text, 'stream');
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
