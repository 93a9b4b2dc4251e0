import { Injectable } from '@nestjs/common';
import { context, trace } from '@opentelemetry/api';
import type { ChatCompletionRequest } from '../call/chat.types';
import { LlmClient } from '../client/llm-client';
import { LLM_TRACER_NAME } from '../observability/llm-tracing';
import { queuedPastDeadlineError } from './job-delivery.errors';
import { buildJobMessage, queuedRecord } from './job-message.factory';
import { startSendSpan } from './job-send.span';
import { StoredJob } from './job-state.store';
import { toTraceparent } from './job-trace.context';
import { toJobError } from './llm-job.error';
import { brokerUnavailable, jobNotFound, stateUnavailable } from './llm-jobs.errors';
import { LlmJob, LlmJobOptions, TERMINAL_JOB_STATES } from './llm-job.types';
import { LlmJobsRuntime } from './llm-jobs.runtime';

/** Who asks: reads and cancels only see the jobs their `owner` created. */
export interface LlmJobAccess {
  owner?: string;
}

/** Options of {@link LlmJobs.wait}. */
export interface LlmJobWaitOptions extends LlmJobAccess {
  /** Give up waiting (and resolve with the state then) after this long, ms. @default 30000 */
  timeoutMs?: number;
  /** Stops waiting early (the job goes on). */
  signal?: AbortSignal;
}

/** A re-read now and then while waiting, should a pub/sub message have been missed (reconnect). */
const WAIT_SAFETY_READ_MS = 5_000;

/**
 * Durable LLM jobs: `enqueue` hands a chat request to RabbitMQ and returns its id at once; workers
 * run it through the same call path as {@link LlmClient.chat} (fallbacks, breaker, shared limits),
 * as their pace allows, and store the outcome in Redis.
 *
 * @example
 * constructor(private readonly jobs: LlmJobs) {}
 * const { id } = await this.jobs.enqueue({ messages }, { userId: user.id, featureName: 'writer' });
 * // later, or elsewhere:
 * const job = await this.jobs.wait(id, { timeoutMs: 60_000 });
 * if (job.state === 'completed') return job.completion;
 */
@Injectable()
export class LlmJobs {
  private readonly tracer = trace.getTracer(LLM_TRACER_NAME);

  constructor(
    private readonly runtime: LlmJobsRuntime,
    private readonly llm: LlmClient,
  ) {}

  /**
   * Enqueues a chat request; resolves once RabbitMQ confirmed the persistent message, so a job
   * that was returned is not lost. Its state is written to Redis (later, if Redis is down).
   * @throws LlmJobsError `LLM_JOB_INVALID` for a bad request or deadline,
   *   `LLM_JOBS_BROKER_UNAVAILABLE` when the broker did not accept it
   */
  async enqueue(request: ChatCompletionRequest, options: LlmJobOptions = {}): Promise<LlmJob> {
    const { options: config, broker, store } = this.runtime;
    const message = buildJobMessage(request, options, config, this.llm.upstreamNames);
    const span = startSendSpan(this.tracer, broker.topology.queue, message);
    const traceparent = toTraceparent(span.spanContext());
    if (traceparent) message.traceparent = traceparent;
    try {
      await context.with(trace.setSpan(context.active(), span), () =>
        broker.publish(broker.topology.queue, Buffer.from(JSON.stringify(message)), {
          messageId: message.id,
        }),
      );
    } catch (error) {
      span.recordException(error as Error);
      throw error instanceof Error ? error : brokerUnavailable(error);
    } finally {
      span.end();
    }
    const record = queuedRecord(message);
    await store.create(record);
    return { ...record, deliveries: 0, ageMs: 0 };
  }

