import { Inject, Injectable } from '@nestjs/common';
import {
  context,
  type Context,
  INVALID_SPAN_CONTEXT,
  ProxyTracerProvider,
  Span,
  SpanContext,
  SpanKind,
  SpanStatusCode,
  trace,
  Tracer,
} from '@opentelemetry/api';
import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { CallRecord } from '../call/call-record';
import { AttemptRecord, FallbackHop, RetryRecord } from '../call/call-record.types';
import { LLM_RESOLVED_OPTIONS } from '../llm.constants';
import { ResolvedLlmOptions } from '../llm-module.options';
import { LlmError } from '../resilience/llm.errors';
import { redactSecrets } from '../resilience/secret-redaction';
import { isInstrumented } from '../transport/http-telemetry';
import { LlmCallObserver } from './llm-call-observer';
import {
  attemptEndAttributes,
  attemptStartAttributes,
  callEndAttributes,
  callStartAttributes,
  retryEventAttributes,
} from './llm-span.attributes';
import { LlmTelemetry } from './llm-telemetry';
import {
  ATTR_LLM_ATTEMPT_NUMBER,
  ATTR_LLM_BREAKER_PREVIOUS_STATE,
  ATTR_LLM_BREAKER_STATE,
  ATTR_LLM_FALLBACK_FROM_MODEL,
  ATTR_LLM_FALLBACK_FROM_UPSTREAM,
  ATTR_LLM_FALLBACK_REASON,
  ATTR_LLM_FALLBACK_TO_MODEL,
  ATTR_LLM_FALLBACK_TO_UPSTREAM,
  EVENT_LLM_BREAKER_TRANSITION,
  EVENT_LLM_FALLBACK,
  EVENT_LLM_RETRY_SCHEDULED,
} from './llm.semconv';

/** The instrumentation scope of every span this module makes. */
export const LLM_TRACER_NAME = 'nestjs-resilient-llm';

/**
 * Traces every call with the OpenTelemetry API (spans go to whatever SDK the application
 * registered; without one they cost nothing):
 *
 * - `chat {model}` (CLIENT, GenAI conventions) per logical call, child of the context active when
 *   the call started (the HTTP server span while handling a request), ended when the call ends
 *   (a stream: at its last chunk). Events: `llm.retry.scheduled`, `llm.breaker.transition`.
 * - `chat {model} attempt {n}` (INTERNAL) per attempt that passed the breaker, active while the
 *   request is sent, so the HTTP instrumentation's CLIENT span is its child. INTERNAL because that
 *   HTTP span is the real outbound call: a third CLIENT span per request would be counted as
 *   another call by service maps and span metrics. The number in the name is bounded by
 *   `retry.maxRetries`, and makes the waterfall readable at a glance.
 *
 * A call rejected by an open breaker has a call span and no attempt span. A call that succeeded
 * after retries is not an error; its failed attempts are.
 */
@Injectable()
export class LlmTracing implements LlmCallObserver {
  private readonly tracer: Tracer = trace.getTracer(LLM_TRACER_NAME, packageVersion());
  private readonly calls = new SpanSlot<CallRecord>();
  /** Attempt spans while a tracer provider records them (a no-op one is made when needed). */
  private readonly attempts = new WeakMap<AttemptRecord, Span>();
  private readonly captureContent: boolean;

  constructor(telemetry: LlmTelemetry, @Inject(LLM_RESOLVED_OPTIONS) options: ResolvedLlmOptions) {
    this.captureContent = options.tracing.captureContent;
    telemetry.register(this);
  }

  /**
   * The call span's context, e.g. for `trace.id` and `span.id` in a business event (it stays
   * readable after the call ended); undefined when no OpenTelemetry SDK is registered.
   */
  spanContext(call: CallRecord): SpanContext | undefined {
    const spanContext = this.calls.get(call)?.spanContext();
    return spanContext && validSpanContext(spanContext) ? spanContext : undefined;
  }

