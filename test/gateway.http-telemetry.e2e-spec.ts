import { propagation } from '@opentelemetry/api';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { type GatewayTelemetry, startTelemetry } from '../src/gateway/telemetry.sdk';
import { UpstreamSimulator } from '../src/simulator/upstream-simulator';
import { type GatewayTestApp, startGatewayApp } from './support/gateway-test-app';
import { startGatewayProcess } from './support/gateway.process';
import { PromText } from './support/prometheus-text';

const http = process.getBuiltinModule('node:http');
const unpatched = { request: http.request, emit: Reflect.get(http.Server.prototype, 'emit') };

const CALLER = {
  traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
  tracestate: 'vendor=opaque',
  baggage: 'tenant=acme',
};
// The HTTP instrumentation's scope, whose series the built-in telemetry keeps.
const instrumentation = new HttpInstrumentation({ enabled: false });
const SCOPE = {
  otel_scope_name: instrumentation.instrumentationName,
  otel_scope_version: instrumentation.instrumentationVersion,
};
// The HTTP instrumentation's buckets (seconds), as Prometheus spells them.
const BUCKETS = [
  '0.005',
  '0.01',
  '0.025',
  '0.05',
  '0.075',
  '0.1',
  '0.25',
  '0.5',
  '0.75',
  '1',
  '2.5',
  '5',
  '7.5',
  '10',
  '+Inf',
];

const chat = (url: string, headers: Record<string, string> = {}) =>
  fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ messages: [{ role: 'user', content: 'Hi' }] }),
  });

const scrape = async (url: string) => {
  const res = await fetch(`${url}/metrics`);
  expect(res.status).toBe(200);
  return new PromText(await res.text());
};

/**
 * The gateway's default: no trace exporter, so no span is recorded and the HTTP instrumentation
 * is not loaded. The built-in HTTP telemetry keeps what the instrumentation gave without spans:
 * the caller's trace context reaches the upstream, and the two HTTP duration metrics, with the
 * instrumentation's names, labels, buckets and scope.
 */
describe('gateway HTTP telemetry without a trace exporter (built in)', () => {
  let telemetry: GatewayTelemetry;
  let sim: UpstreamSimulator;
  let gateway: GatewayTestApp;
  let simPort: string;

  beforeAll(async () => {
    // What main.ts starts with nothing configured.
    telemetry = startTelemetry({ resourceDetectors: [] }, {});
    sim = await UpstreamSimulator.start();
    simPort = new URL(sim.baseUrl).port;
    gateway = await startGatewayApp({
      LLM_BASE_URL: sim.baseUrl,
      LLM_RETRY_BASE_MS: '5',
      LLM_RETRY_MAX_MS: '20',
    });
  });
  beforeEach(() => sim.reset());
  afterAll(async () => {
    await gateway?.close();
    await sim?.close();
    await telemetry?.shutdown();
  });

  it('loads no HTTP instrumentation: nothing patches `http`', () => {
    expect(telemetry.httpTelemetry).toBe('built-in');
    expect(telemetry.httpInstrumentation).toBeUndefined();
    expect(http.request).toBe(unpatched.request);
    expect(Reflect.get(http.Server.prototype, 'emit')).toBe(unpatched.emit);
  });

  it("carries the caller's trace context to the upstream, on every attempt", async () => {
    sim.script([
      { type: 'error', status: 503 },
      { type: 'ok', content: 'hello' },
    ]);
    const response = await chat(gateway.url, CALLER);
    expect(response.status).toBe(200);
    expect(sim.requests).toHaveLength(2);
    for (const request of sim.requests) {
      // No span is recorded, so the upstream's parent is the caller's span, in the caller's trace.
      expect(request.headers).toMatchObject(CALLER);
    }
  });

  it("propagates with W3C trace context and baggage, sdk-node's default", () => {
    expect(propagation.fields()).toEqual(['traceparent', 'tracestate', 'baggage']);
  });

  it("carries the caller's traceparent alone, and its baggage alone, to the upstream", async () => {
    // The W3C propagator skips extraction only when both headers are absent.
    expect((await chat(gateway.url, { traceparent: CALLER.traceparent })).status).toBe(200);
    expect((await chat(gateway.url, { baggage: CALLER.baggage })).status).toBe(200);
    expect(sim.requests).toHaveLength(2);
    expect(sim.requests[0]!.headers.traceparent).toBe(CALLER.traceparent);
    expect(sim.requests[0]!.headers.baggage).toBeUndefined();
    expect(sim.requests[1]!.headers.traceparent).toBeUndefined();
    expect(sim.requests[1]!.headers.baggage).toBe(CALLER.baggage);
  });

  it('sends no trace context to the upstream when the caller sent none', async () => {
    expect((await chat(gateway.url)).status).toBe(200);
    expect(sim.requests).toHaveLength(1);
    expect(sim.requests[0]!.headers.traceparent).toBeUndefined();
    expect(sim.requests[0]!.headers.baggage).toBeUndefined();
  });

  it('records http.server.request.duration and http.client.request.duration with their labels', async () => {
    const before = await scrape(gateway.url);
    const server = {
      http_request_method: 'POST',
      url_scheme: 'http',
      network_protocol_version: '1.1',
      ...SCOPE,
    };
    const client = {
      http_request_method: 'POST',
      server_address: '127.0.0.1',
      server_port: simPort,
      network_protocol_version: '1.1',
      ...SCOPE,
    };
    const count = (prom: PromText, name: string, labels: Record<string, string>) =>
      prom.value(name, labels) ?? 0;

    sim.script([
      { type: 'error', status: 503 },
      { type: 'ok', content: 'hello' },
    ]);
    expect((await chat(gateway.url)).status).toBe(200);
    sim.script([{ type: 'error', status: 400 }]);
    expect((await chat(gateway.url)).status).toBe(400);
    // Probes and scrapes are not measured, as the instrumentation ignored them.
    for (const path of ['/health/live', '/health/ready', '/metrics'])
      await fetch(gateway.url + path);

    const after = await scrape(gateway.url);
    const delta = (name: string, labels: Record<string, string>) =>
      count(after, name, labels) - count(before, name, labels);
    const serverOk = { ...server, http_response_status_code: '200' };
    expect(delta('http_server_request_duration_count', serverOk)).toBe(1);
    expect(
      delta('http_server_request_duration_count', { ...server, http_response_status_code: '400' }),
    ).toBe(1);
    expect(
      after.find('http_server_request_duration_count', { http_request_method: 'GET' }),
    ).toEqual([]);
    expect(
      delta('http_client_request_duration_count', { ...client, http_response_status_code: '200' }),
    ).toBe(1);
    const upstreamErrors = (status: string) =>
      delta('http_client_request_duration_count', {
        ...client,
        http_response_status_code: status,
        error_type: status,
      });
    expect(upstreamErrors('503')).toBe(1);
    expect(upstreamErrors('400')).toBe(1);

    expect(after.types.get('http_server_request_duration')).toBe('histogram');
    expect(after.types.get('http_client_request_duration')).toBe('histogram');
    expect(after.text).toContain('# UNIT http_server_request_duration s');
    expect(after.text).toContain(
      '# HELP http_client_request_duration Duration of HTTP client requests.',
    );
    const buckets = after.find('http_server_request_duration_bucket', serverOk);
    expect(buckets.map((b) => b.labels.le)).toEqual(BUCKETS);
    // Seconds, not milliseconds: a loopback call is well under a minute.
    const sum = after.value('http_server_request_duration_sum', serverOk)!;
    expect(sum).toBeGreaterThan(0);
    expect(sum).toBeLessThan(60);
  });
});

