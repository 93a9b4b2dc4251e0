import OpenAI, { APIError } from 'openai';
import { metrics } from '@opentelemetry/api';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import * as http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { prometheusExporter } from '../src/gateway/prometheus-exporter';
import { startGatewayProcess } from './support/gateway.process';
import { UpstreamSimulator } from '../src/simulator/upstream-simulator';
import { type GatewayTestApp, startGatewayApp } from './support/gateway-test-app';
import { postChat } from './support/post-chat';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';

const MESSAGES = [{ role: 'user', content: 'Hello' }];
const KEY = 'gk-platform-test-0123456789';
type ErrorBody = { error: { type: string; code: string | null; param: string | null } };

/**
 * The flows whose code depends on the HTTP platform (GATEWAY_HTTP_PLATFORM), on Express and on
 * Fastify alike: answers written to Node's response, the body parser's limits and errors, the
 * inbound guard (a middleware), terminus' and Prometheus' routes, SSE and a client leaving.
 */
let provider: MeterProvider;
beforeAll(() => {
  // What the gateway's telemetry bootstrap does, so /metrics serves the module's series.
  provider = new MeterProvider({ readers: [prometheusExporter] });
  metrics.setGlobalMeterProvider(provider);
});
afterAll(() => provider.shutdown());

describe.each(['express', 'fastify'] as const)('gateway on %s', (platform) => {
  let sim: UpstreamSimulator;
  let gateway: GatewayTestApp;

  beforeAll(async () => {
    sim = await UpstreamSimulator.start();
    gateway = await startGatewayApp({
      GATEWAY_HTTP_PLATFORM: platform,
      GATEWAY_API_KEYS: KEY,
      LLM_BASE_URL: sim.baseUrl,
      LLM_MAX_CONCURRENCY: '1',
      LLM_MAX_QUEUE: '0',
      LLM_RETRY_BASE_MS: '5',
      LLM_RETRY_MAX_MS: '20',
    });
  });
  afterAll(async () => {
    await gateway.close();
    await sim.close();
  });
  beforeEach(() => sim.reset());

  const post = (body: unknown, headers: Record<string, string> = {}, signal?: AbortSignal) =>
    fetch(`${gateway.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json', ...headers },
      // A string or bytes as they are (a compressed body), anything else as JSON.
      body: typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body),
      signal,
    });

  it('runs on the platform it was given', () => {
    const adapter = gateway.app.getHttpAdapter().getType();
    expect(adapter).toBe(platform);
  });

  it('answers a completion as JSON with the call headers and the caller’s x-request-id', async () => {
    sim.script([{ type: 'ok', content: 'Hi there' }]);
    const res = await post({ messages: MESSAGES }, { 'x-request-id': 'req-platform-1' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(res.headers.get('x-request-id')).toBe('req-platform-1');
    expect(res.headers.get('x-llm-attempts')).toBe('1');
    expect(res.headers.get('x-powered-by')).toBeNull();
    const body = (await res.json()) as { choices: Array<{ message: { content: string } }> };
    expect(body.choices[0]?.message.content).toBe('Hi there');
  });

  it('streams SSE ending with [DONE]', async () => {
    sim.script([{ type: 'stream', chunks: ['Hel', 'lo'] }]);
    const res = await post({ messages: MESSAGES, stream: true });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(res.headers.get('x-request-id')).toBeTruthy();
    const events = (await res.text()).split('\n\n').filter(Boolean);
    expect(events.at(-1)).toBe('data: [DONE]');
    expect(events.length).toBeGreaterThanOrEqual(3);
  });

  it.each([
    ['malformed JSON', '{"messages": [', 400, 'invalid_json'],
    [
      'a body over 10 MB',
      JSON.stringify({ messages: [{ role: 'user', content: 'x'.repeat(11 * 1024 * 1024) }] }),
      413,
      'payload_too_large',
    ],
    ['a request without messages', JSON.stringify({ model: 'gpt-4o' }), 400, null],
  ] as const)(
    'answers %s with an OpenAI-shaped 4xx, without calling the upstream',
    async (_case, body, status, code) => {
      const res = await post(body, { 'x-request-id': 'req-platform-bad' });
      expect(res.status).toBe(status);
      const error = ((await res.json()) as ErrorBody).error;
      expect(error.type).toBe('invalid_request_error');
      if (code) expect(error.code).toBe(code);
      else expect(error.param).toBe('messages');
      expect(sim.requests).toHaveLength(0);
    },
  );

  it.each([
    ['gzip', gzipSync],
    ['deflate', deflateSync],
    ['br', brotliCompressSync],
  ] as const)('reads a body sent with Content-Encoding %s', async (encoding, compress) => {
    sim.script([{ type: 'ok', content: 'decoded' }]);
    const res = await post(compress(Buffer.from(JSON.stringify({ messages: MESSAGES }))), {
      'content-encoding': encoding,
    });
    expect(res.status).toBe(200);
    expect(sim.requests[0]?.body).toMatchObject({ messages: MESSAGES });
  });

  it.each([
    ['application/json; charset=iso-8859-1', 415],
    ['application/json; charset="UTF-16"', 415],
    ['application/json;charset=latin1', 415],
    ['application/json; charset=utf8', 415],
    ['application/json; charset=UTF-8', 200],
    ['application/json; charset="utf-8"', 200],
    // As Express' parser reads them: no charset, or parameters that do not parse, mean UTF-8.
    ['application/json; charset=', 200],
    ['application/json; charset=""', 200],
    ['application/json; charset="utf-8', 200],
    ['application/json; foo="x;charset=latin1"', 200],
    ['application/json; foo=bar; CHARSET=Latin1', 415],
  ] as const)(
    'answers a body sent as %s with %d, as both platforms read it',
    async (type, status) => {
      sim.script([{ type: 'ok', content: 'read' }]);
      const res = await post({ messages: MESSAGES }, { 'content-type': type });
      expect(res.status).toBe(status);
      if (status === 415) {
        expect(((await res.json()) as ErrorBody).error).toMatchObject({
          type: 'invalid_request_error',
          code: 'unsupported_charset',
        });
        expect(sim.requests).toHaveLength(0);
      } else {
        await res.text();
        expect(sim.requests).toHaveLength(1);
      }
    },
  );

  it.each([
    ['a gzip body that is not gzip', 'gzip', Buffer.from('not gzip at all'), 400, 'invalid_body'],
    [
      'an encoding it does not decode',
      'compress',
      Buffer.from('x'),
      415,
      'unsupported_content_encoding',
    ],
    [
      'a small gzip body past 10 MB decoded',
      'gzip',
      gzipSync(Buffer.from(`{"messages":[{"role":"user","content":"${'x'.repeat(12e6)}"}]}`)),
      413,
      'payload_too_large',
    ],
  ] as const)(
    'answers %s with an OpenAI-shaped 4xx',
    async (_case, encoding, body, status, code) => {
      const res = await post(body, { 'content-encoding': encoding });
      expect(res.status).toBe(status);
      expect(((await res.json()) as ErrorBody).error).toMatchObject({
        type: 'invalid_request_error',
        code,
      });
      expect(sim.requests).toHaveLength(0);
    },
  );

  it('refuses a missing key (401) and a form post (415) before reading the body', async () => {
    const noKey = await fetch(`${gateway.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ messages: MESSAGES }),
    });
    expect(noKey.status).toBe(401);
    expect(((await noKey.json()) as ErrorBody).error.code).toBe('invalid_api_key');
    // Express routes without regard to case: the guard checks every spelling of /v1 alike.
    const upperCase = await fetch(`${gateway.url}/V1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ messages: MESSAGES }),
    });
    expect(upperCase.status).toBe(401);
    // Fastify's router decodes escapes before matching: '/v%31/...' and '/%76%31/models' are its
    // routes; checked alike on both platforms (Express answers them 404 once keyed).
    for (const [method, path] of [
      ['POST', '/v%31/chat/completions'],
      ['POST', '/%76%31/chat/%63ompletions'],
      ['GET', '/%76%31/models'],
    ] as const) {
      const escaped = await fetch(`${gateway.url}${path}`, {
        method,
        headers: { 'content-type': 'application/json' },
        body: method === 'POST' ? JSON.stringify({ messages: MESSAGES }) : undefined,
      });
      expect([path, escaped.status]).toEqual([path, 401]);
    }
    // A request line in absolute form is routed by its path: checked alike.
    const absolute = await postChat(gateway.url, false, `${gateway.url}/v1/chat/completions`);
    expect(absolute.status).toBe(401);
    const form = await post('a=b', { 'content-type': 'application/x-www-form-urlencoded' });
    expect(form.status).toBe(415);
    expect(((await form.json()) as ErrorBody).error.code).toBe('unsupported_media_type');
    expect(sim.requests).toHaveLength(0);
  });

  it('serves the chat route with a trailing slash too, as both platforms route it', async () => {
    sim.script([{ type: 'ok', content: 'slash' }]);
    const res = await fetch(`${gateway.url}/v1/chat/completions/`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ messages: MESSAGES }),
    });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('slash');
  });

  it('answers an unknown route with an OpenAI-shaped 404', async () => {
    const res = await fetch(`${gateway.url}/v1/nothing?x=1`, {
      headers: { authorization: `Bearer ${KEY}` },
    });
    expect(res.status).toBe(404);
    expect(((await res.json()) as ErrorBody).error.code).toBe('unknown_url');
  });

  it('serves /health, /health/live, /models and /metrics', async () => {
    const health = await fetch(`${gateway.url}/health`);
    expect(health.status).toBe(200);
    expect(((await health.json()) as { status: string }).status).toBe('ok');
    expect((await fetch(`${gateway.url}/health/live`)).status).toBe(200);
    const models = await fetch(`${gateway.url}/v1/models`, {
      headers: { authorization: `Bearer ${KEY}` },
    });
    expect(((await models.json()) as { object: string }).object).toBe('list');
    sim.script([{ type: 'ok', content: 'counted' }]);
    expect((await post({ messages: MESSAGES })).status).toBe(200);
    const scrape = await fetch(`${gateway.url}/metrics`);
    expect(scrape.status).toBe(200);
    expect(scrape.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(await scrape.text()).toMatch(/^llm_\w+\{/m);
  });

  it('a client leaving mid-stream ends the upstream stream and frees the bulkhead slot', async () => {
    const chunks = Array.from({ length: 200 }, (_, i) => `w${i} `);
    sim.script([
      { type: 'stream', chunks, delayMs: 10 },
      { type: 'ok', content: 'after' },
    ]);
    const leaving = new AbortController();
    const res = await post({ messages: MESSAGES, stream: true }, {}, leaving.signal);
    const reader = res.body!.getReader();
    await reader.read();
    leaving.abort();
    await reader.closed.catch(() => undefined);
    // One slot (LLM_MAX_CONCURRENCY=1, no queue): the next call is admitted once it is freed.
    let after = await post({ messages: MESSAGES });
    for (let i = 0; i < 50 && after.status === 503; i++) {
      await sleep(20);
      after = await post({ messages: MESSAGES });
    }
    expect(after.status).toBe(200);
    expect(sim.requests).toHaveLength(2);
  });

  it("reads a refused request's body to its end: the next request on the connection is parsed as one", async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const send = (headers: http.OutgoingHttpHeaders, body: string) =>
      new Promise<{ status?: number; text: string; socket: unknown }>((resolve, reject) => {
        const req = http.request(`${gateway.url}/v1/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...headers },
          agent,
        });
        req.once('response', (res) => {
          let text = '';
          res.setEncoding('utf8').on('data', (piece: string) => (text += piece));
          res.once('end', () => resolve({ status: res.statusCode, text, socket: req.socket }));
        });
        req.once('error', reject);
        req.end(body);
      });
    sim.script([{ type: 'ok', content: 'second' }]);
    // A refused body that holds a whole request of its own: read as body, never run.
    const smuggled =
      'POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n\r\n{}';
    const refused = await send({}, smuggled);
    expect(refused.status).toBe(401);
    const next = await send(
      { authorization: `Bearer ${KEY}` },
      JSON.stringify({ messages: MESSAGES }),
    );
    expect(next.status).toBe(200);
    expect(next.text).toContain('second');
    expect(next.socket).toBe(refused.socket);
    expect(sim.requests).toHaveLength(1);
    agent.destroy();
  });
});

describe('a body over the limit, the gateway in a process of its own', () => {
  it.each(['express', 'fastify'])(
    'on %s: the official SDK gets 413 payload_too_large every time, never a broken pipe',
    async (platform) => {
      const sim = await UpstreamSimulator.start();
      const gateway = await startGatewayProcess({
        PATH: process.env.PATH,
        LLM_BASE_URL: sim.baseUrl,
        LLM_EVENTS_LOG: 'false',
        GATEWAY_HTTP_PLATFORM: platform,
      });
      try {
        const openai = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'sk-x', maxRetries: 0 });
        const seen: unknown[] = [];
        for (let i = 0; i < 5; i++) {
          const error = await openai.chat.completions
            .create({
              model: 'gpt-4o-mini',
              messages: [{ role: 'user', content: 'x'.repeat(12e6) }],
            })
            .catch((e: unknown) => e);
          seen.push(error instanceof APIError ? error.status : String(error));
        }
        expect(seen).toEqual([413, 413, 413, 413, 413]);
        expect(sim.requests).toHaveLength(0);
      } finally {
        await gateway.stop();
        await sim.close();
      }
    },
    // A process started and five 12 MB bodies sent: 8–10 s alone on a loaded 2-core machine.
    40_000,
  );
});
