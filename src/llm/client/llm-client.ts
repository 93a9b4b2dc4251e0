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
    const { record, deadline } = this.lifecycle.open(request, options, false);
    const call: LlmCall<ChatCompletion> = {
      record,
      deadline,
      attempt: (context) =>
        sendChatAttempt(chatAttemptInput(this.transport, request, false, context)),
    };
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
   * Streams a chat completion. Nothing is sent until the stream is iterated (or `ready()` is
   * awaited); see {@link LlmChatStream} for the retry and failure rules. The fallback chain
   * applies until the first content chunk.
   */
  chatStream(request: ChatCompletionRequest, options: LlmCallOptions = {}): LlmChatStream {
    const call = new StreamCall(this.lifecycle, this.path, this.transport, request, options);
    return new LlmChatStream(
      () => call.start(),
      (ending) => call.finish(ending),
    );
  }
}
