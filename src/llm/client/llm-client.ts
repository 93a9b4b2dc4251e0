import { Injectable } from '@nestjs/common';
import type {
  ChatCompletion,
  ChatCompletionRequest,
  LlmCallOptions,
  LlmChatResult,
} from '../call/chat.types';
import { LlmHttpTransport } from '../transport/llm-http.transport';
import { callMetadata } from './call-metadata';
import { CallLifecycle } from './call-lifecycle';
import { CallPath } from './call-path';
import { sendChatAttempt } from './chat-attempt';
import { FallbackChain } from './fallback-chain.layer';
import type { LlmCall } from './llm-call';
import { LlmChatStream } from './llm-chat-stream';
import { chatAttemptInput } from './send-chat-request';
import { StreamCall } from './stream-call';

/**
 * Calls OpenAI-compatible chat completions through the resilient call path (`call-path.ts`).
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
    private readonly lifecycle: CallLifecycle,
    private readonly path: CallPath,
    private readonly fallbackChain: FallbackChain,
    private readonly transport: LlmHttpTransport,
  ) {}

  /** Names of the configured upstreams, the default first. */
  get upstreamNames(): string[] {
    return this.lifecycle.upstreamNames;
  }

  /**
   * Sends a chat completion and returns it with what the call path did. When the requested
   * model is unavailable the call moves along its fallback chain, and as a last resort (if the
   * module has one) takes the application's degraded answer; `metadata` says which.
   */
  async chat(request: ChatCompletionRequest, options: LlmCallOptions = {}): Promise<LlmChatResult> {
    const call = this.plainCall(request, options);
    const { record } = call;
    try {
      let completion: ChatCompletion;
      try {
        completion = await this.path.run(call);
      } catch (error) {
        completion = await this.fallbackChain.lastResort(call, error);
      }
      this.lifecycle.close(call);
      return { completion, metadata: callMetadata(record) };
    } catch (error) {
      this.lifecycle.close(call, error);
      throw error;
    }
  }

  /**
   * {@link chat} for a relay that writes the result to its own client (the gateway's chat route):
   * `answer` gets the result as soon as the call has it (where its successful attempt ended, before
   * the call path's layers unwind), and the call's end is reported to its observers (the last
   * attempt's end and the call's: metrics, events, spans) and its deadline disposed after `answer`
   * returned, in the same turn, instead of before it. The record, the result, the errors and what
   * the observers get are those of {@link chat}; so is the order while a tracer provider is
   * registered (spans record when they end). A failed call throws as `chat` does, without calling
   * `answer`; an error `answer` throws is thrown once the call is reported.
   *
   * @example
   * await this.llm.chatAnswering(request, options, ({ completion, metadata }) =>
   *   sendJson(res, 200, completion, metadataHeaders(metadata)),
   * );
   */
  async chatAnswering(
    request: ChatCompletionRequest,
    options: LlmCallOptions,
    answer: (result: LlmChatResult) => void,
  ): Promise<void> {
    if (!this.lifecycle.mayReportAfterAnswer()) {
      answer(await this.chat(request, options));
      return;
    }
    let answered = false;
    let answerFailed = false;
    let answerError: unknown;
    const answerWith = (completion: ChatCompletion): void => {
      answered = true;
      this.lifecycle.answered(call);
      try {
        answer({ completion, metadata: callMetadata(call.record) });
      } catch (error) {
        answerFailed = true;
        answerError = error;
      }
    };
    // The attempt's success is the call's (see LlmCall.succeeded), unless the deadline released
    // the caller first: then the call fails as in `chat`.
    const call = this.plainCall(request, options, (completion) => {
      if (!answered && !call.deadline.signal.aborted) answerWith(completion);
    });
    try {
      let completion: ChatCompletion | undefined;
      try {
        completion = await this.path.run(call);
      } catch (error) {
        // Answered already: the call succeeded, whatever the layers above say after it.
        if (!answered) completion = await this.fallbackChain.lastResort(call, error);
      }
      if (!answered) answerWith(completion!);
    } catch (error) {
      this.lifecycle.close(call, error);
      throw error;
    }
    this.lifecycle.close(call);
    if (answerFailed) throw answerError;
  }

  /**
   * A plain call, opened; `succeeded`, for a caller that answers where the successful attempt
   * ends (`chatAnswering`), whose call is then reported after its answer.
   */
  private plainCall(
    request: ChatCompletionRequest,
    options: LlmCallOptions,
    succeeded?: (completion: ChatCompletion) => void,
  ): LlmCall<ChatCompletion> {
    const { record, deadline } = this.lifecycle.open(request, options, false);
    // Every field at once, for either caller: the calls keep one shape down the path.
    return {
      record,
      deadline,
      attempt: (context) =>
        sendChatAttempt(chatAttemptInput(this.transport, request, false, context)),
      reportsAfterAnswer: succeeded !== undefined,
      heldAttempt: undefined,
      succeeded,
    };
  }

  /**
   * Streams a chat completion. Nothing is sent until the stream is iterated (or `ready()` is
   * awaited); see {@link LlmChatStream} for the retry and failure rules. The fallback chain
   * applies until the first content chunk.
   */
  chatStream(request: ChatCompletionRequest, options: LlmCallOptions = {}): LlmChatStream {
    const call = new StreamCall(this.lifecycle, this.path, this.transport, request, options);
    const n = (request as { n?: unknown } | undefined)?.n;
    return new LlmChatStream(
      () => call.start(),
      (ending) => call.finish(ending),
      typeof n === 'number' && Number.isInteger(n) && n > 0 ? n : 1,
      () => call.cancel(),
    );
  }
}
