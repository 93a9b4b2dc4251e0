import { CallHandler, ExecutionContext, Inject, Injectable, NestInterceptor } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { Context, context as otelContext, trace } from '@opentelemetry/api';
import type { IncomingMessage } from 'node:http';
import { Observable } from 'rxjs';
import { LLM_RESOLVED_OPTIONS } from '../llm.constants';
import { ResolvedLlmOptions } from '../llm-module.options';
import { LlmDrain } from '../lifecycle/llm-drain';
import { contextFromTraceHeaders } from '../microservices/llm-trace.propagation';
import { LlmError } from '../resilience/llm.errors';
import { builtInHttpTelemetry } from '../transport/http-telemetry';
import { LlmRequestEnding } from './llm-call-observer';
import { cleanContextValue } from './llm-context.extractors';
import { rpcHeader } from './rpc-message.reader';
import { endRpcMessageSpan, startRpcMessageSpan } from './rpc-message.span';
import { RpcRequestTracker } from './rpc-request.info';
import { LlmRequestContext, newRequestId, runInLlmContext } from './llm-context.storage';
import { LLM_FEATURE_KEY } from './llm-feature.decorator';
import { LlmTelemetry } from './llm-telemetry';

interface HttpRequest {
  method?: string;
  originalUrl?: string;
  url?: string;
  route?: { path?: string };
  baseUrl?: string;
  /** Fastify's request: the route template. */
  routeOptions?: { url?: string };
}
interface NodeResponse {
  statusCode: number;
  once(event: 'close', listener: () => void): unknown;
  on(event: 'close', listener: () => void): unknown;
}
/** Express' response is Node's; Fastify's reply wraps it as `raw`. */
type HttpResponse = NodeResponse | { raw: NodeResponse };

/**
 * Puts who (user id), which feature and which request into an AsyncLocalStorage context that
 * every LlmClient call made while handling the request picks up, for HTTP handlers and
 * microservice (RPC) message handlers alike. It names the HTTP server span after the route, and
 * when the request made LLM calls, reports how it ended (one business event per request).
 *
 * For a message (RPC), it also continues the producer's trace (W3C `traceparent` in the message
 * headers or metadata), records the transport, pattern, redelivery and outcome (ack, nack,
 * error), and registers the handler with {@link LlmDrain}: on shutdown the consumer stops, the
 * handlers in flight finish within the drain timeout, and new messages are refused.
 *
 * @example
 * @UseInterceptors(LlmContextInterceptor)   // or LlmModule.forRoot({ context: { global: true } })
 * @LlmFeature('support-chat')
 * @Controller('support') export class SupportController {}
 */
@Injectable()
export class LlmContextInterceptor implements NestInterceptor {
  /** The `@LlmFeature` found per handler (with the class it was found for). */
  private readonly features = new WeakMap<object, { cls: object; feature?: string }>();

  constructor(
    private readonly reflector: Reflector,
    private readonly telemetry: LlmTelemetry,
    @Inject(LLM_RESOLVED_OPTIONS) private readonly options: ResolvedLlmOptions,
    private readonly drain: LlmDrain,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const rpc =
      context.getType() === 'rpc' ? new RpcRequestTracker(context, this.drain) : undefined;
    if (rpc && this.drain.draining) {
      throw new LlmError(
        'shutting_down',
        `This worker is shutting down and takes no new messages ('${rpc.info.pattern ?? '?'}'); ` +
          'send it again to another worker.',
        { retryable: false },
      );
    }
    const store = this.store(context, rpc);
    const startedAt = Date.now();
    const http = context.getType() === 'http';
    return new Observable((subscriber) => {
      let error: unknown;
      const tracked = rpc ? this.drain.trackHandler() : undefined;
      // The handler counts as in flight until its reply is out (see RpcRequestTracker.replied),
      // so a drain that ends now does not close the channel under the reply.
      let released = false;
      const release = (): void => {
        if (!tracked || released) return;
        released = true;
        void rpc!.replied().finally(tracked);
      };
      // A message gets a span of its own, child of the producer's span when it sent one.
      const parent = this.parentContext(context);
      const span = rpc && startRpcMessageSpan(rpc.info, parent);
      const active = span ? trace.setSpan(parent, span) : parent;
      const report = (statusCode: number): void => {
        release();
        const info = rpc?.settle(statusCode >= 400);
        if (span && info) endRpcMessageSpan(span, info, error);
        if (store.calls.length === 0) return;
        const ending = this.ending(context, store, statusCode, startedAt, error);
        this.telemetry.requestEnded(info ? { ...ending, rpc: info } : ending);
      };
      if (http) {
        // The status is final only once the response is sent (exception filters set it late).
        const reply = context.switchToHttp().getResponse<HttpResponse>();
        const res = 'raw' in reply ? reply.raw : reply;
        res.once('close', () => report(answeredStatus(res)));
      }
      const handle = () =>
        next.handle().subscribe({
          next: (value) => subscriber.next(value),
          error: (e: unknown) => {
            error = e;
            if (!http) report(500);
            subscriber.error(e);
          },
          complete: () => {
            if (!http) report(200);
            subscriber.complete();
          },
        });
      // An HTTP request's context is the active one already: entering it again would cost a
      // second AsyncLocalStorage frame per request for nothing.
      const subscription = runInLlmContext(store, () =>
        otelContext.active() === active ? handle() : otelContext.with(active, handle),
      );
      return () => {
        subscription.unsubscribe();
        release();
      };
    });
  }

