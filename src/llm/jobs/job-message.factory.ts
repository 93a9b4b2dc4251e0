import { randomUUID } from 'node:crypto';
import type { ChatCompletionRequest } from '../call/chat.types';
import { validateChatRequest } from '../client/validate-chat-request';
import { currentLlmContext } from '../observability/llm-context.storage';
import { isLlmError } from '../resilience/llm.errors';
import { invalidJob } from './llm-jobs.errors';
import type { LlmJobMessage, LlmJobOptions, LlmJobRecord } from './llm-job.types';
import type { ResolvedLlmJobsOptions } from './llm-jobs.options';

/**
 * The message of a new job, checked before anything is sent: the deadline within
 * `maxDeadlineMs`, no streaming, a known upstream and a valid chat request (the same check a
 * synchronous call makes), so a job that can never run is refused at once. Business context
 * comes from the options, else from the active request.
 *
 * @throws LlmJobsError `LLM_JOB_INVALID` naming the field at fault
 */
export function buildJobMessage(
  request: ChatCompletionRequest,
  options: LlmJobOptions,
  config: ResolvedLlmJobsOptions,
  upstreamNames: string[],
): LlmJobMessage {
  const deadlineMs = options.deadlineMs ?? config.defaultDeadlineMs;
  if (!Number.isFinite(deadlineMs) || deadlineMs <= 0 || deadlineMs > config.maxDeadlineMs) {
    throw invalidJob(
      'deadlineMs',
      `The job deadline must be between 1 and ${config.maxDeadlineMs} ms (maxDeadlineMs), got ${String(deadlineMs)}.`,
    );
  }
  if (request.stream === true) {
    throw invalidJob('stream', 'A job cannot stream: send it without "stream": true.');
  }
  validate(request, options.upstream, upstreamNames);
  const ambient = currentLlmContext();
  const now = Date.now();
  return {
    id: randomUUID(),
    request,
    ...(options.upstream === undefined ? {} : { upstream: options.upstream }),
    ...(options.owner === undefined ? {} : { owner: options.owner }),
    context: compact({
      userId: options.userId ?? ambient?.userId,
      featureName: options.featureName ?? ambient?.featureName,
      requestId: options.requestId ?? ambient?.requestId,
    }),
    enqueuedAt: now,
    deadlineAt: now + deadlineMs,
  };
}

/** The state a job starts in. */
export function queuedRecord(message: LlmJobMessage): LlmJobRecord {
  return {
    id: message.id,
    state: 'queued',
    ...(message.owner === undefined ? {} : { owner: message.owner }),
    context: message.context,
    enqueuedAt: message.enqueuedAt,
    deadlineAt: message.deadlineAt,
    delays: 0,
  };
}

function validate(
  request: ChatCompletionRequest,
  upstream: string | undefined,
  upstreamNames: string[],
): void {
  const name = upstream ?? upstreamNames[0]!;
  if (!upstreamNames.includes(name)) {
    throw invalidJob(
      'upstream',
      `Unknown upstream '${name}'. Configured upstreams: ${upstreamNames.join(', ')}.`,
    );
  }
  try {
    validateChatRequest(request, name);
  } catch (error) {
    const param = isLlmError(error) ? (error.param ?? 'messages') : 'messages';
    throw invalidJob(param, error instanceof Error ? error.message : String(error));
  }
}

function compact<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, field]) => field !== undefined)) as T;
}
