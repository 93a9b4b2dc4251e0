import { setTimeout as sleep } from 'node:timers/promises';
import { UpstreamSimulator } from '../src/simulator/upstream-simulator';
import { ElasticsearchStandIn } from './support/elasticsearch-stand-in';
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
});
