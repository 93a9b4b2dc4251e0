import { metrics } from '@opentelemetry/api';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import type { Server } from 'node:http';
import * as net from 'node:net';
import * as zlib from 'node:zlib';
import { prometheusExporter } from '../src/gateway/prometheus-exporter';
import { UpstreamSimulator } from '../src/simulator/upstream-simulator';
import { type GatewayTestApp, startGatewayApp } from './support/gateway-test-app';

const MESSAGES = [{ role: 'user', content: 'Hello' }];

interface ErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

interface HealthBody {
  details: { llm: { openBreakers: number; breakers: Array<{ state: string }> } };
}

/** A chat request whose message content is an array nested `depth` deep. */
function nestedBody(depth: number): string {
  const content = `${'['.repeat(depth)}${']'.repeat(depth)}`;
  return `{"messages":[{"role":"user","content":${content}}]}`;
}

describe('gateway under hostile input', () => {
  let sim: UpstreamSimulator;
  let gateway: GatewayTestApp | undefined;
  let provider: MeterProvider;

  beforeAll(() => {
    // What the gateway's telemetry bootstrap does, so /metrics serves the module's series.
    provider = new MeterProvider({ readers: [prometheusExporter] });
    metrics.setGlobalMeterProvider(provider);
  });
  afterAll(() => provider.shutdown());
  beforeEach(async () => {
    sim = await UpstreamSimulator.start();
  });
  afterEach(async () => {
    await gateway?.close();
    gateway = undefined;
    await sim.close();
  });

  async function boot(env: Record<string, string> = {}): Promise<string> {
    gateway = await startGatewayApp({
      LLM_BASE_URL: sim.baseUrl,
      LLM_RETRY_BASE_MS: '1',
      LLM_RETRY_MAX_MS: '2',
      ...env,
    });
    return gateway.url;
  }

  const post = (url: string, body: string, headers: Record<string, string> = {}) =>
    fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body,
    });

  it('refuses 30 requests nested 6,000 deep with 400; the upstream sees none, the breaker stays closed', async () => {
    const url = await boot({ LLM_BREAKER_FAILURES: '3' });
    for (let i = 0; i < 30; i++) {
      const res = await post(url, nestedBody(6000));
      expect(res.status).toBe(400);
      const { error } = (await res.json()) as ErrorBody;
      expect(error).toMatchObject({ type: 'invalid_request_error', code: 'invalid_value' });
      // Refused before it was parsed (past twice the module's 64 levels).
      expect(error.message).toBe(
        'The request body nests arrays and objects more than 128 levels deep.',
      );
    }
    // Between the two, the module's own check answers, naming the field.
    const res = await post(url, nestedBody(100));
    expect(res.status).toBe(400);
    const { error } = (await res.json()) as ErrorBody;
    expect(error.message).toMatch(/'messages' nests arrays and objects more than 64 levels deep/);
    expect(error.param).toBe('messages');
    expect(sim.requests).toHaveLength(0);
    const normal = await Promise.all(
      Array.from({ length: 10 }, () => post(url, JSON.stringify({ messages: MESSAGES }))),
    );
    expect(normal.map((r) => r.status)).toEqual(Array(10).fill(200));
    const health = (await (await fetch(`${url}/health`)).json()) as HealthBody;
    expect(health.details.llm.openBreakers).toBe(0);
  });

  it.each(['express', 'fastify'])(
    '%s: a 9 MB body nested all the way is refused in milliseconds, on the chat route and elsewhere',
    async (platform) => {
      const url = await boot({
        GATEWAY_API_KEYS: 'gk-abuse-spec-0123456789',
        GATEWAY_HTTP_PLATFORM: platform,
      });
      const deep = `${'['.repeat(4_500_000)}${']'.repeat(4_500_000)}`;
      const auth = { authorization: 'Bearer gk-abuse-spec-0123456789' };
      // Parsed, it held the event loop 4–12 s: nothing else was served meanwhile.
      for (const path of ['/v1/chat/completions', '/health/live', '/metrics']) {
        const startedAt = performance.now();
        const res = await fetch(`${url}${path}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...auth },
          body: deep,
        });
        // Elsewhere Express leaves the body unparsed (404); Fastify's 404 route refuses it (400).
        if (path.startsWith('/v1')) expect(res.status).toBe(400);
        else expect([path, [400, 404].includes(res.status)]).toEqual([path, true]);
        await res.arrayBuffer();
        expect(performance.now() - startedAt).toBeLessThan(1500);
      }
      expect(sim.requests).toHaveLength(0);
    },
  );

  it.each(['express', 'fastify'])(
    '%s: a body of 150,000 distinct keys, or of 150,000 empty objects, is refused before parsing; 88,000 members in messages still go',
    async (platform) => {
      const url = await boot({ GATEWAY_HTTP_PLATFORM: platform });
      // Small objects with keys never seen before: each makes JSON.parse build a new hidden
      // class (800,000 of them held the event loop 3.7 s).
      const keys = Array.from({ length: 15_000 }, (_, i) =>
        Array.from({ length: 10 }, (_, j) => `"k${i}_${j}":1`).join(','),
      );
      const body = `{"messages":${JSON.stringify(MESSAGES)},"metadata":[{${keys.join('},{')}}]}`;
      for (const encoding of ['identity', 'gzip']) {
        const res = await fetch(`${url}/v1/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'content-encoding': encoding },
          body: encoding === 'gzip' ? zlib.gzipSync(body) : body,
        });
        expect([encoding, res.status]).toEqual([encoding, 400]);
        const { error } = (await res.json()) as ErrorBody;
        expect(error).toMatchObject({ type: 'invalid_request_error', code: 'invalid_value' });
        expect(error.message).toBe(
          'The request body holds more than 100,000 object members (keys) in all.',
        );
      }
      expect(sim.requests).toHaveLength(0);
      // Empty objects and arrays, or bare values, have no key to count: bounded by number too
      // (3.3 million `{}` held the event loop 2 s).
      for (const values of [
        `[${Array(150_000).fill('{}').join(',')}]`,
        `[${Array(150_000).fill('[]').join(',')}]`,
        `[${Array(1_200_000).fill('0').join(',')}]`,
      ]) {
        const res = await post(url, `{"messages":${JSON.stringify(MESSAGES)},"x":${values}}`);
        expect(res.status).toBe(400);
        expect(((await res.json()) as ErrorBody).error.message).toBe(
          'The request body holds more than 100,000 objects and arrays, or more than 1,000,000 values, in all.',
        );
      }
      expect(sim.requests).toHaveLength(0);
      // A long conversation with content parts: 4,000 messages of 10 parts, 88,002 members.
      const parts = Array.from({ length: 10 }, (_, i) => ({ type: 'text', text: `part ${i}` }));
      const messages = Array.from({ length: 4_000 }, () => ({ role: 'user', content: parts }));
      const ok = await post(url, JSON.stringify({ messages }));
      expect(ok.status).toBe(200);
      expect(sim.requests).toHaveLength(1);
    },
  );

  it('refuses 2 MB model names with 400 before any upstream work; /metrics stays small', async () => {
    const url = await boot();
    const model = 'm'.repeat(2 * 1024 * 1024);
    for (let i = 0; i < 10; i++) {
      const res = await post(url, JSON.stringify({ model: `${model}${i}`, messages: MESSAGES }));
      expect(res.status).toBe(400);
      expect(((await res.json()) as ErrorBody).error).toMatchObject({
        param: 'model',
        message: expect.stringMatching(/at most 256 characters/) as unknown,
      });
    }
    expect(sim.requests).toHaveLength(0);
    const metricsText = await (await fetch(`${url}/metrics`)).text();
    expect(metricsText.length).toBeLessThan(1024 * 1024);
    expect(metricsText).not.toContain('mmmmmmmmmm');
  });

  it('refuses a model name with a line break', async () => {
    const url = await boot();
    const res = await post(
      url,
      JSON.stringify({ model: 'gpt\r\n[Nest] LOG x', messages: MESSAGES }),
    );
    expect(res.status).toBe(400);
    expect(((await res.json()) as ErrorBody).error.param).toBe('model');
    expect(sim.requests).toHaveLength(0);
  });

  it('bounds the breaker gauge and model labels however many model names callers send', async () => {
    const url = await boot();
    const long = 'x'.repeat(250);
    for (let i = 0; i < 300; i++) {
      const res = await post(url, JSON.stringify({ model: `${i}-${long}`, messages: MESSAGES }));
      expect(res.status).toBe(200);
    }
    const text = await (await fetch(`${url}/metrics`)).text();
    const breakerSeries = text.split('\n').filter((l) => l.startsWith('llm_breaker_state{'));
    // 64 model values plus `other`, four states each.
    expect(breakerSeries.length).toBeLessThanOrEqual(65 * 4);
    expect(breakerSeries.some((l) => l.includes('gen_ai_request_model="other"'))).toBe(true);
    // Label values are cut at 64 characters.
    expect(text).not.toContain('x'.repeat(64));
    // The worst case: 64 model values, each in every histogram bucket (about 1.5 MB); it no
    // longer grows with what callers send.
    expect(text.length).toBeLessThan(2 * 1024 * 1024);
    for (let i = 300; i < 400; i++) {
      await post(url, JSON.stringify({ model: `${i}-${long}`, messages: MESSAGES }));
    }
    const after = await (await fetch(`${url}/metrics`)).text();
    expect(after.length).toBeLessThan(text.length * 1.05);
  });

  it.each(
    (['express', 'fastify'] as const).flatMap((platform) =>
      (
        [
          [
            'headers over Node’s limit',
            `x-big: ${'a'.repeat(20_000)}\r\n`,
            '431',
            'headers_too_large',
          ],
          ['a control character in a header', 'x-bad: a\u0001b\r\n', '400', 'malformed_request'],
          [
            'both Content-Length and Transfer-Encoding',
            'content-length: 2\r\ntransfer-encoding: chunked\r\n',
            '400',
            'malformed_request',
          ],
        ] as const
      ).map((row) => [platform, ...row] as const),
    ),
  )(
    '%s: answers a request Node’s parser refuses (%s) in OpenAI’s shape, then serves the next',
    async (platform, _case, headers, status, code) => {
      const url = await boot({ GATEWAY_HTTP_PLATFORM: platform });
      const answer = await new Promise<string>((resolve, reject) => {
        const socket = net.connect(Number(new URL(url).port), '127.0.0.1');
        let text = '';
        socket.setEncoding('latin1');
        socket.on('data', (piece: string) => (text += piece));
        socket.once('close', () => resolve(text));
        socket.once('error', reject);
        socket.write(
          `POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n${headers}\r\n{}`,
        );
      });
      const [head, body] = answer.split('\r\n\r\n');
      expect(head!.split(' ')[1]).toBe(status);
      expect(head).toMatch(/\r\ncontent-type: application\/json/i);
      expect(JSON.parse(body!)).toMatchObject({ error: { type: 'invalid_request_error', code } });
      expect(head).toMatch(/\r\nx-request-id: [\w-]{36}/i);
      expect(sim.requests).toHaveLength(0);
      expect((await fetch(`${url}/health/live`)).status).toBe(200);
    },
  );

  it('answers a form post with 415 and forwards nothing', async () => {
    const url = await boot();
    const res = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'messages=hello',
    });
    expect(res.status).toBe(415);
    expect(((await res.json()) as ErrorBody).error.code).toBe('unsupported_media_type');
    const plain = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: JSON.stringify({ messages: MESSAGES }),
    });
    expect(plain.status).toBe(415);
    expect(sim.requests).toHaveLength(0);
  });

  it('with GATEWAY_API_KEYS, answers 401 without a known key and never forwards the caller key', async () => {
    const keys = ['caller-key-one-0123456789', 'caller-key-two-0123456789'];
    const url = await boot({
      GATEWAY_API_KEYS: keys.join(','),
      LLM_API_KEY: 'upstream-key-abcdef',
    });
    const body = JSON.stringify({ messages: MESSAGES });
    expect((await post(url, body)).status).toBe(401);
    const wrong = await post(url, body, { authorization: 'Bearer caller-key-one-012345678X' });
    expect(wrong.status).toBe(401);
    expect(((await wrong.json()) as ErrorBody).error.code).toBe('invalid_api_key');
    expect(sim.requests).toHaveLength(0);
    const right = await post(url, body, { authorization: `Bearer ${keys[1]}` });
    expect(right.status).toBe(200);
    expect(sim.requests).toHaveLength(1);
    // The simulator masks what it records; the caller's key is simply not there.
    expect(sim.requests[0]?.headers.authorization).toMatch(/^Bearer /);
    expect(JSON.stringify(sim.requests[0]?.headers)).not.toContain('caller-key');
    // Probes stay open to orchestrators.
    expect((await fetch(`${url}/health/live`)).status).toBe(200);
  });

  it('sends no CORS headers unless origins are configured', async () => {
    let url = await boot();
    const preflight = (origin = 'https://app.example') =>
      fetch(`${url}/v1/chat/completions`, {
        method: 'OPTIONS',
        headers: {
          origin,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'content-type',
        },
      });
    expect((await preflight()).headers.get('access-control-allow-origin')).toBeNull();
    await gateway?.close();
    url = await boot({ GATEWAY_CORS_ORIGINS: 'https://app.example' });
    const allowed = await preflight();
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://app.example');
    const other = await preflight('https://evil.example');
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
    // OpenAI's SDK in a browser: its own headers pass the preflight, and the page reads the
    // gateway's answer headers (x-should-retry first: without it the SDK retries on its own).
    const sdk = await fetch(`${url}/v1/chat/completions`, {
      method: 'OPTIONS',
      headers: {
        origin: 'https://app.example',
        'access-control-request-method': 'POST',
        'access-control-request-headers':
          'authorization,content-type,x-stainless-retry-count,x-stainless-timeout,x-stainless-lang',
      },
    });
    const allowedHeaders = sdk.headers.get('access-control-allow-headers') ?? '';
    expect(allowedHeaders).toContain('x-stainless-retry-count');
    expect(allowedHeaders).toContain('x-stainless-timeout');
    const answer = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { origin: 'https://app.example', 'content-type': 'application/json' },
      body: JSON.stringify({ messages: MESSAGES }),
    });
    const exposed = answer.headers.get('access-control-expose-headers') ?? '';
    for (const header of ['x-should-retry', 'x-llm-model', 'x-llm-upstream-request-id']) {
      expect(exposed).toContain(header);
    }
  });

  it('sets the server-side limits for slow clients', async () => {
    await boot({ GATEWAY_HEADERS_TIMEOUT_MS: '4000', GATEWAY_REQUEST_TIMEOUT_MS: '9000' });
    const server = gateway!.app.getHttpServer() as Server;
    expect(server.headersTimeout).toBe(4000);
    expect(server.requestTimeout).toBe(9000);
    expect(server.keepAliveTimeout).toBe(5000);
  });
});
