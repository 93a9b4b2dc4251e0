import { isLlmError, LlmError } from '../resilience/llm.errors';
import type { LlmJobError } from './llm-job.types';

/** An error as a job stores it: the LlmError's fields, or `server_error` for anything else. */
export function toJobError(error: unknown): LlmJobError {
  if (isLlmError(error)) {
    return strip({
      kind: error.kind,
      code: error.code,
      message: error.message,
      retryable: error.retryable,
      status: error.status,
      attempts: error.attempts,
      retryAfterMs: error.retryAfterMs,
      upstream: error.upstream,
      model: error.model,
      providerCode: error.providerCode,
      param: error.param,
      requestId: error.requestId,
    });
  }
  // Not from the call path (a bug, a worker problem): retryable, without echoing details.
  return toJobError(
    new LlmError(
      'server_error',
      'The job worker failed unexpectedly; the job will be tried again.',
      {
        retryable: true,
      },
    ),
  );
}

/** A job error as it would be thrown: for callers that `await` a failed job. */
export function fromJobError(error: LlmJobError): LlmError {
  return new LlmError(error.kind, error.message, error);
}

function strip(error: LlmJobError): LlmJobError {
  return Object.fromEntries(
    Object.entries(error).filter(([, value]) => value !== undefined),
  ) as unknown as LlmJobError;
}
