import {
  AggregationTemporality,
  type DataPoint,
  type Histogram,
  MeterProvider,
  MetricReader,
} from '@opentelemetry/sdk-metrics';
import { once } from 'node:events';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { bodyTaken, BuiltInHttpTelemetry, isInstrumented } from './http-telemetry';

/** Reads what the provider holds, on demand. */
class TestReader extends MetricReader {
  constructor() {
    super({ aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE });
  }
  protected onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
  protected onShutdown(): Promise<void> {
    return Promise.resolve();
  }
}

describe('BuiltInHttpTelemetry', () => {
  let reader: TestReader;
  let provider: MeterProvider;
  let telemetry: BuiltInHttpTelemetry;
  let server: http.Server;
  let port: number;

  const points = async (name: string): Promise<DataPoint<Histogram>[]> => {
    const { resourceMetrics } = await reader.collect();
    const scope = resourceMetrics.scopeMetrics.find(
      (s) => s.scope.name === '@opentelemetry/instrumentation-http',
    );
    const metric = scope?.metrics.find((m) => m.descriptor.name === name);
    return (metric?.dataPoints ?? []) as DataPoint<Histogram>[];
  };

  beforeEach(async () => {
    reader = new TestReader();
    provider = new MeterProvider({ readers: [reader] });
    telemetry = new BuiltInHttpTelemetry(
      { name: '@opentelemetry/instrumentation-http', version: '0.301.0' },
      provider,
    );
    server = http.createServer((req, res) => {
      telemetry.serverRequest(req, res, 'http');
      res.statusCode = req.url === '/fail' ? 502 : 200;
      res.end('ok');
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    port = (server.address() as AddressInfo).port;
  });
  afterEach(async () => {
    server.closeAllConnections();
    server.close();
    await provider.shutdown();
  });

  const get = (path: string, targetPort = port) =>
    new Promise<number | Error>((resolve) => {
      const req = http.request(
        { hostname: '127.0.0.1', port: String(targetPort), path, method: 'POST', agent: false },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
          timing.response(res);
        },
      );
      // Told what happens by the request's own listeners, as the transport does.
      const timing = telemetry.clientRequest('post', {
        hostname: '127.0.0.1',
        port: String(targetPort),
        secure: false,
      });
      req.on('close', () => timing.closed());
      req.on('error', (error) => {
        timing.failed(error);
        resolve(error);
      });
      req.end();
    });

  it('labels a server 5xx with error.type, as the instrumentation does; a 2xx without', async () => {
    expect(await get('/ok')).toBe(200);
    expect(await get('/fail')).toBe(502);
    // The response's close comes after the client read it.
    for (let i = 0; i < 50 && (await points('http.server.request.duration')).length < 2; i++) {
      await new Promise((r) => setTimeout(r, 10));
    }
    const server = await points('http.server.request.duration');
    expect(server.map((p) => p.attributes)).toEqual([
      {
        'http.request.method': 'POST',
        'url.scheme': 'http',
        'network.protocol.version': '1.1',
        'http.response.status_code': 200,
      },
      {
        'http.request.method': 'POST',
        'url.scheme': 'http',
        'network.protocol.version': '1.1',
        'http.response.status_code': 502,
        'error.type': '502',
      },
    ]);
    const client = await points('http.client.request.duration');
    expect(client.map((p) => [p.attributes['http.response.status_code'], p.value.count])).toEqual([
      [200, 1],
      [502, 1],
    ]);
    expect(client[1]!.attributes).toEqual({
      'http.request.method': 'POST',
      'server.address': '127.0.0.1',
      'server.port': port,
      'network.protocol.version': '1.1',
      'http.response.status_code': 502,
      'error.type': '502',
    });
  });

  it('ends a body taken whole when it is taken, and records it when the response ends after the answer', async () => {
    const taken = new Promise<{ takenMs: number; endedMs: number }>((resolve, reject) => {
      const req = http.request(
        { hostname: '127.0.0.1', port: String(port), path: '/ok', method: 'POST', agent: false },
        (res) => {
          timing.response(res);
          // As the attempt does: the body that came with the head, taken in a later microtask.
          void Promise.resolve().then(() => {
            const started = performance.now();
            const waited = (): void => {
              if (!res.complete) return void setImmediate(waited);
              res.read();
              bodyTaken(res);
              const takenMs = performance.now() - started;
              // The caller's answer, 60 ms of it, before the response's `end` (next tick).
              while (performance.now() - started < takenMs + 60);
              res.on('end', () => resolve({ takenMs, endedMs: performance.now() - started }));
            };
            waited();
          });
        },
      );
      const timing = telemetry.clientRequest('POST', {
        hostname: '127.0.0.1',
        port: String(port),
        secure: false,
      });
      req.on('close', () => timing.closed());
      req.on('error', reject);
      req.end();
    });
    const { endedMs } = await taken;
    expect(endedMs).toBeGreaterThanOrEqual(60);
    // Nothing recorded at once: the record follows the response's end, after the caller's work.
    await new Promise((resolve) => setImmediate(resolve));
    const [client] = await points('http.client.request.duration');
    expect(client!.value.count).toBe(1);
    // The duration ends where the body was taken: not the 60 ms after it, before its `end`.
    expect(client!.value.sum).toBeLessThan(0.05);
    expect(client!.attributes).toEqual({
      'http.request.method': 'POST',
      'server.address': '127.0.0.1',
      'server.port': port,
      'network.protocol.version': '1.1',
      'http.response.status_code': 200,
    });
  });

  it('records a request that failed before any response with the error as error.type', async () => {
    const closed = http.createServer();
    closed.listen(0, '127.0.0.1');
    await once(closed, 'listening');
    const closedPort = (closed.address() as AddressInfo).port;
    closed.close();
    await once(closed, 'close');
    const result = await get('/', closedPort);
    expect(typeof result).not.toBe('number');
    const client = await points('http.client.request.duration');
    expect(client.map((p) => p.attributes)).toEqual([
      {
        'http.request.method': 'POST',
        'server.address': '127.0.0.1',
        'server.port': closedPort,
        'error.type': 'Error',
      },
    ]);
    expect(client[0]!.value.count).toBe(1);
  });

  it('uses the default port of the scheme when the URL names none', async () => {
    const req = http.request({ hostname: '127.0.0.1', port, method: 'GET', agent: false });
    const timing = telemetry.clientRequest('GET', {
      hostname: 'api.example.com',
      port: '',
      secure: true,
    });
    req.on('error', (error) => timing.failed(error));
    const closed = new Promise((resolve) => req.on('close', resolve));
    req.destroy(new Error('not sent'));
    await closed;
    const client = await points('http.client.request.duration');
    expect(client[0]!.attributes['server.port']).toBe(443);
  });
});

describe('isInstrumented', () => {
  it('tells a function wrapped by an instrumentation (shimmer marks it) from a plain one', () => {
    const plain = () => undefined;
    const wrapped = Object.assign(() => undefined, { __wrapped: true });
    expect(isInstrumented(plain)).toBe(false);
    expect(isInstrumented(wrapped)).toBe(true);
    expect(isInstrumented(http.request)).toBe(false);
  });
});
