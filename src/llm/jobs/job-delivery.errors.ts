import { LlmError } from '../resilience/llm.errors';
import type { LlmJobMessage } from './llm-job.types';

/** A job still in the queue at its deadline: it is failed, never sent. */
export function queuedPastDeadlineError(
  job: Pick<LlmJobMessage, 'id' | 'enqueuedAt' | 'deadlineAt'>,
  now: number,
): LlmError {
  return new LlmError(
    'deadline_exceeded',
    `Job '${job.id}' waited ${seconds(now - job.enqueuedAt)} in the queue, past its deadline ` +
      `(${seconds(job.deadlineAt - job.enqueuedAt)}); it was not run. Give jobs a longer ` +
      'deadlineMs, or run more workers.',
    { retryable: false },
  );
}

/** A job whose workers kept dying while running it: dead-lettered rather than run again. */
export function crashLoopError(job: LlmJobMessage, deliveries: number, crashed: number): LlmError {
  return new LlmError(
    'server_error',
    `Job '${job.id}' was delivered ${deliveries} times and its worker stopped during ${crashed} ` +
      "of them; it was dead-lettered instead of being run again. Check the workers' logs.",
    { retryable: false },
  );
}

/** The job a message carries, or undefined when the body is no job. */
export function parseJobMessage(content: Buffer): LlmJobMessage | undefined {
  try {
    const job = JSON.parse(content.toString('utf8')) as Partial<LlmJobMessage>;
    const valid =
      typeof job.id === 'string' &&
      typeof job.enqueuedAt === 'number' &&
      typeof job.deadlineAt === 'number' &&
      typeof job.request === 'object' &&
      job.request !== null;
    return valid ? ({ context: {}, ...job } as LlmJobMessage) : undefined;
  } catch {
    return undefined;
  }
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}
