import { metrics } from '@opentelemetry/api';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { LLM_EVENT_FIELDS } from '../src/llm/observability/events/llm-event.fields';
import { LLM_METRICS } from '../src/llm/observability/llm-metric.instruments';
import { runWithLlmContext } from '../src/llm/observability/llm-context.storage';
import { UpstreamSimulator } from '../src/simulator/upstream-simulator';
import { ElasticsearchStandIn, type StoredDocument } from './support/elasticsearch-stand-in';
import {
  CALLS_STREAM,
  FAST_SHIPPING,
  type LlmEventsTestApp,
  startEventsApp,
} from './support/llm-events-app';
import { failureOf, TEST_API_KEY, USER } from './support/llm-test-app';
import { TestMetricReader } from './support/test-metric-reader';

// Before any module boots: the shipper takes its meter when it is created.
const reader = new TestMetricReader();
const meterProvider = new MeterProvider({ readers: [reader] });
metrics.setGlobalMeterProvider(meterProvider);

const PROMPT = USER[0]!.content;

describe('business events in Elasticsearch, one document per call', () => {
  let sim: UpstreamSimulator;
  let es: ElasticsearchStandIn;
  let t: LlmEventsTestApp;

  /** Makes `fn`'s calls, then returns the documents they produced (waits for the shipper). */
  async function eventsOf(count: number, fn: () => Promise<unknown>): Promise<StoredDocument[]> {
    const before = es.docs(CALLS_STREAM).length;
    await fn();
    const docs = await es.waitForDocs(CALLS_STREAM, before + count);
    // Settled too: counted as exported, nothing left in flight.
    await es.waitFor(() => t.sink?.buffered === 0, 'the buffer to empty');
    return docs.slice(before);
  }

  beforeAll(async () => {
    sim = await UpstreamSimulator.start();
    es = await ElasticsearchStandIn.start();
    t = await startEventsApp(sim.baseUrl, { elasticsearch: { node: es.url, ...FAST_SHIPPING } });
  });
  beforeEach(() => sim.reset());
  afterAll(async () => {
    await t.close();
    await es.close();
    await sim.close();
    await meterProvider.shutdown();
  });

  it('describe a successful call with ECS, GenAI and llm.* fields, the user and the feature', async () => {
    sim.script([{ type: 'ok', content: 'Hi', usage: { prompt_tokens: 12, completion_tokens: 3 } }]);
    const [doc] = await eventsOf(1, () =>
      t.llm.chat(
        { messages: USER },
        { userId: 'u-1', featureName: 'support-chat', requestId: 'r-1' },
      ),
    );
    const simUrl = new URL(sim.baseUrl);
    expect(doc).toMatchObject({
      'event.kind': 'event',
      'event.category': ['api'],
      'event.dataset': 'llm.calls',
      'event.action': 'llm-call',
      'event.outcome': 'success',
      'user.id': 'u-1',
      'llm.feature': 'support-chat',
      'llm.request_id': 'r-1',
      'service.name': 'events-test',
      'server.address': simUrl.hostname,
      'server.port': Number(simUrl.port),
      'http.response.status_code': 200,
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': 'gpt-4o-mini',
      'gen_ai.response.finish_reasons': ['stop'],
      'gen_ai.usage.input_tokens': 12,
      'gen_ai.usage.output_tokens': 3,
      'llm.upstream': 'sim',
      'llm.stream': false,
      'llm.attempts': 1,
      'llm.retries': 0,
      'llm.wait_ms': 0,
      'llm.breaker.state': 'closed',
    });
    expect(doc!['gen_ai.response.id']).toMatch(/^chatcmpl-/);
    expect(doc!['event.duration']).toBeGreaterThan(0);
    expect(Number(doc!['event.duration']) % 1_000_000).toBe(0);
    expect(Date.parse(doc!['@timestamp'] as string)).toBeGreaterThan(Date.now() - 5000);
    expect(doc!._id).toBe(doc!['event.id']);
    expect(doc!['llm.client_request_id']).toBe(doc!['event.id']);
    expect(doc!['llm.upstream_request_id']).toEqual(expect.any(String));
    expect(doc).not.toHaveProperty('error.type');
  });

  it('use only the fields of LLM_EVENT_FIELDS, and never the prompt, the completion or the key', async () => {
    sim.script([{ type: 'ok', content: 'secret completion 4411' }]);
    const [doc] = await eventsOf(1, () => t.llm.chat({ messages: USER }));
    const known = Object.keys(LLM_EVENT_FIELDS);
    expect(Object.keys(doc!).filter((key) => key !== '_id' && !known.includes(key))).toEqual([]);
    const text = JSON.stringify(doc);
    expect(text).not.toContain(PROMPT);
    expect(text).not.toContain('secret completion 4411');
    expect(text).not.toContain(TEST_API_KEY);
  });

  it('record a retried call: three attempts, why each retry happened and the total wait', async () => {
    sim.script([
      { type: 'error', status: 503 },
      { type: 'error', status: 429, headers: { 'retry-after-ms': '30' } },
      { type: 'ok', content: 'third time' },
    ]);
    const [doc] = await eventsOf(1, () => t.llm.chat({ messages: USER }));
    expect(doc).toMatchObject({
      'event.outcome': 'success',
      'llm.attempts': 3,
      'llm.retries': 2,
      'llm.retry.reason': ['overloaded', 'rate_limited'],
      'http.response.status_code': 200,
    });
    expect(doc!['llm.wait_ms']).toBeGreaterThanOrEqual(30);
    expect(doc).not.toHaveProperty('error.type');
  });

  it('record a failed call with its error kind, status and redacted message', async () => {
    sim.script([
      {
        type: 'error',
        status: 401,
        code: 'invalid_api_key',
        message: `Incorrect API key provided: ${TEST_API_KEY}`,
      },
    ]);
    const [doc] = await eventsOf(1, () => failureOf(() => t.llm.chat({ messages: USER })));
    expect(doc).toMatchObject({
      'event.outcome': 'failure',
      'error.type': 'auth',
      'error.code': 'invalid_api_key',
      'http.response.status_code': 401,
      'llm.attempts': 1,
    });
    expect(doc!['error.message']).toContain('Incorrect API key');
    expect(JSON.stringify(doc)).not.toContain(TEST_API_KEY);
  });

  it('record a call rejected by an open breaker: no attempt, breaker open', async () => {
    const strict = await startEventsApp(
      sim.baseUrl,
      { elasticsearch: { node: es.url, ...FAST_SHIPPING } },
      {
        upstream: {
          retry: { maxRetries: 0 },
          breaker: { consecutiveFailures: 1, maxBreakMs: 10_000, maxProbeWaitMs: 0 },
        },
      },
    );
    try {
      sim.script([{ type: 'error', status: 500 }]);
      const [failed, rejected] = await eventsOf(2, async () => {
        await failureOf(() => strict.llm.chat({ messages: USER }));
        await failureOf(() => strict.llm.chat({ messages: USER }));
      });
      expect(failed).toMatchObject({ 'error.type': 'server_error', 'llm.attempts': 1 });
      expect(rejected).toMatchObject({
        'event.outcome': 'failure',
        'error.type': 'circuit_open',
        'llm.attempts': 0,
        'llm.breaker.state': 'open',
      });
      expect(rejected).not.toHaveProperty('http.response.status_code');
      expect(sim.requests).toHaveLength(1);
    } finally {
      await strict.close();
    }
  });

  it('take the user and feature from runWithLlmContext; explicit call options win', async () => {
    const docs = await eventsOf(2, () =>
      runWithLlmContext(
        { userId: 'job-user', featureName: 'nightly-digest', requestId: 'job-7' },
        async () => {
          await t.llm.chat({ messages: USER });
          await t.llm.chat({ messages: USER }, { userId: 'someone-else' });
        },
      ),
    );
    expect(docs.map((d) => [d['user.id'], d['llm.feature'], d['llm.request_id']])).toEqual([
      ['job-user', 'nightly-digest', 'job-7'],
      ['someone-else', 'nightly-digest', 'job-7'],
    ]);
  });

  it('record a stream when its last chunk arrived, with its finish reason', async () => {
    sim.script([{ type: 'stream', chunks: ['a', 'b'] }]);
    const [doc] = await eventsOf(1, async () => {
      for await (const chunk of t.llm.chatStream({ messages: USER })) void chunk;
    });
    expect(doc).toMatchObject({
      'llm.stream': true,
      'event.outcome': 'success',
      'gen_ai.response.finish_reasons': ['stop'],
    });
  });

  it('count every document Elasticsearch accepted in llm.events.exported', async () => {
    await eventsOf(3, async () => {
      for (let i = 0; i < 3; i++) await t.llm.chat({ messages: USER });
    });
    const snapshot = await reader.read();
    expect(snapshot.sum(LLM_METRICS.eventsExported)).toBe(es.docs(CALLS_STREAM).length);
    expect(snapshot.sum(LLM_METRICS.eventsDropped)).toBe(0);
  });
});
