import type { OpenAiErrorInit } from './openai-error.body';
import { arrayTooLong, invalidParam, numberProblem, typeName } from './param-errors';
import { isRecord } from './sim-input.validation';

/** The function a reply calls, chosen by `tool_choice` from `tools`. */
export interface SimToolChoice {
  name: string;
  /** The function's JSON Schema `parameters`, as sent (the call's arguments are an example of it). */
  parameters?: unknown;
}

/** `response_format` asking for JSON: any object, or one that fits `schema`. */
export type SimResponseFormat = { type: 'json_object' } | { type: 'json_schema'; schema: unknown };

/** `n`, the tool to call and the response format, once validated. */
export interface ChatOptions {
  choices: number;
  toolCall?: SimToolChoice;
  responseFormat?: SimResponseFormat;
}

/** OpenAI's limits on `n` and on the length of `tools`. */
const MAX_CHOICES = 128;
const MAX_TOOLS = 128;

/**
 * Validates `n`, `response_format`, `tools` and `tool_choice` as OpenAI does, and picks the
 * function to call: one is called only when `tool_choice` asks for it (`'required'`: the first tool; `{ type: 'function',
 * function: { name } }`: that one). With `'auto'` (the default) or `'none'` the reply is text, so
 * a test decides, not chance.
 *
 * @example
 * parseChatOptions({ n: 2 }); // { choices: 2 }
 */
export function parseChatOptions(body: Record<string, unknown>): ChatOptions | OpenAiErrorInit {
  const choices = parseChoices(body.n);
  if (typeof choices !== 'number') return choices;
  const format = parseResponseFormat(body.response_format, body.messages);
  if (format !== undefined && !isFormat(format)) return format;
  const options: ChatOptions = { choices, ...(format ? { responseFormat: format } : {}) };
  const tools = parseTools(body.tools);
  if (!Array.isArray(tools)) return tools;
  const choice = body.tool_choice;
  if (choice === undefined || choice === null || choice === 'auto' || choice === 'none') {
    return options;
  }
  if (tools.length === 0) {
    const message =
      "Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are specified.";
    return invalidParam(message, 'tool_choice', null);
  }
  if (choice === 'required') return { ...options, toolCall: tools[0] };
  const named = isRecord(choice) && isRecord(choice.function) ? choice.function.name : undefined;
  if (typeof named !== 'string') {
    const message =
      "Invalid value for 'tool_choice': expected 'none', 'auto', 'required' or " +
      "{ type: 'function', function: { name } }.";
    return invalidParam(message, 'tool_choice', 'invalid_value');
  }
  const toolCall = tools.find((tool) => tool.name === named);
  if (!toolCall) {
    const message = "Invalid value for 'tool_choice': the function it names is not one of 'tools'.";
    return invalidParam(message, 'tool_choice.function.name', 'invalid_value');
  }
  return { ...options, toolCall };
}

const isFormat = (value: SimResponseFormat | OpenAiErrorInit): value is SimResponseFormat =>
  value.type === 'json_object' || value.type === 'json_schema';

const FORMATS = "'json_object', 'json_schema', and 'text'";

/**
 * `response_format`, as OpenAI checks it: `text` (the default), `json_object` (whose messages
 * must say "json" somewhere), or `json_schema` with its `json_schema.schema`.
 */
function parseResponseFormat(
  format: unknown,
  messages: unknown,
): SimResponseFormat | OpenAiErrorInit | undefined {
  if (format === undefined || format === null) return undefined;
  if (!isRecord(format)) {
    const message = `Invalid type for 'response_format': expected an object, but got ${typeName(format)} instead.`;
    return invalidParam(message, 'response_format', 'invalid_type');
  }
  switch (format.type) {
    case 'text':
      return undefined;
    case 'json_object':
      if (!/json/i.test(JSON.stringify(messages))) {
        const message =
          "'messages' must contain the word 'json' in some form, to use 'response_format' of type 'json_object'.";
        return invalidParam(message, 'messages', null);
      }
      return { type: 'json_object' };
    case 'json_schema': {
      const spec = format.json_schema;
      if (!isRecord(spec)) {
        const param = 'response_format.json_schema';
        return invalidParam(
          `Missing required parameter: '${param}'.`,
          param,
          'missing_required_parameter',
        );
      }
      if (typeof spec.name !== 'string') {
        const param = 'response_format.json_schema.name';
        return invalidParam(
          `Missing required parameter: '${param}'.`,
          param,
          'missing_required_parameter',
        );
      }
      return { type: 'json_schema', schema: spec.schema ?? { type: 'object' } };
    }
    default: {
      const shown =
        typeof format.type === 'string' && /^[\w-]{1,32}$/.test(format.type)
          ? `'${format.type}'`
          : 'the given value';
      const message = `Invalid value: ${shown}. Supported values are: ${FORMATS}.`;
      return invalidParam(message, 'response_format.type', 'invalid_value');
    }
  }
}

function parseChoices(n: unknown): number | OpenAiErrorInit {
  if (n === undefined || n === null) return 1;
  return numberProblem('n', n, 'integer', 1, MAX_CHOICES) ?? (n as number);
}

function parseTools(tools: unknown): SimToolChoice[] | OpenAiErrorInit {
  if (tools === undefined || tools === null) return [];
  if (!Array.isArray(tools)) {
    const message = `Invalid type for 'tools': expected an array, but got ${typeName(tools)} instead.`;
    return invalidParam(message, 'tools', 'invalid_type');
  }
  if (tools.length === 0) {
    const message =
      "Invalid 'tools': empty array. Expected an array with minimum length 1, but got an empty array instead.";
    return invalidParam(message, 'tools', 'empty_array');
  }
  if (tools.length > MAX_TOOLS) return arrayTooLong('tools', MAX_TOOLS, tools.length);
  const parsed: SimToolChoice[] = [];
  for (let i = 0; i < tools.length; i++) {
    const tool: unknown = tools[i];
    const fn = isRecord(tool) ? tool.function : undefined;
    const name = isRecord(fn) ? fn.name : undefined;
    if (typeof name !== 'string' || !/^[\w-]{1,64}$/.test(name)) {
      const param = `tools[${i}].function.name`;
      if (name === undefined) {
        return invalidParam(
          `Missing required parameter: '${param}'.`,
          param,
          'missing_required_parameter',
        );
      }
      const message = `Invalid '${param}': expected a string of letters, digits, '_' and '-', at most 64 long.`;
      return invalidParam(message, param, 'invalid_value');
    }
    parsed.push({ name, parameters: isRecord(fn) ? fn.parameters : undefined });
  }
  return parsed;
}
