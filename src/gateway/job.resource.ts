import type { LlmJob } from '../llm/index';
import { fromJobError } from '../llm/index';
import { fromLlmError } from './llm-error.mapping';

/**
 * A job as `GET /v1/jobs/{id}` shows it. `status` is the job's state; a completed job carries the
 * chat completion as the synchronous call would have returned it, a failed one the error in
 * OpenAI's shape (with the gateway's `code`, e.g. `rate_limited`) plus the LlmError `kind`.
 */
export function jobResource(job: LlmJob): Record<string, unknown> {
  const seconds = (ms: number | undefined) =>
    ms === undefined ? undefined : Math.floor(ms / 1000);
  return strip({
    id: job.id,
    object: 'llm.job',
    status: job.state,
    created_at: seconds(job.enqueuedAt),
    deadline_at: seconds(job.deadlineAt),
    started_at: seconds(job.startedAt),
    ended_at: seconds(job.endedAt),
    age_ms: job.ageMs,
    position: job.position,
    deliveries: job.deliveries,
    delays: job.delays,
    not_before: job.state === 'queued' ? seconds(job.notBefore) : undefined,
    completion: job.completion,
    metadata: job.metadata,
    error:
      job.error && job.state === 'failed'
        ? { ...fromLlmError(fromJobError(job.error)).body.error, kind: job.error.kind }
        : undefined,
    dead_lettered: job.deadLettered,
  });
}

/** Seconds a client should wait before asking again about an unfinished job. */
export function retryAfterSeconds(job: LlmJob): number {
  if (job.state === 'queued' && job.notBefore !== undefined) {
    return Math.max(1, Math.ceil((job.notBefore - Date.now()) / 1000));
  }
  return job.state === 'queued' ? 2 : 1;
}

function strip(value: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(value).filter(([, field]) => field !== undefined));
}
