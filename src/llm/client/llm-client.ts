import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { LLM_RESOLVED_OPTIONS } from '../llm.constants';
import { ResolvedLlmOptions, ResolvedUpstream } from '../llm-module.options';
import { CallDeadline } from '../resilience/call-deadline';
import { LlmError } from '../resilience/llm.errors';
import { LlmHttpTransport } from '../transport/llm-http.transport';
import { LlmDrain } from '../lifecycle/llm-drain';
import { CallTarget } from './call-pipeline';
import { CallRunner } from './call-runner';
import { responseInfo } from './response-info';
import { LlmTelemetry } from '../observability/llm-telemetry';
import { CallRecord } from './call-record';
import { sendChatAttempt } from './chat-attempt';
import {
  ChatCompletion,
  ChatCompletionRequest,
  LlmCallMetadata,
  LlmCallOptions,
  LlmChatResult,
} from './chat.types';
import { LlmChatStream, StreamEnding } from './llm-chat-stream';
import { currentLlmContext } from '../observability/llm-context.storage';
import { openStreamAttempt } from './stream-attempt';
import { validateChatRequest } from './validate-chat-request';

/**
 * Calls OpenAI-compatible chat completions through the resilient call path.
 *
 * @example
 * constructor(private readonly llm: LlmClient) {}
 * const { completion, metadata } = await this.llm.chat(
 *   { messages: [{ role: 'user', content: 'Hello' }] },
 *   { userId: user.id, featureName: 'support-chat' },
 * );
 */
@Injectable()
export class LlmClient {
  constructor(
    @Inject(LLM_RESOLVED_OPTIONS) private readonly options: ResolvedLlmOptions,
    private readonly runner: CallRunner,
    private readonly telemetry: LlmTelemetry,
    private readonly transport: LlmHttpTransport,
    private readonly drain: LlmDrain,
  ) {}

  /** Names of the configured upstreams, the default first. */
  get upstreamNames(): string[] {
    const names = [...this.options.upstreams.keys()];
    return [
      this.options.defaultUpstream,
      ...names.filter((n) => n !== this.options.defaultUpstream),
    ];
  }

  /**
   * Sends a chat completion and returns it with what the call path did. When the requested
   * model is unavailable the call moves along its fallback chain, and as a last resort (if the
   * module has one) takes the application's degraded answer; `metadata` says which.
   */
  async chat(request: ChatCompletionRequest, options: LlmCallOptions = {}): Promise<LlmChatResult> {
    const target = this.target(request, options, false);
    const { record, deadline } = target;
    this.runner.start(record);
    try {
      const completion = await this.runner
        .through(target, () => ({
          attempt: (context) =>
            sendChatAttempt({ ...this.attemptInput(record, request, false), context }),
        }))
        .catch((error: unknown) => this.lastResort(request, record, error));
      this.runner.end(record);
      return { completion, metadata: this.metadata(target) };
    } catch (error) {
      this.runner.end(record, error);
      throw error;
    } finally {
      deadline.dispose();
    }
  }

  /**
   * Streams a chat completion. Nothing is sent until the stream is iterated (or `ready()` is
   * awaited); see {@link LlmChatStream} for the retry and failure rules. The fallback chain
   * applies until the first content chunk.
   */
  chatStream(request: ChatCompletionRequest, options: LlmCallOptions = {}): LlmChatStream {
    let finish: (ending: StreamEnding) => void = () => undefined;
    const finished = new Promise<StreamEnding>((resolve) => (finish = resolve));
    let release: () => void = () => undefined;
    const released = new Promise<void>((resolve) => (release = resolve));
    let target: CallTarget | undefined;
    return new LlmChatStream(
      async () => {
        try {
          target = this.target(request, options, true);
        } catch (error) {
          release();
          throw error;
        }
        const t = target;
        this.runner.start(t.record);
        let holding = false;
        const opened = await this.runner
          .through(t, (record) => ({
            attempt: (context) =>
              openStreamAttempt({ ...this.attemptInput(record, request, true), context }),
            // The stream keeps its bulkhead slot and deadline until it ends or the deadline passes.
            holdUntil: () => {
              holding = true;
              return Promise.race([
                finished.then(({ error, response }) => {
                  record.response = response;
                  return error;
                }),
                aborted(t.deadline.signal).then(() => t.deadline.abortError(this.where(record))),
              ]);
            },
            onHeldEnd: (error) => {
              this.runner.end(record, error);
              t.deadline.dispose();
            },
            // Only the run that delivered content held a slot worth waiting for.
            onSlotReleased: () => holding && release(),
          }))
          .catch((error: unknown) => {
            this.runner.end(t.record, error);
            t.deadline.dispose();
            release();
            throw error;
          });
        return { opened, metadata: this.metadata(t) };
      },
      (error, opened) => opened.abort.toError(error, target!.deadline, this.where(target!.record)),
      (ending) => {
        finish(ending);
        return released;
      },
    );
  }

