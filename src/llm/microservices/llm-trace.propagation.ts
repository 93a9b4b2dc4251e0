import { Context, context as otelContext, ROOT_CONTEXT } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';

// W3C Trace Context whatever propagator the application registered (or none): the worker reads
// exactly these two headers.
const propagator = new W3CTraceContextPropagator();

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
  propagator.inject(from, carrier, {
    set: (_target, key, value) => {
      carrier[key] = value;
    },
  });
  return carrier;
}

/**
 * The context a message's trace headers name, to run its handler in: spans started inside it
 * are children of the producer's span. The root context when the headers are missing or invalid.
 */
export function contextFromTraceHeaders(read: (name: string) => string | undefined): Context {
  return propagator.extract(ROOT_CONTEXT, TRACE_CONTEXT_HEADERS, {
    get: (_carrier, key) => read(key),
    keys: () => [...TRACE_CONTEXT_HEADERS],
  });
}
