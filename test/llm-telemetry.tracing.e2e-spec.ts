import { type INestApplicationContext } from '@nestjs/common';
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import { LlmClient } from '../src/llm/client/llm-client';
import { type LlmModuleOptions, type LlmUpstreamOptions } from '../src/llm/llm-module.options';
import { LlmTelemetry } from '../src/llm/observability/llm-telemetry';
import { LlmTracing } from '../src/llm/observability/llm-tracing';
import { UpstreamSimulator } from '../src/simulator/upstream-simulator';
import { failureOf, startLlmApp, TEST_API_KEY } from './support/llm-test-app';
import { inMemoryTracing } from './support/in-memory-tracing';

const tracing = inMemoryTracing();
const { exporter } = tracing;

/** A prompt no span may carry unless content capture is on. */
const PROMPT = 'my private question 7731';
const MESSAGES = [{ role: 'user', content: PROMPT }];

const finished = () => exporter.getFinishedSpans();
const callSpans = () => finished().filter((s) => /^chat [^ ]+$/.test(s.name));
const childrenOf = (parent: ReadableSpan) =>
  finished().filter((s) => s.parentSpanContext?.spanId === parent.spanContext().spanId);
const single = <T>(items: T[]): T => {
  expect(items).toHaveLength(1);
  return items[0]!;
};

