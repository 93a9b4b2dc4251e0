import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { LLM_RESOLVED_OPTIONS } from '../llm.constants';
import { ResolvedLlmOptions, ResolvedUpstream } from '../llm-module.options';
import { CallDeadline } from '../resilience/call-deadline';
import { LlmError } from '../resilience/llm.errors';
import { LlmHttpTransport } from '../transport/llm-http.transport';
import { CallPipeline, CallTarget } from './call-pipeline';
import { CallRecord } from './call-record';
import { sendChatAttempt } from './chat-attempt';
import {
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
    private readonly pipeline: CallPipeline,
    private readonly transport: LlmHttpTransport,
  ) {}

  /** Names of the configured upstreams, the default first. */
  get upstreamNames(): string[] {
    const names = [...this.options.upstreams.keys()];
    return [
      this.options.defaultUpstream,
      ...names.filter((n) => n !== this.options.defaultUpstream),
    ];
  }

  /** Sends a chat completion and returns it with what the call path did. */
  async chat(request: ChatCompletionRequest, options: LlmCallOptions = {}): Promise<LlmChatResult> {
    const target = this.target(request, options, false);
    const body: Record<string, unknown> = { ...request, model: target.record.model, stream: false };
    delete body.stream_options;
    const completion = await this.pipeline.run({
      ...target,
      attempt: (context) => sendChatAttempt({ ...this.attemptInput(target, body), context }),
    });
    return { completion, metadata: this.metadata(target) };
  }

  /**
   * Streams a chat completion. Nothing is sent until the stream is iterated (or `ready()` is
   * awaited); see {@link LlmChatStream} for the retry and failure rules.
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
        const body = { ...request, model: t.record.model, stream: true };
        const opened = await this.pipeline.run({
          ...t,
          attempt: (context) => openStreamAttempt({ ...this.attemptInput(t, body), context }),
          // The stream keeps its bulkhead slot and deadline until it ends or the deadline passes.
          holdUntil: () =>
            Promise.race([
              finished.then(({ error, response }) => {
                t.record.response = response;
                return error;
              }),
              aborted(t.deadline.signal).then(() =>
                t.deadline.abortError({
                  upstream: t.record.upstream.name,
                  model: t.record.model,
                  attempts: t.record.attemptCount,
                }),
              ),
            ]),
          onSlotReleased: release,
        });
        return { opened, metadata: this.metadata(t) };
      },
      (error, opened) => {
        const t = target!;
        return opened.abort.toError(error, t.deadline, {
          upstream: t.record.upstream.name,
          model: t.record.model,
          attempts: t.record.attemptCount,
        });
      },
      (ending) => {
        finish(ending);
        return released;
      },
    );
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
    const deadlineMs = options.deadlineMs ?? upstream.timeouts.totalMs;
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
    };
    const record = new CallRecord({
      upstream,
      model,
      clientRequestId: randomUUID(),
      stream,
      context,
      request,
    });
    ambient?.calls.push(record);
    return { record, deadline: new CallDeadline(deadlineMs, options.signal) };
  }

  private attemptInput(target: CallTarget, body: Record<string, unknown>) {
    const { upstream, model } = target.record;
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
