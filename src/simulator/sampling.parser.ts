import type { OpenAiErrorInit } from './openai-error.body';
import { arrayTooLong, invalidParam, numberProblem, typeName } from './param-errors';

/** What the sampling parameters change in a reply, once validated. */
export interface SimSampling {
  /** `max_completion_tokens` or `max_tokens`: each choice is cut there (`finish_reason: 'length'`). */
  maxTokens?: number;
  /** `stop`: the text of each choice ends before the first of these (at most 4). */
  stop: string[];
  /** `logprobs: true`: how many `top_logprobs` each token has (0 to 20). */
  topLogprobs?: number;
}

/** OpenAI's bounds of the decimal sampling parameters. */
const DECIMAL_RANGES: ReadonlyArray<[string, number, number]> = [
  ['temperature', 0, 2],
  ['top_p', 0, 1],
  ['frequency_penalty', -2, 2],
  ['presence_penalty', -2, 2],
];
const MAX_STOP = 4;
const MAX_TOP_LOGPROBS = 20;

/**
 * Validates the sampling parameters as OpenAI does (`temperature`, `top_p`, the penalties, the
 * token limits, `stop`, `logprobs`, `top_logprobs`), naming the one at fault; `null` is the same
 * as leaving one out. The ones that shape a reply are returned.
 *
 * @example
 * parseSampling({ max_tokens: 5, stop: 'END' }); // { maxTokens: 5, stop: ['END'] }
 */
export function parseSampling(body: Record<string, unknown>): SimSampling | OpenAiErrorInit {
  for (const [param, min, max] of DECIMAL_RANGES) {
    const value = body[param];
    const problem =
      value === undefined || value === null
        ? undefined
        : numberProblem(param, value, 'decimal', min, max);
    if (problem) return problem;
  }
  let maxTokens: number | undefined;
  for (const param of ['max_tokens', 'max_completion_tokens']) {
    const value = body[param];
    if (value === undefined || value === null) continue;
    const problem = numberProblem(param, value, 'integer', 1);
    if (problem) return problem;
    // `max_completion_tokens` wins when both are given: it is the one OpenAI documents now.
    maxTokens = value as number;
  }
  const stop = parseStop(body.stop);
  if (!Array.isArray(stop)) return stop;
  const topLogprobs = parseLogprobs(body.logprobs, body.top_logprobs);
  if (typeof topLogprobs === 'object') return topLogprobs;
  return {
    ...(maxTokens !== undefined ? { maxTokens } : {}),
    stop,
    ...(topLogprobs !== undefined ? { topLogprobs } : {}),
  };
}

/** `stop`: a string or up to 4 of them; empty strings stop nothing and are left out. */
function parseStop(stop: unknown): string[] | OpenAiErrorInit {
  if (stop === undefined || stop === null) return [];
  if (typeof stop === 'string') return stop === '' ? [] : [stop];
  if (!Array.isArray(stop)) {
    const message = `Invalid type for 'stop': expected a string or an array of strings, but got ${typeName(stop)} instead.`;
    return invalidParam(message, 'stop', 'invalid_type');
  }
  if (stop.length > MAX_STOP) return arrayTooLong('stop', MAX_STOP, stop.length);
  const sequences: string[] = [];
  for (let i = 0; i < stop.length; i++) {
    const sequence: unknown = stop[i];
    if (typeof sequence !== 'string') {
      const message = `Invalid type for 'stop[${i}]': expected a string, but got ${typeName(sequence)} instead.`;
      return invalidParam(message, `stop[${i}]`, 'invalid_type');
    }
    if (sequence !== '') sequences.push(sequence);
  }
  return sequences;
}

/** How many `top_logprobs` each token gets when `logprobs` is on; undefined when it is off. */
function parseLogprobs(logprobs: unknown, top: unknown): number | undefined | OpenAiErrorInit {
  if (logprobs !== undefined && logprobs !== null && typeof logprobs !== 'boolean') {
    const message = `Invalid type for 'logprobs': expected a boolean, but got ${typeName(logprobs)} instead.`;
    return invalidParam(message, 'logprobs', 'invalid_type');
  }
  if (top === undefined || top === null) return logprobs === true ? 0 : undefined;
  const problem = numberProblem('top_logprobs', top, 'integer', 0, MAX_TOP_LOGPROBS);
  if (problem) return problem;
  if (logprobs !== true) {
    const message =
      "Invalid value for 'top_logprobs': 'logprobs' must be true to use 'top_logprobs'.";
    return invalidParam(message, 'top_logprobs', 'invalid_value');
  }
  return top as number;
}
