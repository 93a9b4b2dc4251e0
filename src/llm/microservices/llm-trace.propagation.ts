import {
  type Context,
  context as otelContext,
  createTraceState,
  isSpanContextValid,
  ROOT_CONTEXT,
  trace,
} from '@opentelemetry/api';

// W3C Trace Context (https://www.w3.org/TR/trace-context/) whatever propagator the application
// registered (or none): the worker reads exactly these two headers. Written against the api rather
// than taken from @opentelemetry/core, whose major lines each fit a single api minor: the module
// uses the application's own @opentelemetry/api (1.9 and later), never a copy of its own.
// A version other than ff; for version 00 nothing may follow the flags.
const TRACEPARENT = /^\s?((?!ff)[\da-f]{2})-([\da-f]{32})-([\da-f]{16})-([\da-f]{2})(-.*)?\s?$/;

/** The W3C trace context headers (`traceparent`, `tracestate`). */
export const TRACE_CONTEXT_HEADERS = ['traceparent', 'tracestate'] as const;

/**
 * The W3C trace context of the active span as message headers (`traceparent`, and `tracestate`
 * when set), merged over `headers`. Empty when there is no active span.
 *
 * @example
 * const record = new RmqRecordBuilder(data)
 *   .setOptions({ headers: llmTraceHeaders({ 'x-user-id': userId }) })
 *   .build();
 * await firstValueFrom(client.send('summarise', record));
 */
export function llmTraceHeaders(
  headers: Record<string, string> = {},
  from: Context = otelContext.active(),
): Record<string, string> {
  const carrier: Record<string, string> = { ...headers };
  const span = trace.getSpanContext(from);
  if (!span || !isSpanContextValid(span)) return carrier;
  const flags = (span.traceFlags & 0xff).toString(16).padStart(2, '0');
  carrier.traceparent = `00-${span.traceId}-${span.spanId}-${flags}`;
  const state = span.traceState?.serialize();
  if (state) carrier.tracestate = state;
  return carrier;
}

/**
 * The context a message's trace headers name, to run its handler in: spans started inside it
 * are children of the producer's span. The root context when the headers are missing or invalid.
 */
export function contextFromTraceHeaders(read: (name: string) => string | undefined): Context {
  const match = TRACEPARENT.exec(read('traceparent') ?? '');
  if (!match || (match[1] === '00' && match[5])) return ROOT_CONTEXT;
  const state = read('tracestate');
  const span = {
    traceId: match[2]!,
    spanId: match[3]!,
    traceFlags: parseInt(match[4]!, 16),
    isRemote: true,
    ...(state ? { traceState: createTraceState(state) } : {}),
  };
  return isSpanContextValid(span) ? trace.setSpanContext(ROOT_CONTEXT, span) : ROOT_CONTEXT;
}
