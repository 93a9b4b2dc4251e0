import { Controller, Get, type INestApplication, Module, Query } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { LlmClient } from '../src/llm/client/llm-client';
import { LlmHttpExceptionFilter } from '../src/llm/http/llm-http-exception.filter';
import { LlmModule } from '../src/llm/llm.module';
import { UpstreamSimulator } from '../src/simulator/upstream-simulator';
import { FAST_POLICIES, TEST_API_KEY, USER } from './support/llm-test-app';

interface ErrorReply {
  statusCode: number;
  message: string;
  error: string;
  kind?: string;
  retryAfterMs?: number;
}

// An app's own route, letting the call's error escape as most handlers do.
@Controller()
class AskController {
  constructor(private readonly llm: LlmClient) {}

  @Get('ask')
  async ask(@Query('stream') stream?: string): Promise<string> {
    if (stream === undefined) {
      const { completion } = await this.llm.chat({ messages: USER });
      return completion.choices[0]?.message.content ?? '';
    }
    let text = '';
    for await (const chunk of this.llm.chatStream({ messages: USER })) {
      text += chunk.choices[0]?.delta.content ?? '';
    }
    return text;
  }

  @Get('boom')
  boom(): never {
    throw new Error('not an LLM error');
  }
}

describe.each(['express', 'fastify'])('LlmHttpExceptionFilter on %s', (platform) => {
  let sim: UpstreamSimulator;
  let app: INestApplication;
  let url: string;

  beforeAll(async () => {
    sim = await UpstreamSimulator.start();
    const upstream = {
      name: 'sim',
      baseUrl: sim.baseUrl,
      apiKey: TEST_API_KEY,
      defaultModel: 'gpt-4o-mini',
      ...FAST_POLICIES,
      retry: { ...FAST_POLICIES.retry, maxRetries: 1, maxServerHintMs: 60_000 },
    };
    @Module({
      imports: [LlmModule.forRoot({ upstreams: [upstream] })],
      controllers: [AskController],
    })
    class AppModule {}
    app =
      platform === 'fastify'
        ? await NestFactory.create(AppModule, new FastifyAdapter(), { logger: false })
        : await NestFactory.create(AppModule, { logger: false });
    app.useGlobalFilters(new LlmHttpExceptionFilter());
    // A header every answer carries, as CORS sets it: on Fastify through a hook on its reply.
    if (platform === 'fastify') {
      const fastify = app.getHttpAdapter().getInstance() as {
        addHook(
          name: 'onRequest',
          hook: (
            req: unknown,
            reply: { header(n: string, v: string): void },
            done: () => void,
          ) => void,
        ): void;
      };
      fastify.addHook('onRequest', (_req, reply, done) => {
        reply.header('access-control-allow-origin', 'https://app.example');
        done();
      });
    } else {
      app.use((_req: unknown, res: { setHeader(n: string, v: string): void }, next: () => void) => {
        res.setHeader('access-control-allow-origin', 'https://app.example');
        next();
      });
    }
    await app.listen(0, '127.0.0.1');
    url = await app.getUrl();
  });
  afterAll(async () => {
    await app.close();
    await sim.close();
  });

  async function ask(path = '/ask'): Promise<{ res: Response; body: ErrorReply }> {
    const res = await fetch(`${url.replace('[::1]', '127.0.0.1')}${path}`);
    return { res, body: (await res.json()) as ErrorReply };
  }

  it('a provider 429 with its wait: 503 with Retry-After, a public message, the kind', async () => {
    sim.script([{ type: 'error', status: 429, headers: { 'retry-after-ms': '90000' } }]);
    const { res, body } = await ask();
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('90');
    expect(body).toEqual({
      statusCode: 503,
      message: 'The AI service is busy. Try again later.',
      error: 'Service Unavailable',
      kind: 'rate_limited',
      retryAfterMs: 90000,
    });
    // The app's own headers stay on the answer.
    expect(res.headers.get('access-control-allow-origin')).toBe('https://app.example');
  });

  it.each([
    [500, 502, 'server_error', 2],
    [401, 502, 'auth', 1],
    [400, 500, 'bad_request', 1],
  ])('an upstream %i: %i, kind %s, no provider text', async (upstream, status, kind, repeat) => {
    // As many as the attempts it gets: a 500 is retried once, the others are not.
    sim.script([
      { type: 'error', status: upstream, message: 'provider detail for upstream sim', repeat },
    ]);
    const { res, body } = await ask();
    expect(res.status).toBe(status);
    expect(body).toMatchObject({ statusCode: status, kind });
    expect(JSON.stringify(body)).not.toContain('provider detail');
    expect(res.headers.get('retry-after')).toBeNull();
  });

  it('a context too long is the caller’s: 400', async () => {
    sim.script([{ type: 'error', status: 400, code: 'context_length_exceeded' }]);
    const { res, body } = await ask();
    expect(res.status).toBe(400);
    expect(body.kind).toBe('context_length_exceeded');
  });

  it('a stream that fails before content is answered like a plain call', async () => {
    sim.script([{ type: 'error', status: 503, repeat: 2 }]);
    const { res, body } = await ask('/ask?stream=1');
    expect(res.status).toBe(503);
    expect(body.kind).toBe('overloaded');
  });

  it("leaves other errors to Nest's own handling", async () => {
    const { res, body } = await ask('/boom');
    expect(res.status).toBe(500);
    expect(body).toEqual({ statusCode: 500, message: 'Internal server error' });
  });
  // Last: the 429 holds the model for its 7 s, which later calls would meet.
  it("a provider 429 whose wait passes the deadline: 503 with the provider's wait, not a 504", async () => {
    sim.script([{ type: 'error', status: 429, headers: { 'retry-after': '7' } }]);
    const { res, body } = await ask();
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('7');
    expect(body).toMatchObject({ kind: 'deadline_exceeded', retryAfterMs: 7000 });
  });
});
