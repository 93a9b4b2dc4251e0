import { LlmError } from '../resilience/llm.errors';

/**
 * A call option `deadlineMs` that is not a positive number of milliseconds.
 *
 * @example
 * throw badDeadlineError(-1, 'openai'); // kind 'bad_request', param 'deadlineMs'
 */
export function badDeadlineError(deadlineMs: unknown, upstream: string): LlmError {
  return new LlmError(
    'bad_request',
    `The call option deadlineMs must be a positive number of milliseconds, got ${String(deadlineMs)}.`,
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
