import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { inboundGuard, type NodeMiddleware } from './inbound-guard.middleware';

const KEY = 'gk-guard-spec-0123456789';

/** A plain Node server running the guard, then `then` (which answers 200 with what it saw). */
async function serve(apiKeys: string[], withThen: boolean) {
  const passed: string[] = [];
  const then: NodeMiddleware = (req, _res, next) => {
    passed.push(`${req.method} ${req.url}`);
    next();
  };
  const guard = inboundGuard(apiKeys, withThen ? then : undefined);
  const server = http.createServer((req, res) =>
    guard(req, res, (error) => {
      if (!withThen) passed.push(`${req.method} ${req.url}`);
      res.writeHead(error ? 500 : 200).end();
    }),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    passed,
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe.each([true, false])('inboundGuard (then given: %s)', (withThen) => {
  let server: Awaited<ReturnType<typeof serve>>;
  beforeEach(async () => {
    server = await serve([KEY], withThen);
  });
  afterEach(() => server.close());

  const post = (path: string, headers: Record<string, string>) =>
    fetch(`${server.url}${path}`, { method: 'POST', headers, body: '{}' });

  it('lets a keyed JSON POST to /v1 through, whatever the case and parameters of its type', async () => {
    for (const type of ['application/json', 'Application/JSON; charset=utf-8']) {
      const res = await post('/v1/chat/completions', {
        authorization: `Bearer ${KEY}`,
        'content-type': type,
      });
      expect(res.status).toBe(200);
    }
    expect(server.passed).toEqual(['POST /v1/chat/completions', 'POST /v1/chat/completions']);
  });

  it('answers 401 without a known key and 415 for another media type, passing neither on', async () => {
    const unkeyed = await post('/v1/chat/completions', { 'content-type': 'application/json' });
    expect(unkeyed.status).toBe(401);
    // OpenAI's SDKs read the request id into their errors.
    expect(unkeyed.headers.get('x-request-id')).toMatch(/^[\w-]{36}$/);
    expect(((await unkeyed.json()) as { error: { code: string } }).error.code).toBe(
      'invalid_api_key',
    );
    const form = await post('/v1/chat/completions', {
      authorization: `Bearer ${KEY}`,
      'content-type': 'application/x-www-form-urlencoded',
    });
    expect(form.status).toBe(415);
    expect(((await form.json()) as { error: { code: string } }).error.code).toBe(
      'unsupported_media_type',
    );
    expect(form.headers.get('x-request-id')).toBeTruthy();
    expect(server.passed).toEqual([]);
  });

  it("answers 415 only on the chat route: another /v1 path's form post is passed on (to its 404)", async () => {
    const form = { authorization: `Bearer ${KEY}`, 'content-type': 'multipart/form-data; b=x' };
    expect((await post('/V1/Chat/Completions/?x=1', form)).status).toBe(415);
    expect((await post('/v1/audio/transcriptions', form)).status).toBe(200);
    expect((await post('/v1/embeddings', { authorization: `Bearer ${KEY}` })).status).toBe(200);
    expect(server.passed).toEqual(['POST /v1/audio/transcriptions', 'POST /v1/embeddings']);
  });

  it('checks a request target in absolute form that WHATWG cannot parse (a port out of range)', async () => {
    for (const target of [
      'http://x:99999/v1/chat/completions',
      'http://x:65536/v1/models',
      'http://127.0.0.1/v1/chat/completions',
    ]) {
      const status = await new Promise<number>((resolve, reject) => {
        const req = http.request(server.url, {
          method: 'POST',
          path: target,
          headers: { 'content-type': 'application/json' },
          agent: false,
        });
        req.once('response', (res) => (res.resume(), resolve(res.statusCode!)));
        req.once('error', reject);
        req.end('{}');
      });
      expect(status).toBe(401);
    }
    expect(server.passed).toEqual([]);
  });

  it('reads and drops the body of a refused request, so a client still sending gets the answer', async () => {
    // fetch, as OpenAI's SDK sends: with the connection closed at once, the upload fails (EPIPE)
    // and the SDK retries it.
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`${server.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: Buffer.alloc(8 * 1024 * 1024, 0x61),
      });
      expect(res.status).toBe(401);
      expect(await res.text()).toContain('invalid_api_key');
    }
    expect(server.passed).toEqual([]);
  });

  it('checks every path but health and metrics: /v1 in any spelling a router may route, and paths outside it', async () => {
    const form = { 'content-type': 'text/plain' };
    expect((await post('/v1', form)).status).toBe(401);
    expect((await post('/v1?stream=1', form)).status).toBe(401);
    expect((await post('/v1/', form)).status).toBe(401);
    // Express routes without regard to case: these reach the same handlers.
    expect((await post('/V1/chat/completions', form)).status).toBe(401);
    expect((await post('/V1', form)).status).toBe(401);
    // Fastify's router decodes escapes before matching: '/v%31/...' is its chat route.
    expect((await post('/v%31/chat/completions', form)).status).toBe(401);
    expect((await post('/%76%31/chat/completions', form)).status).toBe(401);
    expect((await post('/v10/chat/completions', form)).status).toBe(401);
    expect((await post('/v1x?y=/v1/', form)).status).toBe(401);
    // Health and metrics exactly, escaped or not, are open; a path that only starts like them not.
    expect((await post('/%68ealth/live', form)).status).toBe(200);
    expect((await post('/healthz', form)).status).toBe(401);
    expect((await post('/metrics/x', form)).status).toBe(401);
    expect(server.passed).toEqual(['POST /%68ealth/live']);
  });

  it('answers 415 to a form post on the chat route spelt with escapes too', async () => {
    const res = await post('/v1/chat/%63ompletions', {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Bearer ${KEY}`,
    });
    expect(res.status).toBe(415);
  });

  it('passes on health and metrics and every preflight, unchecked', async () => {
    const health = await post('/health', { 'content-type': 'text/plain' });
    expect(health.status).toBe(200);
    const preflight = await fetch(`${server.url}/v1/chat/completions`, { method: 'OPTIONS' });
    expect(preflight.status).toBe(200);
    expect(server.passed).toEqual(['POST /health', 'OPTIONS /v1/chat/completions']);
  });
});