describe('call and attempt spans', () => {
  let sim: UpstreamSimulator;
  let app: INestApplicationContext;
  let llm: LlmClient;

  async function boot(
    upstream: Partial<LlmUpstreamOptions> = {},
    options: Partial<LlmModuleOptions> = {},
  ): Promise<INestApplicationContext> {
    return (await startLlmApp(sim.baseUrl, upstream, options)).app;
  }

  beforeAll(async () => {
    tracing.start();
    sim = await UpstreamSimulator.start();
    app = await boot();
    llm = app.get(LlmClient);
  });
  beforeEach(() => {
    sim.reset();
    exporter.reset();
  });
  afterAll(async () => {
    await app.close();
    await sim.close();
    await tracing.stop();
  });

  it('trace a call that needed three attempts: one call span, three attempt children, each wait and its source', async () => {
    sim.script([
      { type: 'error', status: 503 },
      { type: 'error', status: 429, headers: { 'retry-after-ms': '5' } },
      { type: 'ok', content: 'third time' },
    ]);
    const parent = trace.getTracer('test').startSpan('inbound request');
    await context.with(trace.setSpan(context.active(), parent), () =>
      llm.chat(
        { messages: MESSAGES, max_tokens: 50, temperature: 0.2, top_p: 0.9 },
        { userId: 'u-42', featureName: 'support-chat', requestId: 'req-1' },
      ),
    );
    parent.end();

    const call = single(callSpans());
    expect(call.name).toBe('chat gpt-4o-mini');
    expect(call.kind).toBe(SpanKind.CLIENT);
    expect(call.parentSpanContext?.spanId).toBe(parent.spanContext().spanId);
    expect(call.status.code).toBe(SpanStatusCode.UNSET);
    expect(call.attributes).toMatchObject({
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': 'gpt-4o-mini',
      'gen_ai.response.model': 'gpt-4o-mini',
      'gen_ai.response.finish_reasons': ['stop'],
      'gen_ai.request.max_tokens': 50,
      'gen_ai.request.temperature': 0.2,
      'gen_ai.request.top_p': 0.9,
      'server.address': '127.0.0.1',
      'server.port': Number(new URL(sim.baseUrl).port),
      'llm.upstream': 'sim',
      'llm.stream': false,
      'llm.attempts': 3,
      'llm.retries': 2,
      'user.id': 'u-42',
      'llm.feature': 'support-chat',
      'llm.request_id': 'req-1',
    });
    expect(call.attributes['gen_ai.response.id']).toMatch(/^chatcmpl-/);
    expect(call.attributes['gen_ai.usage.input_tokens']).toEqual(expect.any(Number));
    expect(call.attributes['gen_ai.usage.output_tokens']).toEqual(expect.any(Number));
    expect(call.attributes['llm.wait_ms']).toBeGreaterThanOrEqual(5);
    expect(call.attributes).not.toHaveProperty('error.type');
    expect(call.attributes).not.toHaveProperty('gen_ai.system');

    const attempts = childrenOf(call).sort((a, b) => a.name.localeCompare(b.name));
    expect(attempts.map((a) => a.name)).toEqual(
      [1, 2, 3].map((n) => `chat gpt-4o-mini attempt ${n}`),
    );
    expect(attempts.map((a) => a.kind)).toEqual([
      SpanKind.INTERNAL,
      SpanKind.INTERNAL,
      SpanKind.INTERNAL,
    ]);
    expect(attempts.map((a) => a.attributes['http.request.resend_count'])).toEqual([0, 1, 2]);
    expect(attempts.map((a) => a.attributes['llm.attempt.number'])).toEqual([1, 2, 3]);
    expect(attempts.map((a) => a.attributes['llm.retry.delay_source'])).toEqual([
      undefined,
      'backoff',
      'retry-after-ms',
    ]);
    expect(attempts[2]?.attributes['llm.retry.delay_ms']).toBe(5);
    expect(attempts.map((a) => a.attributes['http.response.status_code'])).toEqual([503, 429, 200]);
    expect(attempts.map((a) => a.attributes['error.type'])).toEqual([
      'overloaded',
      'rate_limited',
      undefined,
    ]);
    expect(attempts.map((a) => a.status.code)).toEqual([
      SpanStatusCode.ERROR,
      SpanStatusCode.ERROR,
      SpanStatusCode.UNSET,
    ]);
    for (const attempt of attempts) {
      expect(attempt.attributes['llm.breaker.state']).toBe('closed');
      expect(attempt.attributes['llm.limiter.wait_ms']).toBe(0);
      expect(attempt.attributes['llm.upstream_request_id']).toMatch(/^req_/);
    }

    const retries = call.events.filter((e) => e.name === 'llm.retry.scheduled');
    expect(retries.map((e) => e.attributes)).toEqual([
      expect.objectContaining({
        'llm.retry.reason': 'overloaded',
        'llm.retry.delay_source': 'backoff',
      }),
      expect.objectContaining({
        'llm.retry.reason': 'rate_limited',
        'llm.retry.delay_source': 'retry-after-ms',
        'llm.retry.delay_ms': 5,
      }),
    ]);
  });

  it('say on the call span which model finally answered and why the call moved', async () => {
    const chained = await boot({
      retry: { maxRetries: 0 },
      fallbacks: { 'gpt-4o-mini': [{ model: 'gpt-4o' }] },
    });
    try {
      sim.script([{ type: 'error', status: 503 }, { type: 'ok' }]);
      await chained.get(LlmClient).chat({ messages: MESSAGES });
      const call = single(callSpans());
      expect(call.attributes).toMatchObject({
        'gen_ai.request.model': 'gpt-4o',
        'llm.requested_model': 'gpt-4o-mini',
        'llm.fallbacks': 1,
        'llm.degraded': false,
      });
      const fallback = call.events.find((e) => e.name === 'llm.fallback');
      expect(fallback?.attributes).toEqual({
        'llm.fallback.from_upstream': 'sim',
        'llm.fallback.from_model': 'gpt-4o-mini',
        'llm.fallback.to_upstream': 'sim',
        'llm.fallback.to_model': 'gpt-4o',
        'llm.fallback.reason': 'overloaded',
      });
    } finally {
      await chained.close();
    }
  });

  it('mark a failed call as an error with its kind and a redacted exception event', async () => {
    sim.script([
      { type: 'error', status: 401, message: `Incorrect API key provided: ${TEST_API_KEY}.` },
    ]);
    await failureOf(() => llm.chat({ messages: MESSAGES }));

    const call = single(callSpans());
    expect(call.status.code).toBe(SpanStatusCode.ERROR);
    expect(call.attributes['error.type']).toBe('auth');
    const exception = single(call.events.filter((e) => e.name === 'exception'));
    expect(exception.attributes?.['exception.type']).toBe('LLM_AUTH');
    expect(exception.attributes?.['exception.message']).toContain('Incorrect API key provided');
    const attempt = single(childrenOf(call));
    expect(attempt.status.code).toBe(SpanStatusCode.ERROR);
    expect(attempt.attributes).toMatchObject({
      'error.type': 'auth',
      'http.response.status_code': 401,
    });
    expect(JSON.stringify(finished().map(dump))).not.toContain('TESTKEY');
  });

  it('give a call rejected by an open breaker a span with no attempt span, and the upstream no request', async () => {
    const strict = await boot({
      retry: { maxRetries: 0 },
      breaker: { consecutiveFailures: 1, maxBreakMs: 10_000, maxProbeWaitMs: 0 },
    });
    try {
      const client = strict.get(LlmClient);
      sim.script([{ type: 'error', status: 500 }]);
      await failureOf(() => client.chat({ messages: MESSAGES }));
      const opened = single(callSpans());
      const transition = single(opened.events.filter((e) => e.name === 'llm.breaker.transition'));
      expect(transition.attributes).toMatchObject({
        'llm.breaker.previous_state': 'closed',
        'llm.breaker.state': 'open',
      });
      exporter.reset();

      await failureOf(() => client.chat({ messages: MESSAGES }));
      const rejected = single(callSpans());
      expect(rejected.attributes).toMatchObject({
        'error.type': 'circuit_open',
        'llm.attempts': 0,
      });
      expect(rejected.status.code).toBe(SpanStatusCode.ERROR);
      expect(childrenOf(rejected)).toEqual([]);
      expect(sim.requests).toHaveLength(1);
    } finally {
      await strict.close();
    }
  });

  it('end a stream call span when the stream ends, not when it starts', async () => {
    sim.script([{ type: 'stream', chunks: ['a', 'b', 'c'], delayMs: 20 }]);
    const stream = llm.chatStream({ messages: MESSAGES });
    await stream.ready();
    expect(callSpans()).toEqual([]);
    // The attempt ends once content arrived; the call goes on until the last chunk.
    expect(single(finished()).name).toBe('chat gpt-4o-mini attempt 1');
    for await (const chunk of stream) void chunk;
    const call = single(callSpans());
    expect(call.attributes).toMatchObject({
      'llm.stream': true,
      'gen_ai.response.finish_reasons': ['stop'],
    });
    expect(call.status.code).toBe(SpanStatusCode.UNSET);
  });

  it('record no prompt text by default', async () => {
    sim.script([
      { type: 'error', status: 503 },
      { type: 'ok', content: 'answer' },
    ]);
    await llm.chat({ messages: MESSAGES });
    expect(finished().length).toBeGreaterThan(0);
    const everything = JSON.stringify(finished().map(dump));
    expect(everything).not.toContain(PROMPT);
    expect(everything).not.toContain('gen_ai.input.messages');
  });

  it('record the input messages when tracing.captureContent is on', async () => {
    const capturing = await boot({}, { tracing: { captureContent: true } });
    try {
      await capturing.get(LlmClient).chat({ messages: MESSAGES });
      const call = single(callSpans());
      expect(JSON.parse(call.attributes['gen_ai.input.messages'] as string)).toEqual([
        { role: 'user', parts: [{ type: 'text', content: PROMPT }] },
      ]);
    } finally {
      await capturing.close();
    }
  });

  it('expose the call span context for business events, also after the call ended', async () => {
    const tracing = app.get(LlmTracing);
    let seen: string | undefined;
    const probe = {
      onCallEnd: (record: Parameters<typeof tracing.spanContext>[0]) =>
        (seen = tracing.spanContext(record)?.spanId),
    };
    app.get(LlmTelemetry).register(probe);
    await llm.chat({ messages: MESSAGES });
    expect(seen).toBe(single(callSpans()).spanContext().spanId);
  });
});

/** Everything a span carries that could hold text. */
function dump(span: ReadableSpan) {
  return { name: span.name, attributes: span.attributes, events: span.events, status: span.status };
}
