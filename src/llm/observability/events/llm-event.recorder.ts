import { Inject, Injectable, Optional } from '@nestjs/common';
import { context, isSpanContextValid, SpanContext, trace } from '@opentelemetry/api';
import { CallRecord } from '../../client/call-record';
import { LLM_RESOLVED_OPTIONS } from '../../llm.constants';
import { ResolvedLlmOptions } from '../../llm-module.options';
import { LLM_DEFAULTS } from '../../options/llm.defaults';
import { LlmCallObserver, LlmRequestEnding } from '../llm-call-observer';
import { LlmTelemetry } from '../llm-telemetry';
import { LlmTracing } from '../llm-tracing';
import { buildCallEvent } from './llm-call.event';
import { LlmEventSource } from './llm-event.base';
import { LlmEventSink } from './llm-event.sink';
import { buildRequestEvent } from './llm-request.event';

/**
 * Turns each finished call, and each intercepted request that made calls, into a business event
 * for the {@link LlmEventSink}. With events off (no sink) it does not even register: no work on
 * the call path at all.
 *
 * A call event's `trace.id` / `span.id` are those of the call's span (`chat {model}`), so a
 * document leads straight to its trace; without tracing, of the span active where the call was
 * made. A request event carries the span active when the request ended (its server span), else
 * its first call's.
 */
@Injectable()
export class LlmEventRecorder implements LlmCallObserver {
  private readonly source: LlmEventSource;
  private readonly spans = new WeakMap<CallRecord, SpanContext>();

  constructor(
    telemetry: LlmTelemetry,
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
    this.sink?.write(buildCallEvent(call, this.source, span));
  }

  onRequestEnd(request: LlmRequestEnding): void {
    const first = request.context.calls[0];
    if (!first) return;
    // The request's server span when it is active here; else the first call's span, which
    // shares its trace.
    const span = activeSpanContext() ?? this.tracing?.spanContext(first) ?? this.spans.get(first);
    this.sink?.write(buildRequestEvent(request, this.source, span));
  }
}

function activeSpanContext(): SpanContext | undefined {
  const span = trace.getSpanContext(context.active());
  return span && isSpanContextValid(span) ? span : undefined;
}