  /**
   * The job's state now: queued (with its position), running, completed (with the completion
   * and metadata), failed (with the error) or cancelled. A job still queued at its deadline is
   * failed with `deadline_exceeded` from then on, as the worker that takes it will store it (it
   * is never run).
   * @throws LlmJobsError `LLM_JOB_NOT_FOUND`, or `LLM_JOBS_STATE_UNAVAILABLE` when Redis is down
   */
  async get(id: string, access: LlmJobAccess = {}): Promise<LlmJob> {
    const stored = await this.read(id);
    if (!stored || stored.record.owner !== access.owner) throw jobNotFound(id);
    return this.view(stored);
  }

  /**
   * Cancels a job that has not ended: a queued job never runs, a running one is aborted (its
   * upstream request too). An ended job is returned as it is.
   */
  async cancel(id: string, access: LlmJobAccess = {}): Promise<LlmJob> {
    const job = await this.get(id, access);
    // Ended, or expired in the queue (failed, as a worker will store it): returned as it is.
    if (TERMINAL_JOB_STATES.has(job.state)) return job;
    try {
      const result = await this.runtime.store.cancel(id);
      if (result.applied) this.runtime.metrics.outcome('cancelled');
    } catch (error) {
      throw stateUnavailable(id, error);
    }
    return this.get(id, access);
  }

  /**
   * Resolves when the job ends, or with its state then when `timeoutMs` passes first. No
   * polling: state changes arrive by Redis pub/sub.
   */
  async wait(id: string, options: LlmJobWaitOptions = {}): Promise<LlmJob> {
    const timeoutMs = options.timeoutMs ?? 30_000;
    let wake: () => void = () => undefined;
    const unsubscribe = this.runtime.store.onChange((changed, state) => {
      if (changed === id && TERMINAL_JOB_STATES.has(state)) wake();
    });
    const deadline = Date.now() + timeoutMs;
    try {
      for (;;) {
        const job = await this.get(id, options);
        const left = deadline - Date.now();
        if (TERMINAL_JOB_STATES.has(job.state) || left <= 0 || options.signal?.aborted) return job;
        // A queued job fails at its deadline without any change in the store: read it then.
        const expiresIn = job.state === 'queued' ? job.deadlineAt - Date.now() : Infinity;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(
            done,
            Math.max(Math.min(left, WAIT_SAFETY_READ_MS, expiresIn), 0),
          );
          function done() {
            clearTimeout(timer);
            options.signal?.removeEventListener('abort', done);
            resolve();
          }
          wake = done;
          options.signal?.addEventListener('abort', done, { once: true });
        });
      }
    } finally {
      unsubscribe();
    }
  }

  /**
   * Calls `listener` with the job at every change of state until it ends; returns the
   * unsubscribe function.
   */
  subscribe(id: string, listener: (job: LlmJob) => void, access: LlmJobAccess = {}): () => void {
    return this.runtime.store.onChange((changed: string) => {
      if (changed === id) this.get(id, access).then(listener, () => undefined);
    });
  }

  private async read(id: string): Promise<StoredJob | undefined> {
    if (typeof id !== 'string' || !/^[\w-]{1,64}$/.test(id)) return undefined;
    try {
      return await this.runtime.store.read(id);
    } catch (error) {
      throw stateUnavailable(id, error);
    }
  }

  private async view({ record, deliveries }: StoredJob): Promise<LlmJob> {
    const now = Date.now();
    const job: LlmJob = { ...record, deliveries, ageMs: now - record.enqueuedAt };
    if (record.state === 'queued' && now >= record.deadlineAt) {
      // Past its deadline in the queue: the worker that takes it fails it so, without running it
      // (and counts it `expired` then); until then the store still says queued.
      return {
        ...job,
        notBefore: undefined,
        state: 'failed',
        endedAt: record.deadlineAt,
        error: toJobError(queuedPastDeadlineError(record, now)),
      };
    }
    if (record.state === 'queued') {
      const position = await this.runtime.store.position(record.id).catch(() => undefined);
      if (position !== undefined) job.position = position;
    }
    return job;
  }
}
