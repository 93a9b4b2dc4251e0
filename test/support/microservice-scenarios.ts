import type { ReadableSpan, TracerProvider } from '@opentelemetry/sdk-trace';
import { eventually as poll } from './eventually';
import { inMemoryTracing as sharedInMemoryTracing } from './in-memory-tracing';

/** Spans of the producer and of the in-process worker, in memory. */
export function inMemoryTracing(): {
  spans: () => ReadableSpan[];
  provider: TracerProvider;
  reset: () => void;
} {
  const tracing = sharedInMemoryTracing();
  tracing.start();
  return { spans: tracing.spans, provider: tracing.provider, reset: tracing.reset };
}

/** Polls until `read` returns something (events are written after the reply may be sent). */
export function eventually<T>(read: () => T | undefined, what: string): Promise<T> {
  return poll(() => read() ?? false, { timeoutMs: 10_000, intervalMs: 20, what });
}

/** Runs `fn` inside a span of the producer and returns the span's ids with the result. */
export async function inProducerSpan<T>(
  provider: TracerProvider,
  fn: () => Promise<T>,
): Promise<{ traceId: string; spanId: string; result: T }> {
  const tracer = provider.getTracer('producer');
  return tracer.startActiveSpan('producer send', async (span) => {
    try {
      const result = await fn();
      return { ...span.spanContext(), result };
    } finally {
      span.end();
    }
  });
}

/** `promise`, or a rejection naming `what` after 20 s (so a hang fails with the worker's log). */
export function within<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), 20_000);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
