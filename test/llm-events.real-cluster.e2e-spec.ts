import { Client } from '@elastic/elasticsearch';
import { templateNames } from '../src/llm/observability/events/elasticsearch-index.templates';
import { UpstreamSimulator } from '../src/simulator/upstream-simulator';
import { startEventsApp } from './support/llm-events-app';
import { failureOf, USER } from './support/llm-test-app';

/**
 * Opt-in: runs the event writer against a real cluster when ELASTICSEARCH_URL is set
 * (with ELASTICSEARCH_API_KEY, or ELASTICSEARCH_USERNAME and ELASTICSEARCH_PASSWORD, if it needs
 * them). With docker-compose:
 *
 *   docker compose up -d elasticsearch
 *   ELASTICSEARCH_URL=http://localhost:9200 npx jest test/llm-events.real-cluster
 *
 * It uses its own dataset and a namespace per run, and deletes what it created.
 */
const node = process.env.ELASTICSEARCH_URL;
const describeWithCluster = node ? describe : describe.skip;

function authFromEnv(): { apiKey: string } | { username: string; password: string } | undefined {
  const { ELASTICSEARCH_API_KEY: apiKey, ELASTICSEARCH_USERNAME: username } = process.env;
  const password = process.env.ELASTICSEARCH_PASSWORD;
  if (apiKey) return { apiKey };
  return username && password ? { username, password } : undefined;
}

/**
 * `{ event: { outcome: 'success' } }` → `{ 'event.outcome': 'success' }`: a cluster that
 * reconstructs `_source` (LogsDB's synthetic source, the default for logs-*-* in 9.x) returns
 * the flat dotted keys we wrote as nested objects.
 */
function flatten(source: Record<string, unknown>, prefix = ''): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(source).flatMap(([key, value]) =>
      value !== null && typeof value === 'object' && !Array.isArray(value)
        ? Object.entries(flatten(value as Record<string, unknown>, `${prefix}${key}.`))
        : [[`${prefix}${key}`, value]],
    ),
  );
}

describeWithCluster('business events in a real Elasticsearch cluster (ELASTICSEARCH_URL)', () => {
  const dataset = 'llm.calls_it';
  const namespace = `run${Date.now()}`;
  const stream = `logs-${dataset}-${namespace}`;
  const names = templateNames(dataset);
  const auth = authFromEnv();
  let es: Client;
  let sim: UpstreamSimulator;

  beforeAll(async () => {
    es = new Client({ node: node!, ...(auth ? { auth } : {}) });
    sim = await UpstreamSimulator.start();
  });
  afterAll(async () => {
    await es.indices.deleteDataStream({ name: stream }, { ignore: [404] });
    await es.indices.deleteIndexTemplate({ name: names.index }, { ignore: [404] });
    await es.cluster.deleteComponentTemplate({ name: names.component }, { ignore: [404] });
    await es.close();
    await sim.close();
  });

  it('installs the templates, writes events through the data stream and finds them again', async () => {
    const t = await startEventsApp(sim.baseUrl, {
      elasticsearch: {
        node: node!,
        ...(auth ? { auth } : {}),
        dataset,
        namespace,
        retentionDays: 1,
        flushIntervalMs: 100,
        shutdownTimeoutMs: 10_000,
      },
    });
    try {
      sim.script([
        { type: 'ok', content: 'Hi' },
        { type: 'error', status: 401 },
      ]);
      await t.llm.chat({ messages: USER }, { userId: 'real-user', featureName: 'real-feature' });
      await failureOf(() => t.llm.chat({ messages: USER }, { userId: 'real-user' }));
    } finally {
      await t.close(); // flushes the buffer
    }

    const template = await es.indices.getIndexTemplate({ name: names.index });
    expect(template.index_templates[0]?.index_template.priority).toBeGreaterThan(200);

    await es.indices.refresh({ index: stream });
    const found = await es.search<Record<string, unknown>>({
      index: stream,
      query: { term: { 'user.id': 'real-user' } },
      sort: [{ '@timestamp': 'asc' }],
      aggs: { kinds: { terms: { field: 'error.type' } } },
    });
    const docs = found.hits.hits.map((hit) => flatten(hit._source!));
    expect(docs.map((d) => [d['event.outcome'], d['error.type']])).toEqual([
      ['success', undefined],
      ['failure', 'auth'],
    ]);
    expect(docs[0]).toMatchObject({ 'llm.feature': 'real-feature', 'llm.attempts': 1 });
    // Keyword fields aggregate, as the dashboards need.
    const kinds = found.aggregations?.kinds as { buckets: { key: string }[] } | undefined;
    expect(kinds?.buckets.map((b) => b.key)).toEqual(['auth']);

    const mapping = await es.indices.getMapping({ index: stream });
    const properties = Object.values(mapping)[0]!.mappings.properties!;
    expect(properties.event).toMatchObject({ properties: { duration: { type: 'long' } } });
    expect(properties.user).toMatchObject({ properties: { id: { type: 'keyword' } } });

    const { data_streams } = await es.indices.getDataStream({ name: stream });
    expect(data_streams[0]?.template).toBe(names.index);
    expect(data_streams[0]?.lifecycle?.data_retention).toBe('1d');
  });
});
