/** What went wrong with a job operation (not with the LLM call: that is an LlmError). */
export type LlmJobsErrorCode =
  /** The broker did not confirm the job: it was not enqueued. Retry later. */
  | 'LLM_JOBS_BROKER_UNAVAILABLE'
  /** The state store (Redis) did not answer: the job is safe in the queue, its state unknown now. */
  | 'LLM_JOBS_STATE_UNAVAILABLE'
  /** No job with that id for this caller (or its state expired). */
  | 'LLM_JOB_NOT_FOUND'
  /** The job cannot be accepted as given (bad deadline, bad request). */
  | 'LLM_JOB_INVALID';

const LLM_JOBS_ERROR_MARKER = Symbol.for('nestjs-resilient-llm.LlmJobsError');

/**
 * The error {@link LlmJobs} throws; switch on `code`.
 *
 * @example
 * try { await jobs.get(id) } catch (e) { if (isLlmJobsError(e) && e.code === 'LLM_JOB_NOT_FOUND') ... }
 */
export class LlmJobsError extends Error {
  readonly [LLM_JOBS_ERROR_MARKER] = true;

  constructor(
    readonly code: LlmJobsErrorCode,
    message: string,
    options: { cause?: unknown; param?: string } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'LlmJobsError';
    this.param = options.param;
  }

  /** The field at fault, for `LLM_JOB_INVALID`. */
  readonly param?: string;
}

/** True for any {@link LlmJobsError}, even one from another copy of this package. */
export function isLlmJobsError(error: unknown): error is LlmJobsError {
  return typeof error === 'object' && error !== null && LLM_JOBS_ERROR_MARKER in error;
}

export function brokerUnavailable(cause?: unknown): LlmJobsError {
  return new LlmJobsError(
    'LLM_JOBS_BROKER_UNAVAILABLE',
    'RabbitMQ did not accept the job (no connection or no publisher confirm); it was not enqueued. ' +
      'Retry in a few seconds, and check that the broker is up and reachable.',
    { cause },
  );
}

export function stateUnavailable(id: string, cause?: unknown): LlmJobsError {
  return new LlmJobsError(
    'LLM_JOBS_STATE_UNAVAILABLE',
    `The job state store (Redis) did not answer, so the state of job '${id}' is unknown right now. ` +
      'Accepted jobs are safe in the queue and keep running; their states are written when Redis is back. Retry in a few seconds.',
    { cause },
  );
}

export function jobNotFound(id: string): LlmJobsError {
  // The id is the caller's: shown only cut and printable, as no job id is longer than 64.

  const shown = id.slice(0, 64).replace(/[^\x20-\x7e]/g, '?') + (id.length > 64 ? '…' : '');
  return new LlmJobsError(
    'LLM_JOB_NOT_FOUND',
    `No job '${shown}' for this caller: the id is wrong, the job belongs to another caller, or its state expired.`,
  );
}

export function invalidJob(param: string, message: string): LlmJobsError {
  return new LlmJobsError('LLM_JOB_INVALID', message, { param });
}
