import type { OpenAiErrorInit } from './openai-error.body';

/** OpenAI's 400 for a request parameter: `invalid_request_error` naming `param`. */
export function invalidParam(message: string, param: string, code: string | null): OpenAiErrorInit {
  return { message, type: 'invalid_request_error', param, code };
}

/** How OpenAI names a JSON value's type in its errors: 'a string', 'a decimal', 'null'. */
export function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'an integer' : 'a decimal';
  if (typeof value === 'object') return 'an object';
  return `a ${typeof value}`;
}

/**
 * OpenAI's 400 for a number parameter of the wrong type (`invalid_type`) or outside `[min, max]`
 * (`integer_below_min_value`, `decimal_above_max_value`, ...), with its message; undefined when
 * `value` is fine.
 *
 * @example
 * numberProblem('temperature', 3, 'decimal', 0, 2)?.code; // 'decimal_above_max_value'
 */
export function numberProblem(
  param: string,
  value: unknown,
  kind: 'integer' | 'decimal',
  min: number,
  max = Infinity,
): OpenAiErrorInit | undefined {
  const fits = kind === 'integer' ? Number.isInteger(value) : Number.isFinite(value);
  if (typeof value !== 'number' || !fits) {
    const expected = kind === 'integer' ? 'an integer' : 'a decimal';
    const message = `Invalid type for '${param}': expected ${expected}, but got ${typeName(value)} instead.`;
    return invalidParam(message, param, 'invalid_type');
  }
  if (value < min) {
    const message = `Invalid '${param}': ${kind} below minimum value. Expected a value >= ${min}, but got ${value} instead.`;
    return invalidParam(message, param, `${kind}_below_min_value`);
  }
  if (value > max) {
    const message = `Invalid '${param}': ${kind} above maximum value. Expected a value <= ${max}, but got ${value} instead.`;
    return invalidParam(message, param, `${kind}_above_max_value`);
  }
  return undefined;
}

/** OpenAI's 400 for an array parameter longer than `max`. */
export function arrayTooLong(param: string, max: number, length: number): OpenAiErrorInit {
  const message = `Invalid '${param}': array too long. Expected an array with maximum length ${max}, but got an array with length ${length} instead.`;
  return invalidParam(message, param, 'array_above_max_length');
}
