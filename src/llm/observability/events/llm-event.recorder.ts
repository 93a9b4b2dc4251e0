import { Inject, Injectable, type OnApplicationShutdown, Optional } from '@nestjs/common';
import { context, isSpanContextValid, SpanContext, trace } from '@opentelemetry/api';
import { CallRecord } from '../../call/call-record';
import { LLM_RESOLVED_OPTIONS } from '../../llm.constants';
import { ResolvedLlmOptions } from '../../llm-module.options';
import { LLM_DEFAULTS } from '../../options/llm.defaults';
import { afterAnswer } from '../after-answer';
import { LlmCallObserver, LlmRequestEnding } from '../llm-call-observer';
import { LlmTelemetry } from '../llm-telemetry';
import { LlmTracing } from '../llm-tracing';
import { buildCallEvent } from './llm-call.event';
import { LlmEventSource } from './llm-event.base';
import { holdUntilExit, releasedBeforeExit } from './held-at-exit';
import { LlmEventSink } from './llm-event.sink';
import { buildRequestEvent } from './llm-request.event';

/** A finished call or request whose event is built once the caller has its answer. */
type PendingEvent =
  | { call: CallRecord; request?: undefined; span: SpanContext | undefined }
  | { call?: undefined; request: LlmRequestEnding; span: SpanContext | undefined };

/**
 * Turns each finished call, and each intercepted request that made calls, into a business event
 * for the {@link LlmEventSink}. With events off (no sink) it does not even register: no work on
 * the call path at all.
 *
 * Off the critical path: when a call or request ends, only what must be read at that moment is
 * taken (the span, the request's calls); the document is built and handed to the sink on the next
 * turn of the event loop (one `setImmediate`, shared with the metric records: `after-answer.ts`),
 * after the caller got its answer and the gateway wrote its response. Every duration and timestamp
 * comes from the record, fixed when the call ended, so the document is the same as if it were built
 * at once. Events still held are built on Nest's application shutdown (before the sinks flush: Nest
 * shuts a provider down before what it depends on) and by the process's `exit` hook.
 *
 * A call event's `trace.id` / `span.id` are those of the call's span (`chat {model}`), so a
 * document leads straight to its trace; without tracing, of the span active where the call was
 * made. A request event carries the span active when the request ended (its server span), else
 * its first call's.
 */
@Injectable()
export class LlmEventRecorder implements LlmCallObserver, OnApplicationShutdown {
  private readonly source: LlmEventSource;
  private readonly spans = new WeakMap<CallRecord, SpanContext>();
  private pending: PendingEvent[] = [];
  private scheduled = false;
  private readonly drainOnNextTurn = (): void => this.drain();

  constructor(
    private readonly telemetry: LlmTelemetry,
    @Inject(LLM_RESOLVED_OPTIONS) options: ResolvedLlmOptions,
    @Optional() @Inject(LlmEventSink) private readonly sink: LlmEventSink | null,
    @Optional() private readonly tracing?: LlmTracing,
  ) {
    this.source = {
      serviceName: options.serviceName,
      dataset: options.events.elasticsearch?.dataset ?? LLM_DEFAULTS.events.elasticsearch.dataset,
    };
    if (sink) telemetry.register(this);
  }

  onCallStart(call: CallRecord): void {
    const span = activeSpanContext();
    if (span) this.spans.set(call, span);
  }

  onCallEnd(call: CallRecord): void {
    // A stream ends later, maybe in another context: the span where it started is the fallback.
    const span = this.tracing?.spanContext(call) ?? this.spans.get(call) ?? activeSpanContext();
    this.hold({ call, span });
  }

  onRequestEnd(request: LlmRequestEnding): void {
    const first = request.context.calls[0];
    if (!first) return;
    // The request's server span when it is active here; else the first call's span, which
    // shares its trace.
    const span = activeSpanContext() ?? this.tracing?.spanContext(first) ?? this.spans.get(first);
    // The calls the request made by now: one started later in its context is not its own.
    const context = { ...request.context, calls: [...request.context.calls] };
    this.hold({ request: { ...request, context }, span });
  }

  /** Builds and writes every event still held (Nest's shutdown, after the drain). */
  onApplicationShutdown(): void {
    this.drain();
  }

  /** Builds and writes the events held now. */
  drain(): void {
    this.scheduled = false;
    releasedBeforeExit(this.drainOnNextTurn);
    const events = this.pending;
    if (events.length === 0) return;
    this.pending = [];
    for (const { call, request, span } of events) {
      try {
        this.sink?.write(
          call
            ? buildCallEvent(call, this.source, span)
            : buildRequestEvent(request, this.source, span),
        );
      } catch (error) {
        // Telemetry never fails anything: one event that cannot be built is skipped, and said.
        this.telemetry.observerFailed(error);
      }
    }
  }

  private hold(event: PendingEvent): void {
    this.pending.push(event);
    if (this.scheduled) return;
    this.scheduled = true;
    holdUntilExit(this.drainOnNextTurn);
    afterAnswer(this.drainOnNextTurn);
  }
}

function activeSpanContext(): SpanContext | undefined {
  const span = trace.getSpanContext(context.active());
  return span && isSpanContextValid(span) ? span : undefined;
}