  onCallStart(call: CallRecord): void {
    // Without a tracer provider the API's tracer ignores the name and the options: the span is
    // the no-op one, still made so that a remote parent's context reaches the attempt and event.
    const span = noTracerProvider()
      ? noopSpan(trace.getSpanContext(context.active()))
      : this.tracer.startSpan(
          `chat ${call.model}`,
          { kind: SpanKind.CLIENT, attributes: callStartAttributes(call, this.captureContent) },
          context.active(),
        );
    this.calls.set(call, span);
  }

  onAttemptStart(call: CallRecord, attempt: AttemptRecord): void {
    // Without a tracer provider the attempt span is the no-op one, which records nothing and
    // has no end to wait for: it is made when the attempt runs ({@link wrapAttempt}).
    if (noTracerProvider()) return;
    const parent = this.calls.get(call);
    const active = context.active();
    const span = this.tracer.startSpan(
      `chat ${call.model} attempt ${attempt.number}`,
      { kind: SpanKind.INTERNAL, attributes: attemptStartAttributes(attempt) },
      parent ? trace.setSpan(active, parent) : active,
    );
    this.attempts.set(attempt, span);
  }

  wrapAttempt<T>(call: CallRecord, attempt: AttemptRecord, run: () => Promise<T>): Promise<T> {
    const active = context.active();
    const span = this.attempts.get(attempt) ?? this.noopAttemptSpan(call, active);
    if (!span) return run();
    // A context entered is an AsyncLocalStorage frame per attempt: skipped when the span would
    // change nothing the attempt's request sees (no new span context to propagate or parent).
    return addsNothing(active, span) ? run() : context.with(trace.setSpan(active, span), run);
  }

  /**
   * The attempt span the API's no-op tracer would start under the call span (see
   * {@link noopSpan}), while no tracer provider is registered; else undefined. Before the call
   * span is made (its start is reported after the send: `LlmTelemetry.callStarted`), under the
   * span the call span would carry: the one active where the call runs, `active`.
   */
  private noopAttemptSpan(call: CallRecord, active: Context): Span | undefined {
    if (!noTracerProvider()) return undefined;
    const parent = this.calls.get(call);
    return noopSpan(parent ? parent.spanContext() : trace.getSpanContext(active));
  }

  onAttemptEnd(call: CallRecord, attempt: AttemptRecord): void {
    const span = this.attempts.get(attempt);
    if (span) {
      this.attempts.delete(attempt);
      if (span.isRecording()) span.setAttributes(attemptEndAttributes(attempt));
      if (attempt.error) {
        span.setStatus({ code: SpanStatusCode.ERROR, message: redacted(attempt.error, call) });
      }
      span.end();
    }
    const { breakerBefore: before, breakerAfter: after } = attempt;
    if (before && after && before !== after) {
      this.calls.get(call)?.addEvent(EVENT_LLM_BREAKER_TRANSITION, {
        [ATTR_LLM_BREAKER_PREVIOUS_STATE]: before,
        [ATTR_LLM_BREAKER_STATE]: after,
        [ATTR_LLM_ATTEMPT_NUMBER]: attempt.number,
      });
    }
  }

  onRetryScheduled(call: CallRecord, retry: RetryRecord): void {
    this.calls.get(call)?.addEvent(EVENT_LLM_RETRY_SCHEDULED, retryEventAttributes(retry));
  }

  onFallback(call: CallRecord, hop: FallbackHop): void {
    this.calls.get(call)?.addEvent(EVENT_LLM_FALLBACK, {
      [ATTR_LLM_FALLBACK_FROM_UPSTREAM]: hop.fromUpstream,
      [ATTR_LLM_FALLBACK_FROM_MODEL]: hop.fromModel,
      [ATTR_LLM_FALLBACK_TO_UPSTREAM]: hop.toUpstream,
      [ATTR_LLM_FALLBACK_TO_MODEL]: hop.toModel,
      [ATTR_LLM_FALLBACK_REASON]: hop.reason,
    });
  }

