import { Injectable } from '@nestjs/common';
import { context, SpanKind, trace } from '@opentelemetry/api';
import { randomUUID } from 'node:crypto';
import type { ChatCompletionRequest } from '../client/chat.types';
import { LlmClient } from '../client/llm-client';
import { validateChatRequest } from '../client/validate-chat-request';
import { currentLlmContext } from '../observability/llm-context.storage';
import { LLM_TRACER_NAME } from '../observability/llm-tracing';
import { isLlmError } from '../resilience/llm.errors';
import { toTraceparent } from './job-trace.context';
import { StoredJob } from './job-state.store';
import { brokerUnavailable, invalidJob, jobNotFound, stateUnavailable } from './llm-jobs.errors';
import {
  LlmJob,
  LlmJobMessage,
  LlmJobOptions,
  LlmJobRecord,
  TERMINAL_JOB_STATES,
} from './llm-job.types';
import { LlmJobsRuntime } from './llm-jobs.runtime';
import { LLM_JOB_ATTRIBUTES as ATTR, LLM_JOB_SPANS } from './llm-jobs.semconv';

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
    this.validate(request, options.upstream);
    const ambient = currentLlmContext();
    const now = Date.now();
    const message: LlmJobMessage = {
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
    const span = this.tracer.startSpan(LLM_JOB_SPANS.enqueue(broker.topology.queue), {
      kind: SpanKind.PRODUCER,
      attributes: {
        [ATTR.messagingSystem]: 'rabbitmq',
        [ATTR.destination]: broker.topology.queue,
        [ATTR.operationType]: 'send',
        [ATTR.messageId]: message.id,
        [ATTR.jobId]: message.id,
      },
    });
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
      span.end();
      throw isLlmError(error) ? error : error instanceof Error ? error : brokerUnavailable(error);
    }
    span.end();
    const record: LlmJobRecord = {
      id: message.id,
      state: 'queued',
      ...(message.owner === undefined ? {} : { owner: message.owner }),
      context: message.context,
      enqueuedAt: message.enqueuedAt,
      deadlineAt: message.deadlineAt,
      delays: 0,
    };
    await store.create(record);
    return { ...record, deliveries: 0, ageMs: 0 };
  }

  /**
   * The job's state now: queued (with its position), running, completed (with the completion
   * and metadata), failed (with the error) or cancelled.
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
    await this.get(id, access);
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
        await new Promise<void>((resolve) => {
          const timer = setTimeout(done, Math.min(left, WAIT_SAFETY_READ_MS));
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
    if (record.state === 'queued') {
      const position = await this.runtime.store.position(record.id).catch(() => undefined);
      if (position !== undefined) job.position = position;
    }
    return job;
  }

  private validate(request: ChatCompletionRequest, upstream: string | undefined): void {
    const name = upstream ?? this.llm.upstreamNames[0]!;
    if (!this.llm.upstreamNames.includes(name)) {
      throw invalidJob(
        'upstream',
        `Unknown upstream '${name}'. Configured upstreams: ${this.llm.upstreamNames.join(', ')}.`,
      );
    }
    try {
      validateChatRequest(request, name);
    } catch (error) {
      const param = isLlmError(error) ? (error.param ?? 'messages') : 'messages';
      throw invalidJob(param, error instanceof Error ? error.message : String(error));
    }
  }
}

function compact<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, field]) => field !== undefined)) as T;
}
