import {
  type CallHandler,
  type CanActivate,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import { request as httpRequest } from 'node:http';
import { tap } from 'rxjs';
import type { GatewayAppOptions } from '../src/gateway/create-gateway-app';
import { GatewayExpressAdapter } from '../src/gateway/express-server.adapter';
import { UpstreamSimulator } from '../src/simulator/upstream-simulator';
import { type GatewayTestApp, startGatewayApp } from './support/gateway-test-app';

const BODY = JSON.stringify({ messages: [{ role: 'user', content: 'Hello' }] });

interface ErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

/**
 * `POST /v1/chat/completions` is answered before Express' router when nothing but the inbound
 * guard and the handler would run for it (src/gateway/direct-chat-route.ts). These cases check
 * that it answers as the router did, and that anything Nest or Express would add around the
 * route (CORS, a global guard or interceptor) sends it back through the router.
 */
describe('gateway chat route, answered before the router', () => {
  let sim: UpstreamSimulator;
  let gateway: GatewayTestApp | undefined;

  beforeEach(async () => {
    sim = await UpstreamSimulator.start();
  });
  afterEach(async () => {
    await gateway?.close();
    gateway = undefined;
    await sim.close();
  });

  const boot = async (
    env: Record<string, string> = {},
    configure?: GatewayAppOptions['configure'],
  ) => {
    gateway = await startGatewayApp({ LLM_BASE_URL: sim.baseUrl, ...env }, { configure });
    return gateway.url;
  };
  const directPath = () => {
    const adapter = gateway!.app.getHttpAdapter();
    return adapter instanceof GatewayExpressAdapter ? adapter.directRoute?.path : undefined;
  };
  const post = (url: string, body = BODY, headers: Record<string, string> = {}) =>
    fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body,
    });

  const onExpress = process.env.GATEWAY_HTTP_PLATFORM !== 'fastify';
  const onExpressIt = onExpress ? it : it.skip;

  onExpressIt(
    'takes the chat route directly with the defaults, and answers as before',
    async () => {
      const url = await boot();
      expect(directPath()).toBe('/v1/chat/completions');
      const res = await post(`${url}/v1/chat/completions`, BODY, {
        'x-request-id': 'req-direct-1',
      });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      expect(res.headers.get('x-request-id')).toBe('req-direct-1');
      expect(res.headers.get('x-llm-attempts')).toBe('1');
      expect(res.headers.get('x-powered-by')).toBeNull();
      const completion = (await res.json()) as { object: string; choices: unknown[] };
      expect(completion.object).toBe('chat.completion');
      expect(completion.choices).toHaveLength(1);
    },
  );

  it('answers the path with a query string, and on Express another case or a trailing slash', async () => {
    const url = await boot();
    const paths = ['/v1/chat/completions?api-version=2024-10-21'];
    // Express' routes ignore case and a trailing slash; Fastify's do not (its router's answers).
    if (onExpress) paths.push('/V1/Chat/Completions', '/v1/chat/completions/');
    for (const path of paths) {
      const res = await post(`${url}${path}`);
      expect([path, res.status]).toEqual([path, 200]);
      expect(((await res.json()) as { object: string }).object).toBe('chat.completion');
    }
    // Only POST is taken: other methods get the router's answers.
    const get = await fetch(`${url}/v1/chat/completions`);
    expect(get.status).toBe(404);
    expect(get.headers.get('x-llm-error-kind')).toBe('not_found');
    expect(((await get.json()) as ErrorBody).error.code).toBe('unknown_url');
  });

  it('answers rejected requests in OpenAI shape, as the router did', async () => {
    const url = await boot({ GATEWAY_API_KEYS: 'gw-key-direct-0001' });
    const auth = { authorization: 'Bearer gw-key-direct-0001' };
    const cases: Array<[string, Response, number, string | null, string | null]> = [
      ['no key', await post(`${url}/v1/chat/completions`), 401, 'invalid_api_key', null],
      [
        'not JSON',
        await post(`${url}/v1/chat/completions`, '{"messages": [', auth),
        400,
        'invalid_json',
        null,
      ],
      [
        'form body',
        await post(`${url}/v1/chat/completions`, 'a=1', {
          ...auth,
          'content-type': 'application/x-www-form-urlencoded',
        }),
        415,
        'unsupported_media_type',
        null,
      ],
      [
        'no messages',
        await post(`${url}/v1/chat/completions`, '{"model":"m"}', auth),
        400,
        null,
        'messages',
      ],
      [
        'too large',
        await post(
          `${url}/v1/chat/completions`,
          JSON.stringify({ messages: [{ role: 'user', content: 'x'.repeat(11 * 1024 * 1024) }] }),
          auth,
        ),
        413,
        'payload_too_large',
        null,
      ],
    ];
    for (const [name, res, status, code, param] of cases) {
      const body = (await res.json()) as ErrorBody;
      expect([name, res.status]).toEqual([name, status]);
      if (code !== null) expect([name, body.error.code]).toEqual([name, code]);
      if (param !== null) expect([name, body.error.param]).toEqual([name, param]);
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      // As on every error answer: the kind, and no attempt made.
      const kind = status === 401 ? 'auth' : 'bad_request';
      expect([name, res.headers.get('x-llm-error-kind')]).toEqual([name, kind]);
      expect([name, res.headers.get('x-llm-attempts')]).toEqual([name, '0']);
    }
    expect(sim.requests).toHaveLength(0);
  });

  it("relays an upstream failure through the gateway's error filter", async () => {
    const url = await boot();
    sim.script([{ type: 'error', status: 401 }]);
    const res = await post(`${url}/v1/chat/completions`);
    expect(res.status).toBe(401);
    const { error } = (await res.json()) as ErrorBody;
    expect(error).toMatchObject({ type: 'authentication_error', code: 'auth' });
    expect(sim.requests).toHaveLength(1);
  });

  it('keeps the request body a client stops sending from reaching the upstream', async () => {
    const url = new URL(`${await boot()}/v1/chat/completions`);
    await new Promise<void>((resolve) => {
      const req = httpRequest({
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': '1000' },
      });
      req.on('error', () => resolve());
      req.on('close', () => resolve());
      req.write('{"messages":[');
      setTimeout(() => req.destroy(), 20);
    });
    // Still serving, and the half body never left.
    expect((await post(`${url.href}`)).status).toBe(200);
    expect(sim.requests).toHaveLength(1);
  });

  onExpressIt('goes through the router with CORS, whose headers the answer keeps', async () => {
    const url = await boot({ GATEWAY_CORS_ORIGINS: 'https://app.example' });
    expect(directPath()).toBeUndefined();
    const res = await post(`${url}/v1/chat/completions`, BODY, { origin: 'https://app.example' });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe('https://app.example');
    expect(res.headers.get('access-control-expose-headers')).toContain('x-request-id');
  });

  onExpressIt('goes through the router when a global guard applies, which then runs', async () => {
    let checked = 0;
    const guard: CanActivate = {
      canActivate: (context: ExecutionContext) => {
        checked++;
        return (
          context.switchToHttp().getRequest<{ headers: Record<string, string> }>().headers[
            'x-allowed'
          ] === 'yes'
        );
      },
    };
    const url = await boot({}, (app) => app.useGlobalGuards(guard));
    expect(directPath()).toBeUndefined();
    const denied = await post(`${url}/v1/chat/completions`);
    expect(denied.status).toBe(403);
    expect(((await denied.json()) as ErrorBody).error.type).toBe('permission_error');
    const allowed = await post(`${url}/v1/chat/completions`, BODY, { 'x-allowed': 'yes' });
    expect(allowed.status).toBe(200);
    expect(checked).toBe(2);
    expect(sim.requests).toHaveLength(1);
  });

  onExpressIt('goes through the router when a global interceptor applies', async () => {
    const seen: string[] = [];
    const interceptor: NestInterceptor = {
      intercept: (context: ExecutionContext, next: CallHandler) => {
        seen.push(context.getHandler().name);
        return next.handle().pipe(tap(() => seen.push('after')));
      },
    };
    const url = await boot({}, (app) => app.useGlobalInterceptors(interceptor));
    expect(directPath()).toBeUndefined();
    expect((await post(`${url}/v1/chat/completions`)).status).toBe(200);
    expect(seen).toEqual(['create', 'after']);
  });
});
