import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
  TracerProvider,
} from '@opentelemetry/sdk-trace';

/** Finished spans in memory, behind the global tracer provider the module's tracing uses. */
export interface InMemoryTracing {
  readonly exporter: InMemorySpanExporter;
  readonly provider: TracerProvider;
  /** Spans that ended so far, in the order they ended. */
  readonly spans: () => ReadableSpan[];
  /** Forgets the spans (between tests). */
  readonly reset: () => void;
  /** Makes this provider and an AsyncLocalStorage context manager global (in `beforeAll`). */
  readonly start: () => void;
  /** Shuts the provider down and removes both globals (in `afterAll`). */
  readonly stop: () => Promise<void>;
}

/**
 * The one in-memory tracing set-up of the tests, as OpenTelemetry's contrib instrumentations test:
 * `InMemorySpanExporter` behind a `SimpleSpanProcessor`, so a span is readable as soon as it ends.
 *
 * @example
 * const tracing = inMemoryTracing();
 * beforeAll(() => tracing.start());
 * afterAll(() => tracing.stop());
 */
export function inMemoryTracing(): InMemoryTracing {
  const exporter = new InMemorySpanExporter();
  const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
  const contextManager = new AsyncLocalStorageContextManager();
  return {
    exporter,
    provider,
    spans: () => exporter.getFinishedSpans(),
    reset: () => exporter.reset(),
    start: () => {
      context.setGlobalContextManager(contextManager.enable());
      trace.setGlobalTracerProvider(provider);
    },
    stop: async () => {
      await provider.shutdown();
      trace.disable();
      context.disable();
    },
  };
}