  /** The application's degraded answer, when it has one and the failure allows it. */
  private async lastResort(
    request: ChatCompletionRequest,
    record: CallRecord,
    error: unknown,
  ): Promise<ChatCompletion> {
    const lastResort = this.options.lastResort;
    if (!lastResort || !this.runner.canDegrade(error)) throw error;
    let completion: ChatCompletion;
    try {
      completion = await lastResort({ request, error, call: record });
    } catch {
      throw error; // the function declined: the original failure stands
    }
    this.telemetry.fallback(record, record.degrade(error.kind));
    record.response = responseInfo(completion);
    return completion;
  }

  private where(record: CallRecord) {
    return { upstream: record.upstream.name, model: record.model, attempts: record.attemptCount };
  }

  private target(
    request: ChatCompletionRequest,
    options: LlmCallOptions,
    stream: boolean,
  ): CallTarget {
    const upstream = this.upstream(options.upstream);
    validateChatRequest(request, upstream.name);
    const model =
      typeof request.model === 'string' && request.model ? request.model : upstream.defaultModel;
    const deadlineMs = options.deadlineMs ?? upstream.timeouts.deadlineMs;
    if (!(Number.isFinite(deadlineMs) && deadlineMs > 0)) {
      throw new LlmError(
        'bad_request',
        `The call option deadlineMs must be a positive number of milliseconds, got ${String(deadlineMs)}.`,
        { upstream: upstream.name, param: 'deadlineMs', retryable: false },
      );
    }
    // Explicit options win over the request's context (a job may act for another user).
    const ambient = currentLlmContext();
    const context = {
      userId: options.userId ?? ambient?.userId,
      featureName: options.featureName ?? ambient?.featureName,
      requestId: options.requestId ?? ambient?.requestId,
      ...(options.jobId === undefined ? {} : { jobId: options.jobId }),
      ...(options.queueWaitMs === undefined ? {} : { queueWaitMs: options.queueWaitMs }),
    };
    const record = new CallRecord({
      upstream,
      model,
      clientRequestId: options.clientRequestId ?? randomUUID(),
      stream,
      context,
      request,
    });
    const deadline = new CallDeadline(deadlineMs, options.signal);
    // Until the deadline is disposed (the call, or the stream, is over) shutdown waits for it.
    this.drain.track(deadline, upstream.name);
    ambient?.calls.push(record);
    return { record, deadline };
  }

  /** What one attempt sends: the body names the model the call is at now (fallbacks move it). */
  private attemptInput(record: CallRecord, request: ChatCompletionRequest, stream: boolean) {
    const { upstream, model } = record;
    const body: Record<string, unknown> = { ...request, model, stream };
    if (!stream) delete body.stream_options;
    return { transport: this.transport, upstream, model, body };
  }

  private upstream(name: string | undefined): ResolvedUpstream {
    const upstream = this.options.upstreams.get(name ?? this.options.defaultUpstream);
    if (!upstream) {
      throw new LlmError(
        'bad_request',
        `Unknown upstream '${name}'. Configured upstreams: ${this.upstreamNames.join(', ')}.`,
        { retryable: false },
      );
    }
    return upstream;
  }

  private metadata(target: CallTarget): LlmCallMetadata {
    const last = target.record.attempts.at(-1);
    return {
      attempts: target.record.attemptCount,
      upstream: target.record.upstream.name,
      model: target.record.model,
      requestedModel: target.record.requestedModel,
      fallbacks: [...target.record.fallbacks],
      degraded: target.record.degraded,
      upstreamRequestId: last?.upstreamRequestId,
      clientRequestId: target.record.clientRequestId,
      durationMs: Date.now() - target.record.startedAt,
    };
  }
}

function aborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
}
