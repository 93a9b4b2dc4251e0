import { Logger } from '@nestjs/common';
import { metrics } from '@opentelemetry/api';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { LLM_METRICS } from '../src/llm/observability/llm-metric.instruments';
import { UpstreamSimulator } from '../src/simulator/upstream-simulator';
import { ElasticsearchStandIn } from './support/elasticsearch-stand-in';
import { eventually } from './support/eventually';
import {
  CALLS_STREAM,
  FAST_SHIPPING,
  type LlmEventsTestApp,
  startEventsApp,
} from './support/llm-events-app';
import { type LlmTestApp, startLlmApp, USER } from './support/llm-test-app';
import { TestMetricReader } from './support/test-metric-reader';

// Before any module boots: the shipper takes its meter when it is created.
const reader = new TestMetricReader();
const meterProvider = new MeterProvider({ readers: [reader] });
metrics.setGlobalMeterProvider(meterProvider);
afterAll(() => meterProvider.shutdown());

/** Latency the shipper may add to a call at most; generous, since it should add nothing. */
const MARGIN_MS = 100;

const dropped = async (reason: string) =>
  (await reader.read()).sum(LLM_METRICS.eventsDropped, { 'llm.drop.reason': reason });

async function medianLatency(t: LlmTestApp, calls = 5): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < calls; i++) {
    const started = performance.now();
    await t.llm.chat({ messages: USER });
    times.push(performance.now() - started);
  }
  return times.sort((a, b) => a - b)[Math.floor(calls / 2)]!;
}

describe('the event shipper when Elasticsearch misbehaves', () => {
  let sim: UpstreamSimulator;
  let es: ElasticsearchStandIn;
  let plain: LlmTestApp;
  let t: LlmEventsTestApp | undefined;
  let baselineMs: number;

  const boot = async (elasticsearch: Record<string, unknown> = {}) => {
    t = await startEventsApp(sim.baseUrl, {
      elasticsearch: { node: es.url, ...FAST_SHIPPING, ...elasticsearch },
    });
    return t;
  };

  beforeAll(async () => {
    sim = await UpstreamSimulator.start({ latencyMs: 5 });
    plain = await startLlmApp(sim.baseUrl);
    baselineMs = await medianLatency(plain);
  });
  beforeEach(async () => {
    es = await ElasticsearchStandIn.start();
  });
  afterEach(async () => {
    jest.restoreAllMocks();
    await t?.close();
    t = undefined;
    await es.close();
  });
  afterAll(async () => {
    await plain.close();
    await sim.close();
  });

  it('neither delays the boot nor the shutdown while it hangs', async () => {
    es.delayMs = 5000;
    const started = performance.now();
    const app = await boot();
    expect(performance.now() - started).toBeLessThan(1000);
    await es.waitFor(() => es.requests.length > 0, 'the template request');
    await app.close();
    t = undefined;
    expect(performance.now() - started).toBeLessThan(1500);
  });

  it('boots at once and calls at full speed while it is down; installs and ships once it is up', async () => {
    await es.setDown(true);
    const started = performance.now();
    const app = await boot();
    expect(performance.now() - started).toBeLessThan(1000);
    expect(await medianLatency(app)).toBeLessThan(baselineMs + MARGIN_MS);
    // Each event is built on the turn after its call returned.
    await eventually(() => expect(app.sink?.buffered).toBe(5));

    await es.setDown(false);
    const docs = await es.waitForDocs(CALLS_STREAM, 5);
    expect(es.indexTemplates.has('logs-llm.calls')).toBe(true);
    expect(docs).toHaveLength(5);
    // The templates came first, so the data stream was created with our mappings.
    const firstBulk = es.requests.findIndex((line) => line.endsWith('/_bulk'));
    expect(es.requests.findIndex((line) => line.startsWith('PUT /_index_template/'))).toBeLessThan(
      firstBulk,
    );
  });

  it('does not slow calls while it answers slowly, sends one bulk at a time, and delivers everything', async () => {
    const app = await boot({ maxBulkEvents: 2 });
    await es.waitFor(() => es.indexTemplates.size === 1, 'the index template');
    es.delayMs = 500;
    expect(await medianLatency(app)).toBeLessThan(baselineMs + MARGIN_MS);
    es.delayMs = 0;
    await es.waitForDocs(CALLS_STREAM, 5);
    expect(es.maxConcurrentBulks).toBe(1);
  });

  it.each(['items', 'request'] as const)(
    'keeps events the cluster rejects with 429 (%s) and sends them again, once each',
    async (mode) => {
      const app = await boot();
      await es.waitFor(() => es.indexTemplates.size === 1, 'the index template');
      es.reject429 = mode;
      const droppedBefore = await dropped('rejected');
      expect(await medianLatency(app, 3)).toBeLessThan(baselineMs + MARGIN_MS);
      await es.waitFor(() => es.bulkRequests >= 2, 'a second bulk attempt');
      expect(es.docs(CALLS_STREAM)).toHaveLength(0);

      es.reject429 = false;
      const docs = await es.waitForDocs(CALLS_STREAM, 3);
      expect(new Set(docs.map((d) => d._id)).size).toBe(3);
      expect(await dropped('rejected')).toBe(droppedBefore);
    },
  );

  it('drops the newest events past the bound, counts them, warns once, and ships the rest later', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    await es.setDown(true);
    const app = await boot({ maxBufferedEvents: 3, maxBulkEvents: 3 });
    const droppedBefore = await dropped('buffer_full');
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) {
      ids.push((await app.llm.chat({ messages: USER })).metadata.clientRequestId);
    }
    // Each event is built on the turn after its call returned.
    await eventually(async () => expect(await dropped('buffer_full')).toBe(droppedBefore + 3));
    expect(app.sink?.buffered).toBe(3);
    const dropWarnings = warn.mock.calls.filter(([message]) =>
      String(message).startsWith('Dropped'),
    );
    expect(dropWarnings).toHaveLength(1);

    await es.setDown(false);
    const docs = await es.waitForDocs(CALLS_STREAM, 3);
    expect(docs.map((d) => d['event.id'])).toEqual(ids.slice(0, 3));
  });

  it('drops documents the cluster refuses for good (mapping errors) and counts them', async () => {
    es.itemStatus = (doc) => (doc['user.id'] === 'unmappable' ? 400 : undefined);
    const app = await boot();
    const droppedBefore = await dropped('rejected');
    await app.llm.chat({ messages: USER }, { userId: 'unmappable' });
    await app.llm.chat({ messages: USER }, { userId: 'fine' });
    const [doc] = await es.waitForDocs(CALLS_STREAM, 1);
    expect(doc!['user.id']).toBe('fine');
    await es.waitFor(() => app.sink?.buffered === 0, 'the buffer to empty');
    expect(await dropped('rejected')).toBe(droppedBefore + 1);
    expect(es.docs(CALLS_STREAM)).toHaveLength(1);
  });
});

