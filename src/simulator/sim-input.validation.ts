/**
 * A step, config or outage the simulator cannot act on. `field` names the offending field
 * (`steps[1].status`), so the control API can answer a 400 that says what to fix.
 */
export class SimValidationError extends Error {
  override readonly name = 'SimValidationError';

  constructor(
    readonly field: string,
    expectation: string,
  ) {
    super(`${field} ${expectation}`);
  }
}

/** A plain JSON object. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Throws unless `value` is an object whose keys are all in `allowed` (typos fail loudly). */
export function expectObject(
  value: unknown,
  field: string,
  allowed: readonly string[],
): Record<string, unknown> {
  if (!isRecord(value)) throw new SimValidationError(field, 'must be an object');
  const unknownKey = Object.keys(value).find((key) => !allowed.includes(key));
  if (unknownKey !== undefined) {
    const path = `${field}.${unknownKey}`;
    throw new SimValidationError(path, `is not a known field; use one of ${allowed.join(', ')}`);
  }
  return value;
}

/** Throws unless `value` is absent or a finite number >= `min` (an integer when asked). */
export function expectNumber(
  value: unknown,
  field: string,
  { min = 0, integer = false, max = Number.MAX_SAFE_INTEGER } = {},
): void {
  if (value === undefined) return;
  const ok =
    typeof value === 'number' &&
    Number.isFinite(value) &&
    value >= min &&
    value <= max &&
    (!integer || Number.isInteger(value));
  if (!ok) {
    const kind = integer ? 'an integer' : 'a number';
    const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `from ${min} to ${max}`;
    throw new SimValidationError(field, `must be ${kind} ${range}`);
  }
}

/** Throws unless `value` is absent or a string. */
export function expectString(value: unknown, field: string): void {
  if (value !== undefined && typeof value !== 'string') {
    throw new SimValidationError(field, 'must be a string');
  }
}

/** Throws unless `value` is absent or an array of strings (non-empty when `nonEmpty`). */
export function expectStringArray(value: unknown, field: string, nonEmpty = false): void {
  if (value === undefined) return;
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) {
    throw new SimValidationError(field, 'must be an array of strings');
  }
  if (nonEmpty && value.length === 0) throw new SimValidationError(field, 'must not be empty');
}

/** Throws unless `value` is absent or an object of string header values. */
export function expectHeaders(value: unknown, field: string): void {
  if (value === undefined) return;
  if (!isRecord(value)) throw new SimValidationError(field, 'must be an object of header values');
  for (const [name, headerValue] of Object.entries(value)) {
    if (typeof headerValue !== 'string') {
      throw new SimValidationError(`${field}.${name}`, 'must be a string');
    }
  }
}

/** Throws unless `value` is absent or one of `allowed`. */
export function expectOneOf(value: unknown, field: string, allowed: readonly string[]): void {
  if (value === undefined) return;
  if (typeof value !== 'string' || !allowed.includes(value)) {
    throw new SimValidationError(field, `must be one of ${allowed.join(', ')}`);
  }
}
