import { LlmError } from '../resilience/llm.errors';
import { type ChatCompletionRequest } from '../call/chat.types';
import {
  exceedsDepth,
  inspectRequest,
  LLM_REQUEST_BOUNDS,
  modelNameProblem,
} from './request-bounds';

interface Problem {
  param?: string;
  text: string;
  /**
   * OpenAI's `error.code` for the same mistake (`missing_required_parameter`, `invalid_type`,
   * `empty_array`, `integer_below_min_value`, ...): the error's `providerCode`, as the provider
   * would have answered it, so a client switching on OpenAI's codes sees the same one.
   */
  code: string;
}

/**
 * Rejects a request the provider would reject anyway, before it costs an attempt, rate-limit
 * budget or a breaker sample. Only structure is checked; the provider judges the content. The
 * error's `param` names the field, as OpenAI's own 400s do.
 *
 * @example
 * validateChatRequest({ messages: [] }, 'openai'); // throws bad_request, param 'messages'
 */
export function validateChatRequest(request: ChatCompletionRequest, upstream: string): void {
  const problem = findProblem(request);
  if (problem) {
    throw new LlmError('bad_request', `Invalid chat completion request: ${problem.text}.`, {
      upstream,
      param: problem.param,
      providerCode: problem.code,
      retryable: false,
    });
  }
}

function findProblem(request: ChatCompletionRequest): Problem | undefined {
  if (typeof request !== 'object' || request === null || Array.isArray(request)) {
    return {
      text: `the request must be an object; got ${describe(request)}`,
      code: 'invalid_type',
    };
  }
  // First: every later check, and the encoder, walks the request.
  const found = inspectRequest(request, LLM_REQUEST_BOUNDS.maxDepth);
  if (found === 'too_deep') {
    // The field at fault, as OpenAI's 400s name it: the top-level one whose value nests too deep.
    const param = Object.keys(request).find((key) =>
      exceedsDepth((request as Record<string, unknown>)[key], LLM_REQUEST_BOUNDS.maxDepth - 1),
    );
    return {
      param,
      text: `${param ? `'${param}'` : 'the request'} nests arrays and objects more than ${LLM_REQUEST_BOUNDS.maxDepth} levels deep`,
      code: 'invalid_value',
    };
  }
  const { messages, model } = request as Record<string, unknown>;
  if (Array.isArray(messages) && messages.length > LLM_REQUEST_BOUNDS.maxMessages) {
    return {
      param: 'messages',
      text: `'messages' may hold at most ${LLM_REQUEST_BOUNDS.maxMessages} messages; got ${messages.length}`,
      code: 'array_above_max_length',
    };
  }
  if (!Array.isArray(messages) || messages.length === 0) {
    return {
      param: 'messages',
      text:
        `'messages' must be a non-empty array of messages such as [{"role":"user","content":"Hi"}]; ` +
        `got ${describe(messages)}`,
      code:
        messages === undefined
          ? 'missing_required_parameter'
          : Array.isArray(messages)
            ? 'empty_array'
            : 'invalid_type',
    };
  }
  for (let i = 0; i < messages.length; i++) {
    const message: unknown = messages[i];
    if (typeof message !== 'object' || message === null || Array.isArray(message)) {
      const param = `messages[${i}]`;
      return {
        param,
        text: `'${param}' must be an object with a 'role'; got ${describe(message)}`,
        code: 'invalid_type',
      };
    }
    const role = (message as Record<string, unknown>).role;
    if (typeof role !== 'string' || role.length === 0) {
      const param = `messages[${i}].role`;
      return {
        param,
        text: `'${param}' must be a string such as 'user'; got ${describe(role)}`,
        code:
          role === undefined
            ? 'missing_required_parameter'
            : role === ''
              ? 'invalid_value'
              : 'invalid_type',
      };
    }
  }
  if (model !== undefined && (typeof model !== 'string' || model === '')) {
    return {
      param: 'model',
      text: `'model' must be a non-empty string; got ${describe(model)}`,
      code: model === '' ? 'invalid_value' : 'invalid_type',
    };
  }
  const modelProblem = typeof model === 'string' ? modelNameProblem(model) : undefined;
  if (modelProblem) return { param: 'model', text: modelProblem, code: 'invalid_value' };
  const unsendable = found === 'non_finite' ? nonFinitePath(request) : undefined;
  if (unsendable) {
    return {
      param: unsendable,
      text:
        `'${unsendable}' must be a finite number; got one JSON cannot carry (a literal such as ` +
        '1e400 reads as Infinity, which would reach the provider as null)',
      code: 'invalid_value',
    };
  }
  for (const field of COUNT_FIELDS) {
    const value: unknown = request[field];
    if (
      value !== undefined &&
      value !== null &&
      !(Number.isInteger(value) && (value as number) >= 1)
    ) {
      return {
        param: field,
        text: `'${field}' must be a positive integer; got ${describe(value)}`,
        // OpenAI's words: a number below 1 is out of range, anything else the wrong type.
        code: Number.isInteger(value) ? 'integer_below_min_value' : 'invalid_type',
      };
    }
  }
  return undefined;
}

/**
 * The path of the first number in the request that is not finite, as providers name fields
 * (`messages[0].content`, `tools[0].function.parameters.maximum`). Walked only once one was found
 * (see inspectRequest), within the depth already checked.
 */
function nonFinitePath(request: object): string | undefined {
  const pending: [unknown, string][] = [[request, '']];
  while (pending.length > 0) {
    const [value, path] = pending.pop()!;
    if (typeof value === 'number') {
      if (!Number.isFinite(value)) return path;
    } else if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--) pending.push([value[i], `${path}[${i}]`]);
    } else if (typeof value === 'object' && value !== null) {
      const keys = Object.keys(value).reverse();
      for (const key of keys) {
        pending.push([(value as Record<string, unknown>)[key], path ? `${path}.${key}` : key]);
      }
    }
  }
  return undefined;
}

/** Fields that hold a count: a positive integer when given. */
const COUNT_FIELDS = ['max_tokens', 'max_completion_tokens', 'n'] as const;

/** A short description of a wrong value: it may be a whole prompt sent in the wrong field. */
function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return value.length === 0 ? 'an empty array' : 'an array';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'number') return `number ${String(value)}`;
  // Cut before encoding: the value may be megabytes long.
  const text =
    JSON.stringify(typeof value === 'string' ? value.slice(0, 41) : value) ?? typeof value;
  return `${typeof value} ${text.length > 40 ? `${text.slice(0, 40)}...` : text}`;
}