  /**
   * {@link intercept} for an HTTP handler that enters the context itself, without Nest's
   * interceptor chain around it (an interceptor costs every request an rxjs pipeline): the same
   * context, route naming and request ending. `context` is the handler's, as Nest would give it.
   * `handle` gets the context it runs in (what `currentLlmContext()` returns inside it).
   *
   * @example
   * return this.llmContext.runHttp(new ExecutionContextHost([req, res]), () => this.answer(req, res));
   */
  runHttp<T>(
    context: ExecutionContext,
    handle: (store: LlmRequestContext) => Promise<T>,
  ): Promise<T> {
    // Read once: the route's span, the caller's context and the check below all start from it.
    const active = otelContext.active();
    const store = this.store(context, undefined, active);
    const startedAt = Date.now();
    let error: unknown;
    const reply = context.switchToHttp().getResponse<HttpResponse>();
    const res = 'raw' in reply ? reply.raw : reply;
    // `on`, not `once`: a response closes once, and `once` wraps every listener in two objects.
    res.on('close', () => {
      if (store.calls.length === 0) return;
      this.telemetry.requestEnded(
        this.ending(context, store, answeredStatus(res), startedAt, error),
      );
    });
    const run = (): Promise<T> =>
      handle(store).catch((e: unknown) => {
        error = e;
        throw e;
      });
    // The caller's trace context, when no instrumentation made it the active one already.
    const parent = this.parentContext(context, active);
    return runInLlmContext(store, () =>
      active === parent ? run() : otelContext.with(parent, run),
    );
  }

  private store(
    context: ExecutionContext,
    rpc: RpcRequestTracker | undefined,
    active: Context = otelContext.active(),
  ): LlmRequestContext {
    const extractors = this.options.context;
    return {
      userId: extractors.userId(context),
      featureName: this.declaredFeature(context) ?? extractors.featureName(context),
      requestId: extractors.requestId(context) ?? rpc?.fallbackRequestId() ?? newRequestId(),
      route: this.route(context, active),
      calls: [],
    };
  }

  /**
   * The `@LlmFeature` of the handler, else of its class. Decorators set it when the classes are
   * defined, so it is looked up once per handler and class, not walked through the metadata of
   * both on every request.
   */
  private declaredFeature(context: ExecutionContext): string | undefined {
    const handler = context.getHandler();
    const cls = context.getClass();
    const known = this.features.get(handler);
    if (known?.cls === cls) return known.feature;
    const feature = this.reflector.getAllAndOverride<string | undefined>(LLM_FEATURE_KEY, [
      handler,
      cls,
    ]);
    this.features.set(handler, { cls, feature });
    return feature;
  }

  /**
   * For a message: the producer's trace context from its headers or metadata, so the handler's
   * LLM call spans join the producer's trace. An active span (from an instrumentation) wins. For
   * an HTTP request without an instrumentation, the caller's (when the built-in HTTP telemetry
   * is on, see transport/http-telemetry.ts).
   */
  private parentContext(
    context: ExecutionContext,
    active: Context = otelContext.active(),
  ): Context {
    if (context.getType() === 'http') {
      // No HTTP instrumentation put the caller's context here: the built-in telemetry reads it.
      const http = builtInHttpTelemetry();
      if (!http || trace.getSpan(active)) return active;
      return http.extract(active, context.switchToHttp().getRequest<IncomingMessage>().headers);
    }
    if (context.getType() !== 'rpc' || trace.getSpanContext(active)) return active;
    const extracted = contextFromTraceHeaders((name) =>
      cleanContextValue(rpcHeader(context, name)),
    );
    return trace.getSpanContext(extracted) ? extracted : active;
  }

  /** The route template, also set as `http.route` on the HTTP server span and in its name. */
  private route(context: ExecutionContext, active: Context): string | undefined {
    if (context.getType() !== 'http') {
      return `${context.getClass().name}.${context.getHandler().name}`;
    }
    const req = context.switchToHttp().getRequest<HttpRequest>();
    const path = req.route?.path ? `${req.baseUrl ?? ''}${req.route.path}` : req.routeOptions?.url;
    const span = trace.getSpan(active);
    if (span && path) {
      span.setAttribute('http.route', path);
      span.updateName(`${req.method ?? 'HTTP'} ${path}`);
    }
    return path;
  }

  private ending(
    context: ExecutionContext,
    store: LlmRequestContext,
    statusCode: number,
    startedAt: number,
    error: unknown,
  ): LlmRequestEnding {
    const req =
      context.getType() === 'http' ? context.switchToHttp().getRequest<HttpRequest>() : {};
    const path = (req.originalUrl ?? req.url)?.split('?')[0];
    return {
      context: store,
      transport: context.getType(),
      method: req.method,
      path,
      statusCode,
      startedAt,
      endedAt: Date.now(),
      error,
    };
  }
}

/**
 * The status a closed response ended with: its own once sent to its end, else 499 (nginx's
 * "client closed request"): the client left before the answer was complete, so the status Nest
 * had set (201 for a POST) was never what it got.
 */
function answeredStatus(res: { statusCode: number; writableFinished?: boolean }): number {
  return res.writableFinished === false ? CLIENT_CLOSED_REQUEST : res.statusCode;
}

const CLIENT_CLOSED_REQUEST = 499;