  onCallEnd(call: CallRecord): void {
    const span = this.calls.get(call);
    if (!span) return;
    if (span.isRecording()) span.setAttributes(callEndAttributes(call));
    if (call.error) {
      const message = redacted(call.error, call);
      // No stack: its first line repeats the unredacted message, and its frames are the pipeline's.
      span.recordException({ name: call.error.name, code: call.error.code, message });
      span.setStatus({ code: SpanStatusCode.ERROR, message });
    }
    span.end();
  }
}

/**
 * A span kept on the record it belongs to, under a symbol of its own (two modules in one process
 * keep theirs apart): a property costs a call a fraction of a WeakMap entry, an ephemeron that
 * every garbage collection walks too, and lives exactly as long as the record, as the entry would.
 */
class SpanSlot<K extends object> {
  private readonly key = Symbol('llm.span');

  get(owner: K): Span | undefined {
    return (owner as Record<symbol, Span | undefined>)[this.key];
  }

  set(owner: K, span: Span): void {
    (owner as Record<symbol, Span | undefined>)[this.key] = span;
  }
}

/** The no-op tracer's span without a valid parent: it holds no state, so one serves every call. */
const INVALID_SPAN = trace.wrapSpanContext(INVALID_SPAN_CONTEXT);

/**
 * The span the API's no-op tracer starts under a parent of span context `parent`: a
 * non-recording span with that span context when it is valid (so it propagates), else an empty
 * one. Made here to skip the context that would carry the parent in, the name and the options.
 */
function noopSpan(parent: SpanContext | undefined): Span {
  return parent && validSpanContext(parent) ? trace.wrapSpanContext(parent) : INVALID_SPAN;
}

/**
 * `trace.isSpanContextValid`, told the API's invalid span context (the no-op spans' of a call
 * without a trace) at once instead of by checking its ids' hex digits once more.
 */
function validSpanContext(spanContext: SpanContext): boolean {
  return spanContext !== INVALID_SPAN_CONTEXT && trace.isSpanContextValid(spanContext);
}

/**
 * Whether making `span` the active span would change nothing for the attempt's request: it is a
 * non-recording span of the no-op tracer that carries the active span's own span context (a
 * caller's `traceparent`, say), or no valid one while none is active and no HTTP instrumentation
 * is on (which may ask for a parent span: `requireParentforOutgoingSpans`).
 */
function addsNothing(active: Context, span: Span): boolean {
  if (span.isRecording()) return false;
  const spanContext = span.spanContext();
  const current = trace.getSpan(active);
  if (current) return current.spanContext() === spanContext;
  return (
    !validSpanContext(spanContext) && !isInstrumented(httpRequest) && !isInstrumented(httpsRequest)
  );
}

/** What the global tracer provider delegates to while no SDK registered one. */
const NOOP_TRACER_PROVIDER = new ProxyTracerProvider().getDelegate();

/**
 * True while no SDK registered a tracer provider (the gateway with no trace exporter, an app
 * without OpenTelemetry): every span is then a non-recording one and ignores its attributes.
 * Read on each call, since a provider may be registered after this module is created.
 */
function noTracerProvider(): boolean {
  const provider = trace.getTracerProvider();
  return provider instanceof ProxyTracerProvider && provider.getDelegate() === NOOP_TRACER_PROVIDER;
}

/**
 * Whether a tracer provider is registered: spans then record when they end, so a call's end is
 * reported where it happens (see `LlmClient.chatAnswering`). Read on each call, as above.
 */
export function tracerProviderRegistered(): boolean {
  return !noTracerProvider();
}

/** Error text for a span: provider messages may echo a key, so they are masked once more. */
function redacted(error: LlmError, call: CallRecord): string {
  return redactSecrets(error.message, call.upstream.secrets);
}

/** This package's version for the instrumentation scope; undefined when it cannot be read. */
function packageVersion(): string | undefined {
  try {
    // src/llm/observability and dist/llm/observability both sit three levels below the root.
    const file = join(__dirname, '..', '..', '..', 'package.json');
    const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
    return pkg.name === LLM_TRACER_NAME ? pkg.version : undefined;
  } catch {
    return undefined;
  }
}
