import {
  BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
} from '@nestjs/common';
import { context, ROOT_CONTEXT, SpanStatusCode, trace } from '@opentelemetry/api';
import type { Channel, ConsumeMessage } from 'amqplib';
import type { LlmChatResult } from '../call/chat.types';
import { LlmClient } from '../client/llm-client';
import { LLM_RESOLVED_OPTIONS } from '../llm.constants';
import type { ResolvedLlmOptions } from '../llm-module.options';
import { LLM_TRACER_NAME } from '../observability/llm-tracing';
import { isLlmError } from '../resilience/llm.errors';
import { JobMessageHeaders, readJobHeaders } from './job-message.headers';
import { JobOutcomeWriter } from './job-outcome.writer';
import { decideAfterFailure } from './job-run.decision';
import { crashLoopError, parseJobMessage, queuedPastDeadlineError } from './job-delivery.errors';
import { startProcessSpan } from './job-process.span';
import type { LlmJobMessage, LlmJobRecord } from './llm-job.types';
import { TERMINAL_JOB_STATES } from './llm-job.types';
import { LlmJobsRuntime } from './llm-jobs.runtime';
import { ATTR_LLM_JOB_OUTCOME } from '../observability/llm.semconv';

/**
 * Runs jobs from the durable queue through {@link LlmClient.chat}: the same call path as a direct
 * call, so fallbacks, breakers and the limiter (shared through Redis across workers and gateway
 * replicas) apply. At most `concurrency` jobs at once, never more than the bulkhead admits. Each
 * message is acked only after its outcome is stored; a worker that dies mid-call leaves its
 * messages unacked, and RabbitMQ gives them to another worker, which runs them under the same
 * client request id (the job id).
 *
 * Starts with the application when `worker` is on (the default); `npm run worker` runs one alone.
 */
