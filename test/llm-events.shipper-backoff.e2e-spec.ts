import { setTimeout as sleep } from 'node:timers/promises';
import { UpstreamSimulator } from '../src/simulator/upstream-simulator';
import { ElasticsearchStandIn } from './support/elasticsearch-stand-in';
import { eventually } from './support/eventually';
import { CALLS_STREAM, FAST_SHIPPING, startEventsApp } from './support/llm-events-app';
import { USER } from './support/llm-test-app';

describe('the event shipper after partial progress', () => {
  it('starts its backoff over when some items got in, so shipping keeps pace', async () => {
    const sim = await UpstreamSimulator.start();
    const es = await ElasticsearchStandIn.start();
    // The first document is pushed back (429) every time, the others are taken: each bulk makes
    // progress and none succeeds whole, as when one shard is overloaded.
    let poison: string | undefined;
    es.itemStatus = (doc) => {
      const id = JSON.stringify(doc);
      poison ??= id;
      return id === poison ? 429 : undefined;
    };
    const t = await startEventsApp(sim.baseUrl, {
      elasticsearch: { node: es.url, ...FAST_SHIPPING },
    });
    try {
      for (let i = 0; i < 25; i++) {
        await t.llm.chat({ messages: USER });
        await sleep(100);
      }
      // A backoff doubling from 20 ms on every partial bulk waits 2.5 s, then 5 s, by now.
      const docs = await es.waitForDocs(CALLS_STREAM, 24, 1000);
      expect(docs).toHaveLength(24);
      es.itemStatus = undefined;
      await es.waitForDocs(CALLS_STREAM, 25);
    } finally {
      await t.close();
      await es.close();
      await sim.close();
    }
  });

  it('drains a backlog bulk after bulk once the cluster is back, not one bulk per interval', async () => {
    const sim = await UpstreamSimulator.start();
    const es = await ElasticsearchStandIn.start();
    // A 1 s interval: one bulk per tick would take 6 s for the backlog below.
    const t = await startEventsApp(sim.baseUrl, {
      elasticsearch: { node: es.url, ...FAST_SHIPPING, flushIntervalMs: 1000, maxBulkEvents: 10 },
    });
    try {
      await t.llm.chat({ messages: USER });
      // Once the templates are in, the first event goes (flushed by hand: the interval is long).
      await eventually(
        async () => {
          await t.sink!.flush();
          return es.docs(CALLS_STREAM).length === 1;
        },
        { what: 'the first event, once the templates are in' },
      );
      await es.setDown(true);
      for (let i = 0; i < 60; i++) await t.llm.chat({ messages: USER });
      await es.setDown(false);
      // 60 events are 6 bulks: the first at the next tick (or the backoff's end), the others each
      // right after the one before; before, one bulk per tick.
      await es.waitForDocs(CALLS_STREAM, 61, 3000);
    } finally {
      await t.close();
      await es.close();
      await sim.close();
    }
  });
});
