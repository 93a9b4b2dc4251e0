import { context, trace } from '@opentelemetry/api';
import { UpstreamSimulator } from '../src/simulator/upstream-simulator';
import { ElasticsearchStandIn } from './support/elasticsearch-stand-in';
import {
  CALLS_STREAM,
  FAST_SHIPPING,
  type LlmEventsTestApp,
  startEventsApp,
} from './support/llm-events-app';
import { USER } from './support/llm-test-app';
import { inMemoryTracing } from './support/in-memory-tracing';

const tracing = inMemoryTracing();
const { exporter } = tracing;

describe('business events and traces', () => {
  let sim: UpstreamSimulator;
  let es: ElasticsearchStandIn;
  let t: LlmEventsTestApp;

  beforeAll(async () => {
    tracing.start();
    sim = await UpstreamSimulator.start();
    es = await ElasticsearchStandIn.start();
    t = await startEventsApp(sim.baseUrl, { elasticsearch: { node: es.url, ...FAST_SHIPPING } });
  });
  beforeEach(() => exporter.reset());
  afterAll(async () => {
    await t.close();
    await es.close();
    await sim.close();
    await tracing.stop();
  });

  it("carry the call span's trace and span ids, so a document leads to its trace", async () => {
    const parent = trace.getTracer('test').startSpan('inbound request');
    await context.with(trace.setSpan(context.active(), parent), () =>
      t.llm.chat({ messages: USER }),
    );
    parent.end();
    const [doc] = await es.waitForDocs(CALLS_STREAM, 1);
    const call = exporter.getFinishedSpans().find((span) => span.name === 'chat gpt-4o-mini');
    expect(call).toBeDefined();
    expect(doc).toMatchObject({
      'trace.id': parent.spanContext().traceId,
      'span.id': call!.spanContext().spanId,
    });
  });

  it('never trace the shipper: no span of the Elasticsearch client, in or outside a request', async () => {
    const parent = trace.getTracer('test').startSpan('inbound request');
    await context.with(trace.setSpan(context.active(), parent), async () => {
      // Enough events for a bulk's worth, so a flush starts from inside this request.
      for (let i = 0; i < FAST_SHIPPING.maxBulkEvents + 1; i++)
        await t.llm.chat({ messages: USER });
    });
    parent.end();
    await es.waitForDocs(CALLS_STREAM, 1 + FAST_SHIPPING.maxBulkEvents + 1);
    await es.waitFor(() => t.sink?.buffered === 0, 'the buffer to empty');
    expect(es.bulkRequests).toBeGreaterThan(1);
    const scopes = new Set(
      exporter.getFinishedSpans().map((span) => span.instrumentationScope.name),
    );
    expect([...scopes].sort()).toEqual(['nestjs-resilient-llm', 'test']);
  });
});
