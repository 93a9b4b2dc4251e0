import { LlmError } from '../resilience/llm.errors';
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
