import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  InMemorySpanExporter,
  ReadableSpan,
  SimpleSpanProcessor,
  TracerProvider,
} from '@opentelemetry/sdk-trace';

/** Spans of the producer and of the in-process worker, in memory. */
export function inMemoryTracing(): {
  spans: () => ReadableSpan[];
  provider: TracerProvider;
  reset: () => void;
} {
  const exporter = new InMemorySpanExporter();
  const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
  const contextManager = new AsyncLocalStorageContextManager();
  contextManager.enable();
  context.setGlobalContextManager(contextManager);
  trace.setGlobalTracerProvider(provider);
  return { spans: () => exporter.getFinishedSpans(), provider, reset: () => exporter.reset() };
}

/** Polls until `read` returns something (events are written after the reply may be sent). */
export async function eventually<T>(read: () => T | undefined, what: string): Promise<T> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const value = read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
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
