import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import type { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import {
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace';
import { type GatewayTelemetry, startTelemetry } from '../src/gateway/telemetry.sdk';
import { builtInHttpTelemetry } from '../src/llm/transport/http-telemetry';
import { UpstreamSimulator } from '../src/simulator/upstream-simulator';
import { type GatewayTestApp, startGatewayApp } from './support/gateway-test-app';
import { startGatewayProcess } from './support/gateway.process';
import { OtlpJsonReceiver } from './support/otlp-json.receiver';
import { eventually } from './support/eventually';

const exporter = new InMemorySpanExporter();
const http = process.getBuiltinModule('node:http');
// Read as values: they are compared, never called.
const serverEmit = (): unknown => Reflect.get(http.Server.prototype, 'emit');
const unpatched = { request: http.request, emit: serverEmit() };
const finished = () => exporter.getFinishedSpans();
const childrenOf = (parent: ReadableSpan) =>
  finished().filter((s) => s.parentSpanContext?.spanId === parent.spanContext().spanId);
const single = <T>(items: T[]): T => {
  expect(items).toHaveLength(1);
  return items[0]!;
};

/** The server span of the gateway's request to `path` (the simulator's requests go to /v1 too). */
const serverSpansOf = (port: number, path: string) =>
  finished().filter(
    (s) =>
      s.kind === SpanKind.SERVER &&
      s.attributes['url.path'] === path &&
      s.attributes['server.port'] === port,
  );

/**
 * jest loads modules through its own `require`, which require-in-the-middle cannot hook, so the
 * instrumentation never sees `http` being required. Apply its patch to the process's `http`
 * module as the hook would; `disable()` (in `telemetry.shutdown()`) removes it again, so the
 * next test file in this worker gets an unpatched `http`. Outside jest, main.ts needs none of it.
 */
function patchHttpUnderJest(instrumentation: HttpInstrumentation | undefined): void {
  if (!instrumentation) throw new Error('No HTTP instrumentation: are spans recorded?');
  type Definition = {
    name: string;
    moduleExports?: unknown;
    patch?: (exports: unknown) => unknown;
  };
  const definitions = (instrumentation as unknown as { _modules: Definition[] })._modules;
  const definition = definitions.find((d) => d.name === 'http');
  if (!definition?.patch) throw new Error('HttpInstrumentation no longer defines an http patch');
  definition.moduleExports = http;
  definition.patch(http);
}

describe('gateway traces', () => {
  let telemetry: GatewayTelemetry;
  let sim: UpstreamSimulator;
  let gateway: GatewayTestApp;
  let url: string;
  let port: number;

  beforeAll(async () => {
    telemetry = startTelemetry(
      { spanProcessors: [new SimpleSpanProcessor({ exporter })], resourceDetectors: [] },
      {}, // Nothing from the environment: no OTLP exporter, no log exporter.
    );
    patchHttpUnderJest(telemetry.httpInstrumentation);
    sim = await UpstreamSimulator.start();
    gateway = await startGatewayApp({
      LLM_BASE_URL: sim.baseUrl,
      LLM_RETRY_BASE_MS: '10',
      LLM_RETRY_MAX_MS: '40',
    });
    url = gateway.url;
    port = Number(new URL(url).port);
  });
  beforeEach(() => {
    sim.reset();
    exporter.reset();
  });
  afterAll(async () => {
    await gateway?.close();
    await sim?.close();
    await telemetry?.shutdown();
  });

  it('the HTTP server span → chat span → attempt spans → HTTP client spans, one trace to the upstream', async () => {
    sim.script([
      { type: 'error', status: 503 },
      { type: 'ok', content: 'hello' },
    ]);
    const response = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-user-id': 'u-7',
        'x-feature-name': 'support-chat',
      },
      body: JSON.stringify({ messages: [{ role: 'user', content: 'Hi' }] }),
    });
    expect(response.status).toBe(200);
    await eventually(() => expect(serverSpansOf(port, '/v1/chat/completions')).toHaveLength(1));

    const server = single(serverSpansOf(port, '/v1/chat/completions'));
    expect(server.attributes['http.route']).toBe('/v1/chat/completions');
    expect(server.name).toBe('POST /v1/chat/completions');
    const call = single(childrenOf(server).filter((s) => s.name === 'chat gpt-4o-mini'));
    expect(call.kind).toBe(SpanKind.CLIENT);
    expect(call.status.code).toBe(SpanStatusCode.UNSET);
    expect(call.attributes).toMatchObject({
      'user.id': 'u-7',
      'llm.feature': 'support-chat',
      'llm.attempts': 2,
      'gen_ai.provider.name': 'openai',
    });

    const attempts = childrenOf(call).sort((a, b) => a.name.localeCompare(b.name));
    expect(attempts.map((a) => a.name)).toEqual([
      'chat gpt-4o-mini attempt 1',
      'chat gpt-4o-mini attempt 2',
    ]);
    const clients = attempts.map((attempt) => single(childrenOf(attempt)));
    expect(clients.map((c) => c.kind)).toEqual([SpanKind.CLIENT, SpanKind.CLIENT]);
    expect(clients.map((c) => c.attributes['http.response.status_code'])).toEqual([503, 200]);
    // Each HTTP client span ends within its attempt's: the body's end is not left for later. Told
    // by the order the spans ended in (the simple processor exports each as it ends), not by
    // their end times, which two spans may take from clocks anchored apart by up to a millisecond.
    const endOrder = finished();
    clients.forEach((client, i) =>
      expect(endOrder.indexOf(client)).toBeLessThan(endOrder.indexOf(attempts[i]!)),
    );
    // The upstream got the trace context of the HTTP client span of its attempt.
    expect(sim.requests.map((r) => r.headers.traceparent?.split('-')[2])).toEqual(
      clients.map((c) => c.spanContext().spanId),
    );
    const traceIds = new Set(
      [server, call, ...attempts, ...clients].map((s) => s.spanContext().traceId),
    );
    expect(traceIds.size).toBe(1);
  });

  it('trace no health probes and no metrics scrapes', async () => {
    for (const path of ['/health/live', '/health/ready', '/metrics']) {
      expect((await fetch(`${url}${path}`)).status).toBeLessThan(500);
    }
    // A traced request afterwards proves spans were being exported meanwhile.
    await fetch(`${url}/v1/models`);
    await eventually(() => expect(serverSpansOf(port, '/v1/models')).toHaveLength(1));
    expect(finished().filter((s) => s.kind === SpanKind.SERVER)).toHaveLength(1);
  });

  it('runs the HTTP instrumentation, not the built-in HTTP telemetry, when spans are recorded', () => {
    expect(telemetry.httpTelemetry).toBe('instrumentation');
    expect(telemetry.httpInstrumentation?.isEnabled()).toBe(true);
    expect(builtInHttpTelemetry()).toBeUndefined();
  });

  it('removes its http patches on shutdown, for whatever runs next in this process', async () => {
    expect(http.request).not.toBe(unpatched.request);
    await telemetry.shutdown();
    expect(http.request).toBe(unpatched.request);
    expect(serverEmit()).toBe(unpatched.emit);
  });
});