@Injectable()
export class LlmJobWorker implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('LlmJobs');
  private readonly tracer = trace.getTracer(LLM_TRACER_NAME);
  private readonly running = new Map<string, AbortController>();
  /** Per job being handled here: settles once the handling of its latest copy ended. */
  private readonly settled = new Map<string, Promise<void>>();
  private readonly writer: JobOutcomeWriter;
  private stopping = false;
  private unsubscribe?: () => void;

  constructor(
    private readonly runtime: LlmJobsRuntime,
    private readonly llm: LlmClient,
    @Inject(LLM_RESOLVED_OPTIONS) private readonly llmOptions: ResolvedLlmOptions,
  ) {
    this.writer = new JobOutcomeWriter(runtime, () => this.stopping);
  }

  /** Jobs this worker takes at once: the option, capped by the default upstream's bulkhead. */
  get concurrency(): number {
    const upstream = this.llmOptions.upstreams.get(this.llmOptions.defaultUpstream);
    const bulkhead = upstream?.bulkhead.maxConcurrent ?? 1;
    return Math.min(this.runtime.options.concurrency ?? bulkhead, bulkhead);
  }

  /** Jobs running in this worker now. */
  get inFlight(): number {
    return this.running.size;
  }

  async onApplicationBootstrap(): Promise<void> {
    if (this.runtime.options.worker) await this.start();
  }

  /** Starts consuming (done at bootstrap when the `worker` option is on). */
  async start(): Promise<void> {
    this.stopping = false;
    // A cancel from any process aborts the run here: the upstream request stops too.
    this.unsubscribe ??= this.runtime.store.onChange((id, state) => {
      if (state === 'cancelled') this.running.get(id)?.abort();
    });
    const consuming = await this.runtime.broker.consume(
      (message, channel) => this.deliver(message, channel),
      this.concurrency,
    );
    // Consuming is said by the broker when it starts; until RabbitMQ answers, this says why not.
    if (!consuming) {
      this.logger.log(
        `Job worker waits for RabbitMQ to consume '${this.runtime.options.queue}' ` +
          `(${this.concurrency} at once)`,
      );
    }
  }

  /** Stops taking jobs; jobs in flight are aborted and go back to the queue, unacked. */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    for (const abort of this.running.values()) abort.abort();
    await this.runtime.broker.stopConsuming();
  }

  private async deliver(message: ConsumeMessage, channel: Channel): Promise<void> {
    const ack = () => {
      try {
        channel.ack(message);
      } catch {
        // The channel closed: the broker redelivers the message; its stored outcome stands.
      }
    };
    // The broker's own redelivery of a run never acked (its worker died, or lost its channel):
    // counted, since no outcome of that run was stored to say so.
    if (message.fields.redelivered) this.runtime.metrics.redelivered('unacked');
    const job = parseJobMessage(message.content);
    if (!job) {
      await this.writer.deadLetterRaw(message, 'The message is not a job (unreadable JSON body).');
      return ack();
    }
    // A second copy of a job being handled here (the broker redelivered it after losing the
    // channel, or a duplicate was published) waits for the first copy to end, then finds its
    // stored outcome, instead of sending the same call to the provider twice at once. Registered
    // before any await, so two copies delivered together are ordered too.
    const earlier = this.settled.get(job.id);
    let markSettled = (): void => undefined;
    const mine = new Promise<void>((resolve) => (markSettled = resolve));
    const chain = earlier ? earlier.then(() => mine) : mine;
    this.settled.set(job.id, chain);
    try {
      if (earlier) await earlier;
      await this.handle(job, message, ack);
    } finally {
      if (this.settled.get(job.id) === chain) this.settled.delete(job.id);
      markSettled();
    }
  }

  /** One delivery of a parsed job, its earlier copies here ended. */
  private async handle(
    job: LlmJobMessage,
    message: ConsumeMessage,
    ack: () => void,
  ): Promise<void> {
    const headers = readJobHeaders(message.properties.headers);
    if (await this.writer.handledBefore(job, headers, message)) return ack();
    const now = Date.now();
    const base: LlmJobRecord = {
      id: job.id,
      state: 'running',
      ...(job.owner === undefined ? {} : { owner: job.owner }),
      context: job.context,
      enqueuedAt: job.enqueuedAt,
      deadlineAt: job.deadlineAt,
      delays: headers.delays,
    };
    if (now >= job.deadlineAt) {
      if (await this.writer.fail(base, queuedPastDeadlineError(job, now), 'expired')) ack();
      return;
    }
    const run = await this.runtime.store
      .transition('run', { ...base, startedAt: now })
      .catch(() => undefined);
    if (run && !run.applied && run.state && TERMINAL_JOB_STATES.has(run.state)) return ack();
    // Runs the store counted but that never ended in a delay: their worker died mid-run.
    const crashed = Math.max((run?.deliveries ?? 1) - 1 - headers.runs, 0);
    const failures = headers.failures + crashed;
    if (crashed > 0 && failures >= this.runtime.options.maxDeliveries) {
      const error = crashLoopError(job, run?.deliveries ?? 1, crashed);
      if (await this.writer.deadLetter(message, base, error)) ack();
      return;
    }
    await this.runOnce(job, base, { ...headers, failures }, message, now, ack);
  }

  private async runOnce(
    job: LlmJobMessage,
    base: LlmJobRecord,
    headers: JobMessageHeaders,
    message: ConsumeMessage,
    startedAt: number,
    ack: () => void,
  ): Promise<void> {
    const { options, metrics, broker } = this.runtime;
    const queueWaitMs = startedAt - job.enqueuedAt;
    metrics.waited(queueWaitMs);
    const abort = new AbortController();
    this.running.set(job.id, abort);
    const span = startProcessSpan(this.tracer, broker.topology.queue, job, {
      queueWaitMs,
      delivery: headers.failures + headers.delays + 1,
    });
    let result: LlmChatResult | undefined;
    let failure: unknown;
    try {
      result = await context.with(trace.setSpan(ROOT_CONTEXT, span), () =>
        this.llm.chat(job.request, {
          ...job.context,
          ...(job.upstream === undefined ? {} : { upstream: job.upstream }),
          clientRequestId: job.id,
          jobId: job.id,
          queueWaitMs,
          deadlineMs: Math.max(Math.min(job.deadlineAt - startedAt, options.holdMs), 1),
          signal: abort.signal,
        }),
      );
    } catch (error) {
      failure = error;
    } finally {
      this.running.delete(job.id);
    }
    const started = { ...base, startedAt };
    let stored: string;
    // The module shutting down ended a call that waited to be sent (for budget, or a 429's
    // hold) before this worker heard of the shutdown: the job goes back to the queue too.
    if (this.stopping || (isLlmError(failure) && failure.kind === 'shutting_down')) {
      stored = 'requeued';
    } else if (result) {
      stored = (await this.writer.complete(started, result)) ? 'completed' : 'unstored';
    } else if (abort.signal.aborted) {
      // Cancelled by its caller: the store already says so.
      stored = 'cancelled';
    } else {
      stored = await this.afterFailure(job, started, headers, message, failure);
    }
    span.setAttribute(ATTR_LLM_JOB_OUTCOME, stored);
    if (failure && stored !== 'requeued') span.setStatus({ code: SpanStatusCode.ERROR });
    span.end();
    // Stopping: no ack, the message goes back to the queue when the channel closes.
    if (stored !== 'requeued' && stored !== 'unstored') ack();
  }

  private async afterFailure(
    job: LlmJobMessage,
    started: LlmJobRecord,
    headers: JobMessageHeaders,
    message: ConsumeMessage,
    error: unknown,
  ): Promise<string> {
    const { options } = this.runtime;
    const decision = decideAfterFailure(error, {
      failures: headers.failures,
      maxDeliveries: options.maxDeliveries,
      deadlineAt: job.deadlineAt,
      now: Date.now(),
      failureDelayMs: options.failureDelayMs,
    });
    switch (decision.action) {
      case 'fail':
        return (await this.writer.fail(started, error, 'failed')) ? 'failed' : 'unstored';
      case 'dead_letter':
        return (await this.writer.deadLetter(message, started, error, headers.failures + 1))
          ? 'dead_lettered'
          : 'unstored';
      case 'delay':
        return (await this.writer.delay(message, started, headers, decision, error))
          ? 'delayed'
          : 'unstored';
    }
  }
}
