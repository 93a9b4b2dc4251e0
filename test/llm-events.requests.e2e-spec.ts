import { Controller, Get, INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { LlmClient } from '../src/llm/client/llm-client';
import { LlmModule } from '../src/llm/llm.module';
import { LlmFeature } from '../src/llm/observability/llm-feature.decorator';
import { UpstreamSimulator } from '../src/simulator/upstream-simulator';
import { ElasticsearchStandIn, StoredDocument } from './support/elasticsearch-stand-in';
import { type GatewayTestApp, startGatewayApp } from './support/gateway-test-app';
import { CALLS_STREAM, FAST_SHIPPING } from './support/llm-events-app';
import { FAST_POLICIES, USER } from './support/llm-test-app';

@LlmFeature('support-chat')
@Controller('support')
class SupportController {
  constructor(private readonly llm: LlmClient) {}

  @Get('ask')
  async ask(): Promise<string> {
    await this.llm.chat({ messages: USER });
    return 'ok';
  }

  /** The first call fails; the handler copes with a second one: the user still gets an answer. */
  @Get('degraded')
  async degraded(): Promise<string> {
    await this.llm.chat({ messages: USER }).catch(() => undefined);
    await this.llm.chat({ messages: USER });
    return 'ok';
  }

  @Get('broken')
  async broken(): Promise<string> {
    await this.llm.chat({ messages: USER });
    return 'unreachable';
  }

  @Get('quiet')
  quiet(): string {
    return 'no LLM call';
  }
}

const byAction = (docs: StoredDocument[], action: string) =>
  docs.filter((d) => d['event.action'] === action);

describe('one business event per request that made LLM calls', () => {
  let sim: UpstreamSimulator;
  let es: ElasticsearchStandIn;
  let app: INestApplication;
  let url: string;

  /** Sends a request as user `u-7` and returns the documents it produced (calls, then request). */
  async function eventsOf(path: string, calls: number): Promise<StoredDocument[]> {
    const before = es.docs(CALLS_STREAM).length;
    const res = await fetch(`${url}/support/${path}`, {
      headers: { 'x-user-id': 'u-7', 'x-request-id': `req-${path}` },
    });
    await res.text();
    return (await es.waitForDocs(CALLS_STREAM, before + calls + 1)).slice(before);
  }

  beforeAll(async () => {
    sim = await UpstreamSimulator.start();
    es = await ElasticsearchStandIn.start();
    const moduleRef = await Test.createTestingModule({
      imports: [
        LlmModule.forRoot({
          upstreams: [
            {
              name: 'sim',
              baseUrl: sim.baseUrl,
              defaultModel: 'gpt-4o-mini',
              ...FAST_POLICIES,
              retry: { maxRetries: 0 },
            },
          ],
          context: { global: true },
          events: { elasticsearch: { node: es.url, ...FAST_SHIPPING } },
        }),
      ],
      controllers: [SupportController],
    }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.listen(0, '127.0.0.1');
    url = await app.getUrl();
  });
  beforeEach(() => sim.reset());
  afterAll(async () => {
    await app.close();
    await es.close();
    await sim.close();
  });

  it('says the feature worked, with the user, feature, request id and route of its calls', async () => {
    const docs = await eventsOf('ask', 1);
    const [call] = byAction(docs, 'llm-call');
    const [request] = byAction(docs, 'llm-request');
    const who = { 'user.id': 'u-7', 'llm.feature': 'support-chat', 'llm.request_id': 'req-ask' };
    expect(call).toMatchObject(who);
    expect(request).toMatchObject({
      ...who,
      'event.outcome': 'success',
      'llm.request.outcome': 'success',
      'llm.request.calls': 1,
      'llm.request.failed_calls': 0,
      'llm.request.route': '/support/ask',
      'http.request.method': 'GET',
      'url.path': '/support/ask',
      'http.response.status_code': 200,
    });
    expect(request).not.toHaveProperty('error.type');
    expect(request!['event.duration']).toBeGreaterThanOrEqual(call!['event.duration'] as number);
  });

  it('says the feature degraded when a call failed but the request succeeded', async () => {
    sim.script([{ type: 'error', status: 500 }]);
    const [request] = byAction(await eventsOf('degraded', 2), 'llm-request');
    expect(request).toMatchObject({
      'event.outcome': 'success',
      'llm.request.outcome': 'degraded',
      'llm.request.calls': 2,
      'llm.request.failed_calls': 1,
      'error.type': 'server_error',
      'http.response.status_code': 200,
    });
    expect(request).not.toHaveProperty('error.message');
  });

  it('says the feature failed, with the error kind that broke it', async () => {
    sim.script([{ type: 'error', status: 503 }]);
    const docs = await eventsOf('broken', 1);
    const [call] = byAction(docs, 'llm-call');
    const [request] = byAction(docs, 'llm-request');
    expect(call).toMatchObject({ 'event.outcome': 'failure', 'error.type': 'overloaded' });
    expect(request).toMatchObject({
      'event.outcome': 'failure',
      'event.type': ['error'],
      'llm.request.outcome': 'failure',
      'error.type': 'overloaded',
      'http.response.status_code': 500,
      'user.id': 'u-7',
    });
    expect(request!['error.message']).toEqual(expect.stringContaining('503'));
  });

  it('writes nothing for a request that made no LLM call', async () => {
    const before = es.docs(CALLS_STREAM).length;
    await (await fetch(`${url}/support/quiet`)).text();
    await (await fetch(`${url}/support/ask`)).text();
    const docs = (await es.waitForDocs(CALLS_STREAM, before + 2)).slice(before);
    expect(docs.map((d) => d['url.path'] ?? d['event.action'])).toEqual([
      'llm-call',
      '/support/ask',
    ]);
  });
});

describe('the gateway with ELASTICSEARCH_URL', () => {
  /**
   * Runs `use` against a gateway shipping to a stand-in, then closes it (its shutdown hook
   * flushes what the one-second interval has not shipped yet); resolves with the stand-in.
   */
  async function withGateway(
    use: (
      gateway: GatewayTestApp,
      sim: UpstreamSimulator,
      es: ElasticsearchStandIn,
    ) => Promise<void>,
  ): Promise<ElasticsearchStandIn> {
    const sim = await UpstreamSimulator.start();
    const es = await ElasticsearchStandIn.start();
    const gateway = await startGatewayApp({ LLM_BASE_URL: sim.baseUrl, ELASTICSEARCH_URL: es.url });
    try {
      await use(gateway, sim, es);
      return es;
    } finally {
      await gateway.close();
      await es.close();
      await sim.close();
    }
  }

  it('ships the call and request events of its x-user-id / x-feature-name headers', async () => {
    const es = await withGateway(async (gateway) => {
      const res = await fetch(`${gateway.url}/v1/chat/completions`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-user-id': 'u-9',
          'x-feature-name': 'summaries',
        },
        body: JSON.stringify({ messages: USER }),
      });
      expect(res.status).toBe(200);
      await res.text();
    });
    const docs = es.docs(CALLS_STREAM);
    expect(
      docs.map((d) => [d['event.action'], d['user.id'], d['llm.feature'], d['service.name']]),
    ).toEqual([
      ['llm-call', 'u-9', 'summaries', 'llm-gateway'],
      ['llm-request', 'u-9', 'summaries', 'llm-gateway'],
    ]);
    expect(es.indexTemplates.has('logs-llm.calls')).toBe(true);
  });

  it('says 499 for a request whose client left before its answer, not the 201 Nest had set', async () => {
    const es = await withGateway(async (gateway, sim, stored) => {
      sim.configure({ latencyMs: 400 });
      const leaving = new AbortController();
      const sent = fetch(`${gateway.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-feature-name': 'left' },
        body: JSON.stringify({ messages: USER }),
        signal: leaving.signal,
      });
      setTimeout(() => leaving.abort(), 100);
      await expect(sent).rejects.toThrow();
      await stored.waitForDocs(CALLS_STREAM, 2);
    });
    const [call] = byAction(es.docs(CALLS_STREAM), 'llm-call');
    const [request] = byAction(es.docs(CALLS_STREAM), 'llm-request');
    expect(call).toMatchObject({ 'error.type': 'cancelled' });
    expect(request).toMatchObject({ 'llm.feature': 'left', 'http.response.status_code': 499 });
    expect(request!['event.outcome']).not.toBe('success');
  });

  it('says a stream cut after its content reached the client failed, though its status was 200', async () => {
    const es = await withGateway(async (gateway, sim, stored) => {
      sim.script([{ type: 'stream', chunks: ['a', 'b', 'c', 'd'], cutAfter: 2 }]);
      const res = await fetch(`${gateway.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-feature-name': 'cut' },
        body: JSON.stringify({ messages: USER, stream: true }),
      });
      expect(res.status).toBe(200);
      const text = await res.text();
      expect(text).toContain('incomplete_stream');
      expect(text).not.toContain('[DONE]');
      await stored.waitForDocs(CALLS_STREAM, 2);
    });
    const [call] = byAction(es.docs(CALLS_STREAM), 'llm-call');
    const [request] = byAction(es.docs(CALLS_STREAM), 'llm-request');
    expect(call).toMatchObject({ 'event.outcome': 'failure', 'error.type': 'incomplete_stream' });
    expect(request).toMatchObject({
      'llm.feature': 'cut',
      'event.outcome': 'failure',
      'llm.request.outcome': 'failure',
      'error.type': 'incomplete_stream',
      'http.response.status_code': 200,
    });
  });
});
