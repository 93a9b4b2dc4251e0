import { LlmError } from '../resilience/llm.errors';
import { suggestKey } from '../options/option-suggestions';
import { MAX_TIMER_MS } from '../resilience/timer-lists';

/**
 * A call option `deadlineMs` that is not a positive number of milliseconds.
 *
 * @example
 * throw badDeadlineError(-1, 'openai'); // kind 'bad_request', param 'deadlineMs'
 */
export function badDeadlineError(deadlineMs: unknown, upstream: string): LlmError {
  return new LlmError(
    'bad_request',
    `The call option deadlineMs must be a positive number of milliseconds, at most ${MAX_TIMER_MS} ` +
      `(Node's longest timer), got ${String(deadlineMs)}.`,
    { upstream, param: 'deadlineMs', retryable: false },
  );
}

/**
 * A call option `upstream` that names no configured upstream.
 *
 * @example
 * throw unknownUpstreamError('azur', ['openai', 'azure']);
 */
export function unknownUpstreamError(name: string | undefined, configured: string[]): LlmError {
  return new LlmError(
    'bad_request',
    `Unknown upstream '${name}'. Configured upstreams: ${configured.join(', ')}.`,
    { retryable: false },
  );
}

/**
 * Call options that are not an object, or a `signal` that is not an AbortSignal (from JavaScript
 * or `any` callers: TypeScript's types rule both out).
 *
 * @example
 * throw badCallOptionsError('signal', 'an AbortSignal', {});
 */
export function badCallOptionsError(param: string, expected: string, got: unknown): LlmError {
  const shape = got === null ? 'null' : Array.isArray(got) ? 'an array' : typeof got;
  return new LlmError(
    'bad_request',
    `The call option${param === 'options' ? 's' : ` ${param}`} must be ${expected}, got ${shape}.`,
    { param, retryable: false },
  );
}

/** The call options there are, and the type of each. */
const CALL_OPTION_TYPES: Readonly<Record<string, 'string' | 'number' | 'signal'>> = {
  signal: 'signal',
  deadlineMs: 'number',
  upstream: 'string',
  clientRequestId: 'string',
  userId: 'string',
  featureName: 'string',
  requestId: 'string',
  jobId: 'string',
  queueWaitMs: 'number',
};
const CALL_OPTION_NAMES = Object.keys(CALL_OPTION_TYPES);

/**
 * The first problem of call options, if any: an option that does not exist (a typo such as
 * `{ deadline: 5000 }` silently lost the deadline), or one of the wrong type (`featureName: 42`).
 * `undefined` and `null` values are "not set". Checked by name, not deeper: the deadline's range
 * and the signal's shape have errors of their own.
 *
 * @example
 * callOptionsProblem({ deadline: 5 }); // bad_request, param 'deadline': "did you mean deadlineMs?"
 */
export function callOptionsProblem(options: object): LlmError | undefined {
  for (const key in options) {
    const value: unknown = (options as Record<string, unknown>)[key];
    const type = Object.hasOwn(CALL_OPTION_TYPES, key) ? CALL_OPTION_TYPES[key] : undefined;
    if (type === undefined) {
      const close = suggestKey(key, CALL_OPTION_NAMES, {});
      return new LlmError(
        'bad_request',
        `'${key.slice(0, 64)}' is not a call option` +
          (close === undefined ? '' : `; did you mean ${close}?`) +
          ` The call options are ${CALL_OPTION_NAMES.join(', ')}.`,
        { param: key.slice(0, 64), retryable: false },
      );
    }
    if (value === undefined || value === null || type === 'signal') continue;
    if (typeof value !== type) {
      return badCallOptionsError(key, type === 'string' ? 'a string' : 'a number', value);
    }
  }
  return undefined;
}
