import { UpstreamSimulator } from '../src/simulator/upstream-simulator';
import { ElasticsearchStandIn, type StoredDocument } from './support/elasticsearch-stand-in';
import { type GatewayTestApp, startGatewayApp } from './support/gateway-test-app';
import { CALLS_STREAM } from './support/llm-events-app';

const MESSAGES = [{ role: 'user', content: 'Hello' }];

/**
 * The chat route enters the LLM context itself (LlmContextInterceptor.runHttp, no interceptor
 * around it): who, which feature and which request reach the call, and the request's ending is
 * reported once, for a success and for a failure alike, plain or streamed.
 */
describe('gateway: the chat route’s LLM context and request events', () => {
  let sim: UpstreamSimulator;
  let es: ElasticsearchStandIn;
  let gateway: GatewayTestApp;

  beforeAll(async () => {
    sim = await UpstreamSimulator.start();
    es = await ElasticsearchStandIn.start();
    gateway = await startGatewayApp({
      LLM_BASE_URL: sim.baseUrl,
      ELASTICSEARCH_URL: es.url,
      LLM_MAX_RETRIES: '0',
    });
  });
  afterAll(async () => {
    await gateway.close();
    await es.close();
    await sim.close();
  });
  beforeEach(() => sim.reset());

  /** Sends one chat call and returns the events it produced (the call's, then the request's). */
  async function eventsOf(requestId: string, body: object): Promise<StoredDocument[]> {
    const before = es.docs(CALLS_STREAM).length;
    const res = await fetch(`${gateway.url}/v1/chat/completions`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-user-id': 'u-ctx',
        'x-feature-name': 'ctx-feature',
        'x-request-id': requestId,
      },
      body: JSON.stringify(body),
    });
    expect(res.headers.get('x-request-id')).toBe(requestId);
    await res.text();
    return (await es.waitForDocs(CALLS_STREAM, before + 2)).slice(before);
  }

  const who = (requestId: string) => ({
    'user.id': 'u-ctx',
    'llm.feature': 'ctx-feature',
    'llm.request_id': requestId,
  });

  it.each([
    ['a plain call', false],
    ['a streamed call', true],
  ])('reports %s and its request with the caller’s context', async (_case, stream) => {
    sim.script([stream ? { type: 'stream', chunks: ['a', 'b'] } : { type: 'ok' }]);
    const docs = await eventsOf(`req-ctx-${stream}`, { messages: MESSAGES, stream });
    expect(docs.map((d) => d['event.action'])).toEqual(['llm-call', 'llm-request']);
    expect(docs[0]).toMatchObject(who(`req-ctx-${stream}`));
    expect(docs[1]).toMatchObject({
      ...who(`req-ctx-${stream}`),
      'event.outcome': 'success',
      'llm.request.route': '/v1/chat/completions',
      'http.request.method': 'POST',
      'url.path': '/v1/chat/completions',
      'http.response.status_code': 200,
    });
  });

  it('reports a failed call’s request with the status and the error that ended it', async () => {
    sim.script([{ type: 'error', status: 503 }]);
    const docs = await eventsOf('req-ctx-failed', { messages: MESSAGES });
    const request = docs.find((d) => d['event.action'] === 'llm-request');
    expect(request).toMatchObject({
      ...who('req-ctx-failed'),
      'event.outcome': 'failure',
      'llm.request.outcome': 'failure',
      'error.type': 'overloaded',
      'http.response.status_code': 503,
    });
  });
});
