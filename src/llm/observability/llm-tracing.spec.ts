import {
  type Context,
  context,
  type ContextManager,
  ROOT_CONTEXT,
  type Span,
  type SpanOptions,
  TraceFlags,
  trace,
  type Tracer,
  type TracerProvider,
} from '@opentelemetry/api';
import { CallRecord } from '../call/call-record';
import type { ResolvedLlmOptions, ResolvedUpstream } from '../llm-module.options';
import { LlmTelemetry } from './llm-telemetry';
import { LlmTracing } from './llm-tracing';

/** A synchronous context manager: enough for `context.with` around synchronous hooks. */
class StackContextManager implements ContextManager {
  private current: Context = ROOT_CONTEXT;
  active(): Context {
    return this.current;
  }
  with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(
    ctx: Context,
    fn: F,
    thisArg?: ThisParameterType<F>,
    ...args: A
  ): ReturnType<F> {
    const previous = this.current;
    this.current = ctx;
    try {
      return fn.call(thisArg, ...args);
    } finally {
      this.current = previous;
    }
  }
  bind<T>(_ctx: Context, target: T): T {
    return target;
  }
  enable(): this {
    return this;
  }
  disable(): this {
    return this;
  }
}

const upstream = {
  name: 'main',
  provider: 'openai',
  baseUrl: 'http://127.0.0.1:9/v1',
} as ResolvedUpstream;
const options = { tracing: { captureContent: false } } as ResolvedLlmOptions;
const remote = {
  traceId: '0af7651916cd43dd8448eb211c80319c',
  spanId: 'b7ad6b7169203331',
  traceFlags: TraceFlags.SAMPLED,
  isRemote: true,
};
const newCall = () =>
  new CallRecord({
    upstream,
    model: 'gpt-4o-mini',
    clientRequestId: 'c-1',
    stream: false,
    context: { userId: 'u-1' },
    request: { messages: [{ role: 'user', content: 'Hi' }] },
  });

describe('LlmTracing', () => {
  beforeAll(() => context.setGlobalContextManager(new StackContextManager()));
  afterAll(() => context.disable());
  afterEach(() => trace.disable());

  it('with no tracer provider, still carries the parent trace context to the call (events read it)', () => {
    const tracing = new LlmTracing(new LlmTelemetry(), options);
    const call = newCall();
    context.with(trace.setSpanContext(ROOT_CONTEXT, remote), () => tracing.onCallStart(call));
    expect(tracing.spanContext(call)).toMatchObject({
      traceId: remote.traceId,
      spanId: remote.spanId,
    });
    tracing.onCallEnd(call);
  });

  it('with a tracer provider, gives the call span its attributes when it starts', () => {
    const started: SpanOptions[] = [];
    const startSpan = (_name: string, spanOptions?: SpanOptions): Span => {
      started.push(spanOptions ?? {});
      return trace.wrapSpanContext(remote);
    };
    const tracer = { startSpan } as unknown as Tracer;
    const provider: TracerProvider = { getTracer: () => tracer };
    trace.setGlobalTracerProvider(provider);
    const tracing = new LlmTracing(new LlmTelemetry(), options);
    tracing.onCallStart(newCall());
    expect(started[0]?.attributes).toMatchObject({
      'gen_ai.operation.name': 'chat',
      'gen_ai.request.model': 'gpt-4o-mini',
      'llm.upstream': 'main',
      'user.id': 'u-1',
    });
  });
});
