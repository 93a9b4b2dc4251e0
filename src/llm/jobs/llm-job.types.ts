import type {
  ChatCompletion,
  ChatCompletionRequest,
  LlmCallContext,
  LlmCallMetadata,
} from '../call/chat.types';
import type { LlmErrorKind } from '../resilience/llm.errors';

/** Where a job is: waiting in the queue, run by a worker, or ended (the last three). */
export type LlmJobState = 'queued' | 'running' | 'completed' | 'failed' | 'cancelled';

/** The states a job never leaves. */
export const TERMINAL_JOB_STATES: ReadonlySet<LlmJobState> = new Set<LlmJobState>([
  'completed',
  'failed',
  'cancelled',
]);

/** An {@link LlmError} as a job stores it: plain data, the same fields a caller switches on. */
export interface LlmJobError {
  kind: LlmErrorKind;
  code: string;
  message: string;
  retryable: boolean;
  status?: number;
  attempts: number;
  retryAfterMs?: number;
  upstream?: string;
  model?: string;
  providerCode?: string;
  param?: string;
  requestId?: string;
}

/** Business context of a job: who it is for and which feature asked (never its owner's secret). */
export type LlmJobContext = Pick<LlmCallContext, 'userId' | 'featureName' | 'requestId'>;

/**
 * What the state store keeps of a job. One document per job, rewritten whole at each step: the
 * message in the queue carries the request, the store only what a reader asks for.
 */
export interface LlmJobRecord {
  id: string;
  state: LlmJobState;
  /** Opaque identity of the caller that created the job; only that caller may read or cancel it. */
  owner?: string;
  context: LlmJobContext;
  /** Epoch ms. */
  enqueuedAt: number;
  /** Epoch ms after which the job fails with `deadline_exceeded` instead of running. */
  deadlineAt: number;
  /** Epoch ms of the last run's start. */
  startedAt?: number;
  /** Epoch ms of the end (completed, failed or cancelled). */
  endedAt?: number;
  /** Times the job was put back in the queue to wait (rate limit, open circuit, failure). */
  delays: number;
  /** Epoch ms before which a delayed job will not run. */
  notBefore?: number;
  completion?: ChatCompletion;
  metadata?: LlmCallMetadata;
  /** The error of the failed job, or of the last failed run of one that waits to run again. */
  error?: LlmJobError;
  /** True when the job also went to the dead-letter queue (it kept failing). */
  deadLettered?: boolean;
}

/** A job as {@link LlmJobs} reports it. */
export interface LlmJob extends LlmJobRecord {
  /** Runs the job started (deliveries by the broker, redeliveries after a crash included). */
  deliveries: number;
  /** For a queued job: 1 for the next job a worker takes, as far as the store knows. */
  position?: number;
  /** Milliseconds since the job was enqueued. */
  ageMs: number;
}

/** What {@link LlmJobs.enqueue} takes besides the request. */
export interface LlmJobOptions extends LlmJobContext {
  /**
   * How long the job may take in all, queue wait included, ms; past it the job fails with
   * `deadline_exceeded` rather than run late. @default LlmJobsOptions.defaultDeadlineMs (1 hour)
   */
  deadlineMs?: number;
  /** Upstream to call, by name. @default the module's default upstream */
  upstream?: string;
  /** Identity of the caller (e.g. a hash of its credentials); reads and cancels must match it. */
  owner?: string;
}

/** The message a job is in the queue: everything a worker needs, the request included. */
export interface LlmJobMessage {
  id: string;
  request: ChatCompletionRequest;
  upstream?: string;
  owner?: string;
  context: LlmJobContext;
  enqueuedAt: number;
  deadlineAt: number;
  /** W3C `traceparent` of the enqueue span, so the worker's span links to it. */
  traceparent?: string;
}
