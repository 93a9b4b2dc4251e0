import type { ConsumeMessage } from 'amqplib';
import type { LlmChatResult } from '../call/chat.types';
import { type TransitionResult } from './job-state.store';
import {
  type JobMessageHeaders,
  LAST_ERROR_HEADER,
  readJobHeaders,
  writeJobHeaders,
} from './job-message.headers';
import type { JobRunDecision } from './job-run.decision';
import { toJobError } from './llm-job.error';
import type { LlmJobMessage, LlmJobRecord } from './llm-job.types';
import { TERMINAL_JOB_STATES } from './llm-job.types';
import type { LlmJobOutcome } from './llm-jobs.metrics';
import { type LlmJobsRuntime } from './llm-jobs.runtime';

/** A delayed job that comes back this much before its time is early (a multi-round wait). */
const EARLY_MS = 50;
const STORE_RETRY_MAX_MS = 2_000;

/**
 * The worker's writes after a run: the outcome into Redis (retried until Redis answers: the
 * message is acked only after), the message into a delay bucket or the dead-letter queue
 * (confirmed by the broker before the original is acked), and the outcome counters.
 * Each method resolves true when the message may be acked.
 */
export class JobOutcomeWriter {
  constructor(
    private readonly runtime: LlmJobsRuntime,
    private readonly stopping: () => boolean,
  ) {}

  /**
   * True when this delivery needs no run: the job already ended (cancelled while queued, or a
   * redelivery after its outcome was stored), the message is a stale copy of a delayed job, or a
   * long wait is not over yet (then it goes back for the rest of it).
   */
  async handledBefore(
    job: LlmJobMessage,
    headers: JobMessageHeaders,
    message: ConsumeMessage,
  ): Promise<boolean> {
    const stored = await this.runtime.store.read(job.id).catch(() => undefined);
    if (stored && TERMINAL_JOB_STATES.has(stored.record.state)) return true;
    if (stored && stored.record.delays > headers.delays) return true;
    const early = headers.notBefore - Date.now();
    if (early > EARLY_MS) {
      await this.runtime.broker.publishDelayed(early, message.content, {
        messageId: job.id,
        headers: writeJobHeaders(headers),
      });
      return true;
    }
    return false;
  }

  async complete(record: LlmJobRecord, { completion, metadata }: LlmChatResult): Promise<boolean> {
    const done = { ...record, state: 'completed' as const, endedAt: Date.now() };
    return this.end({ ...done, completion, metadata }, 'completed');
  }

  async fail(record: LlmJobRecord, error: unknown, outcome: LlmJobOutcome): Promise<boolean> {
    const failed = { ...record, state: 'failed' as const, endedAt: Date.now() };
    return this.end({ ...failed, error: toJobError(error) }, outcome);
  }

  /** Into the dead-letter queue with its last error, then failed in the store. */
  async deadLetter(
    message: ConsumeMessage,
    record: LlmJobRecord,
    error: unknown,
    failures?: number,
  ): Promise<boolean> {
    const jobError = toJobError(error);
    const headers = readJobHeaders(message.properties.headers);
    await this.runtime.broker.publish(
      this.runtime.broker.topology.deadLetterQueue,
      message.content,
      {
        messageId: record.id,
        headers: {
          ...writeJobHeaders({ ...headers, failures: failures ?? headers.failures }),
          [LAST_ERROR_HEADER]: JSON.stringify(jobError),
        },
      },
    );
    const failed = { ...record, state: 'failed' as const, endedAt: Date.now() };
    return this.end({ ...failed, error: jobError, deadLettered: true }, 'dead_lettered');
  }

  /** A message that is no job at all: dead-lettered as it is, with the reason. */
  async deadLetterRaw(message: ConsumeMessage, reason: string): Promise<void> {
    await this.runtime.broker.publish(
      this.runtime.broker.topology.deadLetterQueue,
      message.content,
      {
        messageId: String(message.properties.messageId ?? 'unknown'),
        headers: { [LAST_ERROR_HEADER]: JSON.stringify({ message: reason }) },
      },
    );
    this.runtime.metrics.outcome('dead_lettered');
  }

  /** Back to the queue after `delayMs`, through a delay bucket; queued again in the store. */
  async delay(
    message: ConsumeMessage,
    record: LlmJobRecord,
    headers: JobMessageHeaders,
    decision: Extract<JobRunDecision, { action: 'delay' }>,
    error: unknown,
  ): Promise<boolean> {
    const notBefore = Date.now() + decision.delayMs;
    const next: JobMessageHeaders = {
      failures: headers.failures + (decision.countsAsFailure ? 1 : 0),
      delays: headers.delays + 1,
      runs: headers.runs + 1,
      notBefore,
    };
    await this.runtime.broker.publishDelayed(decision.delayMs, message.content, {
      messageId: record.id,
      headers: writeJobHeaders(next),
    });
    this.runtime.metrics.redelivered(decision.reason);
    const queued: LlmJobRecord = {
      ...record,
      state: 'queued',
      delays: next.delays,
      notBefore,
      error: toJobError(error),
    };
    const result = await this.store(() => this.runtime.store.transition('update', queued));
    return result !== undefined;
  }

  private async end(record: LlmJobRecord, outcome: LlmJobOutcome): Promise<boolean> {
    const result = await this.store(() => this.runtime.store.transition('update', record));
    if (result?.applied) this.runtime.metrics.outcome(outcome);
    return result !== undefined;
  }

  /** Retries a write until Redis answers; undefined when the worker stops first. */
  private async store(
    write: () => Promise<TransitionResult>,
  ): Promise<TransitionResult | undefined> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await write();
      } catch {
        if (this.stopping()) return undefined;
        const waitMs = Math.min(100 * 2 ** attempt, STORE_RETRY_MAX_MS);
        // Unref'd: a worker retrying a write never keeps a closing process alive.
        await new Promise((resolve) => setTimeout(resolve, waitMs).unref());
      }
    }
  }
}
