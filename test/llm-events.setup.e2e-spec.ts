import { Logger } from '@nestjs/common';
import { LlmOptionsError } from '../src/llm/options/llm-options.error';
import { LLM_EVENT_FIELDS } from '../src/llm/observability/events/llm-event.fields';
import { FanOutEventSink } from '../src/llm/observability/events/fan-out-event.sink';
import { LlmEventSink } from '../src/llm/observability/events/llm-event.sink';
import { LogEventSink } from '../src/llm/observability/events/log-event.sink';
import { UpstreamSimulator } from '../src/simulator/upstream-simulator';
import { ElasticsearchStandIn } from './support/elasticsearch-stand-in';
import { CALLS_STREAM, FAST_SHIPPING, startEventsApp } from './support/llm-events-app';
import { eventually } from './support/eventually';
import { failureOf, USER } from './support/llm-test-app';

/** The mapping of a dotted field in a template's nested `properties`. */
function mappingOf(mappings: unknown, field: string): unknown {
  return field
    .split('.')
    .reduce<unknown>(
      (node, part) =>
        (node as { properties?: Record<string, unknown> } | undefined)?.properties?.[part],
      mappings,
    );
}

describe('index templates and event settings', () => {
  let sim: UpstreamSimulator;
  let es: ElasticsearchStandIn;

  beforeAll(async () => {
    sim = await UpstreamSimulator.start();
  });
  beforeEach(async () => {
    es = await ElasticsearchStandIn.start();
  });
  afterEach(async () => {
    jest.restoreAllMocks();
    await es.close();
  });
  afterAll(() => sim.close());

  it('installs a component template mapping every event field, and a data stream template above logs-*-*', async () => {
    const t = await startEventsApp(sim.baseUrl, {
      elasticsearch: {
        node: es.url,
        ...FAST_SHIPPING,
        dataset: 'llm.qa',
        namespace: 'staging',
        retentionDays: 7,
      },
    });
    try {
      await es.waitFor(() => es.indexTemplates.size === 1, 'the index template');
      const component = es.componentTemplates.get('logs-llm.qa@mappings') as {
        template: { mappings: unknown; settings: Record<string, unknown> };
      };
      for (const [field, type] of Object.entries(LLM_EVENT_FIELDS)) {
        expect([field, mappingOf(component.template.mappings, field)]).toEqual([
          field,
          expect.objectContaining({ type }),
        ]);
      }
      expect(component.template.settings).toEqual({ 'index.lifecycle.prefer_ilm': false });

      const index = es.indexTemplates.get('logs-llm.qa') as Record<string, unknown>;
      expect(index).toMatchObject({
        index_patterns: ['logs-llm.qa-*'],
        data_stream: {},
        template: { lifecycle: { data_retention: '7d' } },
      });
      expect(index.priority).toBeGreaterThan(200);
      const composed = index.composed_of as string[];
      expect(composed.slice(0, 4)).toEqual([
        'logs@mappings',
        'logs@settings',
        'ecs@mappings',
        'logs-llm.qa@mappings',
      ]);
      // Elastic's components may be missing on a bare cluster; ours never is.
      expect(index.ignore_missing_component_templates).toEqual(
        expect.arrayContaining(['logs@mappings', 'logs@settings', 'ecs@mappings']),
      );
      expect(index.ignore_missing_component_templates).not.toContain('logs-llm.qa@mappings');

      await t.llm.chat({ messages: USER });
      const [doc] = await es.waitForDocs('logs-llm.qa-staging', 1);
      expect(doc!['event.dataset']).toBe('llm.qa');
    } finally {
      await t.close();
    }
  });

  it('installs the templates again at every start (idempotent PUT)', async () => {
    for (let i = 0; i < 2; i++) {
      const t = await startEventsApp(sim.baseUrl, {
        elasticsearch: { node: es.url, ...FAST_SHIPPING },
      });
      await es.waitFor(
        () => es.requests.filter((r) => r.startsWith('PUT /_index_template/')).length > i,
        'a PUT',
      );
      await t.close();
    }
    expect(es.indexTemplates.size).toBe(1);
    expect(es.componentTemplates.size).toBe(1);
  });

  it('ships events anyway, with one warning, when the cluster refuses the templates (403)', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    es.templateStatus = 403;
    const t = await startEventsApp(sim.baseUrl, {
      elasticsearch: { node: es.url, ...FAST_SHIPPING },
    });
    try {
      await t.llm.chat({ messages: USER });
      await es.waitForDocs(CALLS_STREAM, 1);
      const refusals = warn.mock.calls.filter(([m]) =>
        String(m).includes('refused the index template'),
      );
      expect(refusals).toHaveLength(1);
      expect(String(refusals[0]![0])).toContain('manage_index_templates');
    } finally {
      await t.close();
    }
  });

  it('says every event will be dropped when the server is not Elasticsearch, not that they still ship', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    // OpenSearch, or a proxy that strips the product header: the client refuses every answer.
    ElasticsearchStandIn.productHeader = false;
    const t = await startEventsApp(sim.baseUrl, {
      elasticsearch: { node: es.url, ...FAST_SHIPPING },
    });
    try {
      await t.llm.chat({ messages: USER });
      await es.waitFor(() => es.bulkRequests > 0, 'a bulk request');
      const said = warn.mock.calls.map(([m]) => String(m));
      const refusal = said.find((m) => m.includes('did not answer as Elasticsearch'));
      expect(refusal).toContain('the events are dropped');
      expect(refusal).toContain('OpenSearch');
      expect(refusal).toContain('llm.drop.reason="rejected"');
      expect(said.some((m) => m.includes('Events are still shipped'))).toBe(false);
    } finally {
      ElasticsearchStandIn.productHeader = true;
      await t.close();
    }
  });

  it('refuses invalid settings at startup, naming each field, never echoing credentials', async () => {
    const error = await failureOf<LlmOptionsError>(() =>
      startEventsApp(sim.baseUrl, {
        elasticsearch: {
          node: 'elastic:hunter2@nowhere',
          auth: { apiKey: '' },
          dataset: 'llm-calls',
          maxBufferedEvents: 0,
          flushIntervalMs: 1.5,
        },
        log: 'yes' as unknown as boolean,
      }),
    );
    expect(error).toBeInstanceOf(LlmOptionsError);
    const text = error.problems.join('\n');
    for (const field of ['node', 'auth', 'dataset', 'maxBufferedEvents', 'flushIntervalMs']) {
      expect(text).toContain(`events.elasticsearch.${field}`);
    }
    expect(text).toContain('events.log');
    expect(text).not.toContain('hunter2');
  });

  it('writes one JSON line per event on stdout with events.log, and nothing at all when events are off', async () => {
    const lines: string[] = [];
    const write = jest
      .spyOn(process.stdout, 'write')
      .mockImplementation((chunk: string | Uint8Array) => {
        lines.push(String(chunk));
        return true;
      });
    const logged = await startEventsApp(sim.baseUrl, { log: true });
    const off = await startEventsApp(sim.baseUrl, {});
    try {
      await logged.llm.chat({ messages: USER }, { userId: 'u-log', featureName: 'faq' });
      await off.llm.chat({ messages: USER }, { userId: 'u-off' });
      // Lines are written in batches, within the sink's flush interval.
      await eventually(() => lines.some((l) => l.includes('"u-log"')));
      write.mockRestore();
      const events = lines
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(events).toEqual([
        expect.objectContaining({
          'event.action': 'llm-call',
          'user.id': 'u-log',
          'llm.feature': 'faq',
        }),
      ]);
      expect(lines.every((l) => l.endsWith('\n'))).toBe(true);
      expect(off.app.get(LlmEventSink)).toBeNull();
      expect(logged.sink).toBeNull();
    } finally {
      write.mockRestore();
      await logged.close();
      await off.close();
    }
  });

  it('writes the log lines it still holds when the app shuts down, alone or beside Elasticsearch', async () => {
    const lines: string[] = [];
    jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    });
    const shutdown = jest.spyOn(LogEventSink.prototype, 'onApplicationShutdown');
    const fanOutShutdown = jest.spyOn(FanOutEventSink.prototype, 'onApplicationShutdown');
    const flush = jest.spyOn(LogEventSink.prototype, 'flush');
    try {
      for (const events of [
        { log: true },
        { elasticsearch: { node: es.url, ...FAST_SHIPPING }, log: true },
      ]) {
        const t = await startEventsApp(sim.baseUrl, events);
        await t.llm.chat({ messages: USER }, { userId: `u-${shutdown.mock.calls.length}` });
        flush.mockClear();
        await t.close();
        // Nest's shutdown reached the sink (directly or through the fan-out) and it wrote.
        expect(flush).toHaveBeenCalled();
      }
      expect(shutdown).toHaveBeenCalledTimes(1);
      expect(fanOutShutdown).toHaveBeenCalledTimes(1);
      const users = lines
        .filter((l) => l.startsWith('{'))
        .flatMap((l) => l.trim().split('\n'))
        .map((l) => (JSON.parse(l) as Record<string, unknown>)['user.id']);
      expect(users).toEqual(['u-0', 'u-1']);
    } finally {
      jest.restoreAllMocks();
    }
  });

  it('sends events both to Elasticsearch and to stdout when both are configured', async () => {
    const lines: string[] = [];
    jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    });
    const t = await startEventsApp(sim.baseUrl, {
      elasticsearch: { node: es.url, ...FAST_SHIPPING },
      log: true,
    });
    try {
      await t.llm.chat({ messages: USER });
      const [doc] = await es.waitForDocs(CALLS_STREAM, 1);
      await eventually(() => lines.some((l) => l.startsWith('{')));
      const logged = lines
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(logged.map((e) => e['event.id'])).toEqual([doc!['event.id']]);
    } finally {
      await t.close();
    }
  });
});
