import {
  parseChatOptions,
  type SimResponseFormat,
  type SimToolChoice,
} from './chat-options.parser';
import type { OpenAiErrorInit } from './openai-error.body';
import { parseSampling } from './sampling.parser';
import { isRecord } from './sim-input.validation';

/** The parts of a chat-completions request the simulator acts on. */
export interface ChatRequest {
  model?: string;
  messages: unknown[];
  stream: boolean;
  /** `stream_options.include_usage`: a last chunk with `choices: []` and `usage`. */
  includeUsage: boolean;
  /**
   * `max_completion_tokens` or `max_tokens`: counted by the TPM check, and each choice is cut
   * there (`finish_reason: 'length'`).
   */
  maxTokens?: number;
  /** `stop`: the text of each choice ends before the first of these. */
  stop: string[];
  /** `logprobs: true`: each content token's log probability, with this many `top_logprobs`. */
  topLogprobs?: number;
  /** `n`: how many choices the reply has (1 to 128). */
  choices: number;
  /** The function every choice calls, when `tool_choice` asks for one. */
  toolCall?: SimToolChoice;
  /** `response_format` asking for JSON content. */
  responseFormat?: SimResponseFormat;
}

/**
 * Validates a request body the way OpenAI does before any work: JSON object, non-empty
 * `messages`, each an object with one of OpenAI's roles, then `n`, `response_format`, `tools` and
 * `tool_choice` (`chat-options.parser.ts`). Returns the error to answer with a 400 otherwise.
 *
 * @example
 * parseChatRequest({ model: 'gpt-4o', messages: [] }); // { message: "Invalid 'messages': ...", ... }
 */
export function parseChatRequest(body: unknown): ChatRequest | OpenAiErrorInit {
  if (!isRecord(body)) {
    return {
      message:
        'We could not parse the JSON body of your request. (HINT: This likely means you are not ' +
        'using your HTTP library correctly. The OpenAI API expects a JSON payload.)',
      type: 'invalid_request_error',
      code: null,
    };
  }
  const { messages, model, stream, stream_options: streamOptions } = body;
  if (messages === undefined) {
    const message = "Missing required parameter: 'messages'.";
    return {
      message,
      type: 'invalid_request_error',
      param: 'messages',
      code: 'missing_required_parameter',
    };
  }
  if (!Array.isArray(messages) || messages.length === 0) {
    const message = "Invalid 'messages': expected a non-empty array of messages.";
    return { message, type: 'invalid_request_error', param: 'messages', code: 'invalid_value' };
  }
  const messageProblem = findMessageProblem(messages);
  if (messageProblem) return messageProblem;
  const options = parseChatOptions(body);
  if (!('choices' in options)) return options;
  const sampling = parseSampling(body);
  if (!('stop' in sampling)) return sampling;
  const { maxTokens, stop, topLogprobs } = sampling;
  return {
    model: typeof model === 'string' && model !== '' ? model : undefined,
    messages,
    stream: stream === true,
    includeUsage:
      stream === true && isRecord(streamOptions) && streamOptions.include_usage === true,
    maxTokens,
    stop,
    ...(topLogprobs !== undefined ? { topLogprobs } : {}),
    choices: options.choices,
    ...(options.toolCall ? { toolCall: options.toolCall } : {}),
    ...(options.responseFormat ? { responseFormat: options.responseFormat } : {}),
  };
}

/** The roles OpenAI's chat completions accept, in the order its error message lists them. */
const ROLES = ['system', 'assistant', 'user', 'function', 'tool', 'developer'];
const ROLE_LIST = `${ROLES.slice(0, -1)
  .map((r) => `'${r}'`)
  .join(', ')}, and '${ROLES.at(-1)}'`;

/** OpenAI's 400 for the first message that is not an object with a known role, if any. */
function findMessageProblem(messages: readonly unknown[]): OpenAiErrorInit | undefined {
  for (let i = 0; i < messages.length; i++) {
    const message = messages[i];
    if (!isRecord(message)) {
      const got =
        message === null ? 'null' : Array.isArray(message) ? 'an array' : `a ${typeof message}`;
      return {
        message: `Invalid type for 'messages[${i}]': expected an object, but got ${got} instead.`,
        type: 'invalid_request_error',
        param: `messages[${i}]`,
        code: 'invalid_type',
      };
    }
    const param = `messages[${i}].role`;
    if (message.role === undefined) {
      const text = `Missing required parameter: '${param}'.`;
      return {
        message: text,
        type: 'invalid_request_error',
        param,
        code: 'missing_required_parameter',
      };
    }
    if (typeof message.role !== 'string' || !ROLES.includes(message.role)) {
      // Only a short, printable role is echoed: the error body stays small whatever was sent.
      const shown =
        typeof message.role === 'string' && /^[\w-]{1,32}$/.test(message.role)
          ? `'${message.role}'`
          : 'the given value';
      return {
        message: `Invalid value: ${shown}. Supported values are: ${ROLE_LIST}.`,
        type: 'invalid_request_error',
        param,
        code: 'invalid_value',
      };
    }
  }
  return undefined;
}

/** Tells a parsed request from the error `parseChatRequest` returns. */
export function isChatRequest(value: ChatRequest | OpenAiErrorInit): value is ChatRequest {
  return 'messages' in value;
}

/** The text of one message: a string, or the `text` parts of a content array. */
export function messageText(message: unknown): string {
  if (!isRecord(message)) return '';
  const { content } = message;
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .map((part) => (isRecord(part) && typeof part.text === 'string' ? part.text : ''))
    .join('');
}

/** The last message whose role is `user`, as text ('' when there is none). */
export function lastUserText(messages: readonly unknown[]): string {
  const last = [...messages].reverse().find((m) => isRecord(m) && m.role === 'user');
  return messageText(last);
}