describe('gateway traces from its real entry point', () => {
  it('starts the SDK, exports over OTLP as OTEL_* says, and flushes on SIGTERM', async () => {
    const collector = await OtlpJsonReceiver.start();
    const sim = await UpstreamSimulator.start();
    const gateway = await startGatewayProcess({
      PATH: process.env.PATH,
      LLM_BASE_URL: sim.baseUrl,
      OTEL_SERVICE_NAME: 'gateway-under-test',
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${collector.url}/v1/traces`,
      OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json',
    });
    try {
      const response = await fetch(`${gateway.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ messages: [{ role: 'user', content: 'Hi' }] }),
      });
      expect(response.status).toBe(200);
      // The batch is still in memory: only the shutdown's flush sends it.
      await gateway.stop();

      const spans = collector.spans.filter((s) => s.service === 'gateway-under-test');
      const byId = (id?: string) => spans.find((s) => s.spanId === id);
      const call = single(spans.filter((s) => s.name === 'chat gpt-4o-mini'));
      // The server span comes from the SDK main.ts starts; the call span is its child.
      expect(byId(call.parentSpanId)).toMatchObject({
        name: 'POST /v1/chat/completions',
        kind: 2,
        scope: '@opentelemetry/instrumentation-http',
      });
      const attempt = single(spans.filter((s) => s.parentSpanId === call.spanId));
      expect(attempt.name).toBe('chat gpt-4o-mini attempt 1');
      const client = single(spans.filter((s) => s.parentSpanId === attempt.spanId));
      expect(client).toMatchObject({ kind: 3, attributes: { 'http.response.status_code': 200 } });
      expect(gateway.output()).toContain(
        `Traces are exported over OTLP (http/json) to ${collector.url}/v1/traces.`,
      );
    } finally {
      await gateway.stop();
      await sim.close();
      await collector.close();
    }
  });
});
