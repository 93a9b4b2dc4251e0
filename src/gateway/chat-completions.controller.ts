import {
  type ArgumentsHost,
  type ContextType,
  Controller,
  type ExecutionContext,
  Inject,
  Optional,
  Post,
  Req,
  Res,
  type Type,
} from '@nestjs/common';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host';
import { LlmCallMetadata, LlmClient, LlmContextInterceptor, LlmJobs } from '../llm/index';
import { acceptAsync } from './async-chat';
import {
  PlatformRequest,
  PlatformResponse,
  rawRequest,
  rawResponse,
  requestBody,
  sendJson,
  writeHead,
} from './http-exchange';
import { preferences } from './prefer.header';
import { validateChatRequestBody } from './chat-request.validator';
import { inboundCallOptions } from './inbound-call.options';
import { writeSseResponse } from './sse-response.writer';
import { GATEWAY_CONFIG } from './gateway.constants';
import type { GatewayConfig } from './gateway.config';

/**
 * OpenAI's `POST /v1/chat/completions`, plain and streaming, through {@link LlmClient}: clients
 * keep their OpenAI SDK and only change the base URL. Errors are thrown to the
 * OpenAiErrorFilter, which answers them in OpenAI's shape.
 *
 * The route enters the LLM context (user, feature, request id; the request's ending) itself,
 * through {@link LlmContextInterceptor.runHttp}, instead of having the interceptor around it:
 * a route with an interceptor costs every call Nest's rxjs pipeline (about 0.1 ms of CPU), and
 * this one is on every call's path. The gateway's other routes keep the interceptor.
 */
@Controller('v1')
export class ChatCompletionsController {
  constructor(
    private readonly llm: LlmClient,
    private readonly llmContext: LlmContextInterceptor,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    // Present when jobs are on (RABBITMQ_URL); without it `Prefer: respond-async` is ignored.
    @Optional() private readonly jobs?: LlmJobs,
  ) {}

  /**
   * @example
   * curl localhost:3000/v1/chat/completions -H 'content-type: application/json' \
   *   -H 'x-user-id: u-42' -d '{"messages":[{"role":"user","content":"Hi"}]}'
   */
  @Post('chat/completions')
  create(@Req() req: PlatformRequest, @Res() reply: PlatformResponse): Promise<void> {
    // The context Nest would give the interceptor: this handler of this controller.
    const context = new ChatCallContext(req, reply);
    // The request id comes from the context runHttp enters (no lookup of it in the storage).
    return this.llmContext.runHttp(context, (store) => this.answer(req, reply, store.requestId));
  }

  private async answer(
    req: PlatformRequest,
    reply: PlatformResponse,
    requestId: string | undefined,
  ): Promise<void> {
    // Node's response, written the same way on Express and Fastify.
    const res = rawResponse(reply);
    // First, so that even a rejected body answers with its x-request-id.
    const options = inboundCallOptions(req, res, requestId);
    const request = validateChatRequestBody(requestBody(req));
    if (this.jobs && preferences(rawRequest(req)).respondAsync) {
      return acceptAsync(this.jobs, req, res, request, options);
    }
    if (request.stream !== true) {
      // Written as soon as the call succeeded; its end is reported after the write.
      await this.llm.chatAnswering(request, options, ({ completion, metadata }) =>
        sendJson(res, 200, completion, metadataHeaders(metadata)),
      );
      return;
    }
    const stream = this.llm.chatStream(request, options);
    // Every retry happens inside ready(): until it resolves, a failure is a normal JSON error.
    const metadata = await stream.ready();
    // The metadata headers go into this object, after these three: no second object to spread.
    const headers = metadataHeaders(metadata, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      // Tells nginx-style proxies not to buffer the events.
      'x-accel-buffering': 'no',
    });
    writeHead(res, 200, headers);
    // No flushHeaders(): the headers leave with the first chunk, in one write (see the writer).
    await writeSseResponse(stream, res, options.signal, this.config.inbound.sendTimeoutMs);
  }
}

type HttpArgumentsHost = ReturnType<ArgumentsHost['switchToHttp']>;
type RpcArgumentsHost = ReturnType<ArgumentsHost['switchToRpc']>;
type WsArgumentsHost = ReturnType<ArgumentsHost['switchToWs']>;

/**
 * Nest's execution context of the chat handler (an `ExecutionContextHost` of this handler of this
 * controller, type `http`), kept to what a request needs: it is its own HTTP view, where Nest's
 * builds one of three closures at every `switchToHttp()` (and the context extractors ask five
 * times), and it builds the arguments' array, or an RPC or WebSocket view, only when asked.
 */
export class ChatCallContext implements ExecutionContext, HttpArgumentsHost {
  constructor(
    private readonly req: PlatformRequest,
    private readonly reply: PlatformResponse,
  ) {}

  getType<T extends string = ContextType>(): T {
    return 'http' as T;
  }
  getClass<T>(): Type<T> {
    return ChatCompletionsController as Type<T>;
  }
  getHandler(): (...args: unknown[]) => unknown {
    // eslint-disable-next-line @typescript-eslint/unbound-method -- the handler as a metadata key
    return ChatCompletionsController.prototype.create as (...args: unknown[]) => unknown;
  }
  getArgs<T extends unknown[] = unknown[]>(): T {
    return [this.req, this.reply] as T;
  }
  getArgByIndex<T = unknown>(index: number): T {
    return (index === 0 ? this.req : index === 1 ? this.reply : undefined) as T;
  }
  switchToHttp(): HttpArgumentsHost {
    return this;
  }
  switchToRpc(): RpcArgumentsHost {
    return this.host().switchToRpc();
  }
  switchToWs(): WsArgumentsHost {
    return this.host().switchToWs();
  }
  getRequest<T = unknown>(): T {
    return this.req as T;
  }
  getResponse<T = unknown>(): T {
    return this.reply as T;
  }
  getNext<T = unknown>(): T {
    return undefined as T;
  }

  private host(): ExecutionContextHost {
    return new ExecutionContextHost(this.getArgs(), ChatCompletionsController, this.getHandler());
  }
}

/**
 * What the call did, for the caller: attempts, the model that answered and, when the call moved
 * along its fallback chain, how often and why it last moved.
 */
function metadataHeaders(
  metadata: LlmCallMetadata,
  /** Headers that go first; the metadata's are added to this object. */
  headers: Record<string, string> = {},
): Record<string, string> {
  // Built in place, in this order, without a spread object per optional header.
  headers['x-llm-attempts'] = String(metadata.attempts);
  // The model comes from the client's body: one a header cannot carry is left out rather than
  // failing an answer that already succeeded.
  if (isHeaderValue(metadata.model)) headers['x-llm-model'] = metadata.model;
  const { fallbacks } = metadata;
  if (fallbacks.length > 0) {
    headers['x-llm-fallbacks'] = String(fallbacks.length);
    headers['x-llm-fallback-reason'] = fallbacks[fallbacks.length - 1]!.reason;
  }
  if (metadata.upstreamRequestId) {
    headers['x-llm-upstream-request-id'] = metadata.upstreamRequestId;
  }
  // The provider's rate-limit state, as a client calling it directly would read it.
  if (metadata.upstreamHeaders !== undefined) Object.assign(headers, metadata.upstreamHeaders);
  return headers;
}

/** The characters Node accepts in a header value (it throws on any other). */
function isHeaderValue(value: string): boolean {
  return /^[\t\x20-\x7e\x80-\xff]*$/.test(value);
}