describe('the event shipper at shutdown', () => {
  let sim: UpstreamSimulator;
  let es: ElasticsearchStandIn;

  beforeAll(async () => {
    sim = await UpstreamSimulator.start();
  });
  beforeEach(async () => {
    es = await ElasticsearchStandIn.start();
  });
  afterEach(() => es.close());
  afterAll(() => sim.close());

  it('flushes the buffer when the app closes', async () => {
    // No flush would happen for a minute: only the shutdown hook can deliver these.
    const t = await startEventsApp(sim.baseUrl, {
      elasticsearch: {
        node: es.url,
        ...FAST_SHIPPING,
        flushIntervalMs: 60_000,
        maxBulkEvents: 100,
      },
    });
    await es.waitFor(() => es.indexTemplates.size === 1, 'the index template');
    for (let i = 0; i < 3; i++) await t.llm.chat({ messages: USER });
    expect(es.docs(CALLS_STREAM)).toHaveLength(0);
    await t.close();
    expect(es.docs(CALLS_STREAM)).toHaveLength(3);
  });

  it.each([
    ['down', async () => es.setDown(true)],
    ['too slow', () => void (es.delayMs = 3000)],
  ])('gives up within shutdownTimeoutMs when it is %s, counting what is lost', async (_, fault) => {
    const t = await startEventsApp(sim.baseUrl, {
      elasticsearch: {
        node: es.url,
        ...FAST_SHIPPING,
        flushIntervalMs: 60_000,
        shutdownTimeoutMs: 300,
      },
    });
    await es.waitFor(() => es.indexTemplates.size === 1, 'the index template');
    await t.llm.chat({ messages: USER });
    await t.llm.chat({ messages: USER });
    await fault();
    const droppedBefore = await dropped('shutdown');
    const started = performance.now();
    await t.close();
    expect(performance.now() - started).toBeLessThan(300 + 500);
    expect(await dropped('shutdown')).toBe(droppedBefore + 2);
    expect(es.docs(CALLS_STREAM)).toHaveLength(0);
  });
});
