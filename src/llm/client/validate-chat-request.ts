import { LlmError } from '../resilience/llm.errors';
import { ChatCompletionRequest } from './chat.types';

/**
 * Rejects a request the provider would reject anyway, before it costs an attempt, rate-limit
 * budget or a breaker sample. Only structure is checked; the provider judges the content.
 */
export function validateChatRequest(request: ChatCompletionRequest, upstream: string): void {
  const problem = findProblem(request);
  if (problem) {
    throw new LlmError('bad_request', `Invalid chat completion request: ${problem}.`, {
      upstream,
      retryable: false,
    });
  }
}

function findProblem(request: ChatCompletionRequest): string | undefined {
  if (typeof request !== 'object' || request === null || Array.isArray(request)) {
    return 'the request must be a JSON object';
  }
  if (
    request.model !== undefined &&
    (typeof request.model !== 'string' || request.model.length === 0)
  ) {
    return "'model' must be a non-empty string when given";
  }
  if (!Array.isArray(request.messages) || request.messages.length === 0) {
    return "'messages' must be a non-empty array";
  }
  for (const [i, message] of request.messages.entries()) {
    if (typeof message !== 'object' || message === null || Array.isArray(message)) {
      return `'messages[${i}]' must be an object`;
    }
    if (typeof message.role !== 'string' || message.role.length === 0) {
      return `'messages[${i}].role' must be a string such as 'user'`;
    }
  }
  for (const field of ['max_tokens', 'max_completion_tokens', 'n'] as const) {
    const value = request[field];
    if (
      value !== undefined &&
      value !== null &&
      (!Number.isInteger(value) || (value as number) < 1)
    ) {
      return `'${field}' must be a positive integer`;
    }
  }
  return undefined;
}