describe('gateway HTTP telemetry from its real entry point, nothing configured', () => {
  it("carries the caller's traceparent to the upstream and serves the HTTP metrics", async () => {
    const sim = await UpstreamSimulator.start();
    const gateway = await startGatewayProcess({
      PATH: process.env.PATH,
      LLM_BASE_URL: sim.baseUrl,
    });
    try {
      const response = await chat(gateway.url, CALLER);
      expect(response.status).toBe(200);
      expect(sim.requests.map((r) => r.headers.traceparent)).toEqual([CALLER.traceparent]);
      const prom = await scrape(gateway.url);
      const labels = { http_request_method: 'POST', http_response_status_code: '200', ...SCOPE };
      expect(prom.value('http_server_request_duration_count', labels)).toBe(1);
      expect(prom.value('http_client_request_duration_count', labels)).toBe(1);
      // target_info, on the unauthenticated /metrics: the service and host, not the process's
      // command line, executable or owner.
      const targetInfo = prom.text.split('\n').find((line) => line.startsWith('target_info{'));
      expect(targetInfo).toContain('service_name="llm-gateway"');
      expect(targetInfo).not.toMatch(
        /process_command|process_executable|process_owner|process_pid/,
      );
    } finally {
      await gateway.stop();
      await sim.close();
    }
  });
});

describe('gateway trace context with OTEL_PROPAGATORS set, from its real entry point', () => {
  const B3 = '0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-1';

  it.each([
    // b3: the caller's B3 context is extracted and sent on; W3C headers are not read.
    ['b3', { b3: B3 }, 'b3', B3],
    // none: nothing is extracted nor sent.
    ['none', CALLER, 'traceparent', undefined],
  ])(
    'OTEL_PROPAGATORS=%s, caller headers %j: the upstream gets %s = %s',
    async (propagators, headers, name, expected) => {
      const sim = await UpstreamSimulator.start();
      const gateway = await startGatewayProcess({
        PATH: process.env.PATH,
        LLM_BASE_URL: sim.baseUrl,
        OTEL_PROPAGATORS: propagators,
      });
      try {
        expect((await chat(gateway.url, headers)).status).toBe(200);
        expect(sim.requests).toHaveLength(1);
        expect(sim.requests[0]!.headers[name]).toBe(expected);
      } finally {
        await gateway.stop();
        await sim.close();
      }
    },
  );
});
