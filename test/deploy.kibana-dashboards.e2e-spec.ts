import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { buildCallEvent } from '../src/llm/observability/events/llm-call.event';
import { LLM_EVENT_ACTIONS } from '../src/llm/observability/events/llm-event.base';
import {
  LLM_EVENT_FIELDS,
  type LlmEventDocument,
} from '../src/llm/observability/events/llm-event.fields';
import { LLM_DEFAULTS } from '../src/llm/options/llm.defaults';
import { buildRequestEvent } from '../src/llm/observability/events/llm-request.event';
import { currentLlmContext, runWithLlmContext } from '../src/llm/observability/llm-context.storage';
import { UpstreamSimulator } from '../src/simulator/upstream-simulator';
import {
  fieldUses,
  kqlQueries,
  kqlValues,
  lensColumnsOf,
  type LensColumn,
  type LensState,
  lensStateOf,
  readSavedObjects,
} from './support/kibana-saved-objects';
import { failureOf, FAST_POLICIES, startLlmApp, USER } from './support/llm-test-app';
import { ERROR_KINDS, KNOWN_VALUES, TYPES_BY_USE } from './support/llm-event.values';
import { recordCalls } from './support/call-recorder';

const KIBANA_DIR = join(__dirname, '..', 'deploy', 'kibana');
const objects = readSavedObjects(join(KIBANA_DIR, 'business-impact.ndjson'));
const ofType = (type: string) => objects.filter((o) => o.type === type);
const [dataView] = ofType('index-pattern');
const [dashboard] = ofType('dashboard');

/** The parts of a Lens visualization state and column that name other columns. */
interface VisualizationState {
  metricAccessor?: string;
  columns?: { columnId: string }[];
  layers?: { xAccessor?: string; splitAccessor?: string; accessors: string[] }[];
}
interface ColumnLinks {
  references?: string[];
  params?: { orderBy?: { columnId?: string } };
}

describe('Kibana saved objects (deploy/kibana/business-impact.ndjson)', () => {
  it('hold one data view, one dashboard and Lens visualizations, each with type, id and attributes', () => {
    for (const object of objects) {
      expect(object).toEqual(
        expect.objectContaining({
          type: expect.any(String) as string,
          id: expect.any(String) as string,
          attributes: expect.any(Object) as object,
          references: expect.any(Array) as unknown[],
        }),
      );
    }
    expect(objects.map((o) => o.type).sort()).toEqual(
      ['dashboard', 'index-pattern', ...ofType('lens').map(() => 'lens')].sort(),
    );
    expect(new Set(objects.map((o) => o.id)).size).toBe(objects.length);
  });

  it('resolve every reference to an object in the file, every Lens layer to the data view', () => {
    const ids = new Set(objects.map((o) => `${o.type}:${o.id}`));
    for (const object of objects) {
      for (const ref of object.references) expect(ids).toContain(`${ref.type}:${ref.id}`);
    }
    for (const lens of ofType('lens')) {
      for (const layerId of Object.keys(lensStateOf(lens).datasourceStates.formBased.layers)) {
        expect(lens.references).toContainEqual({
          type: 'index-pattern',
          id: dataView!.id,
          name: `indexpattern-datasource-layer-${layerId}`,
        });
      }
    }
  });

  it('name only columns of their layer: accessors, rank-by columns and formula parts', () => {
    for (const lens of ofType('lens')) {
      const { visualization, datasourceStates } = lensStateOf(lens) as LensState & {
        visualization: VisualizationState;
      };
      const [layer] = Object.values(datasourceStates.formBased.layers);
      const columns = layer!.columns as Record<string, LensColumn & ColumnLinks>;
      const named = [
        visualization.metricAccessor,
        ...(visualization.columns ?? []).map((c) => c.columnId),
        ...(visualization.layers ?? []).flatMap((l) => [
          l.xAccessor,
          l.splitAccessor,
          ...l.accessors,
        ]),
        ...Object.values(columns).flatMap((c) => [
          ...(c.references ?? []),
          c.params?.orderBy?.columnId,
        ]),
      ].filter((id) => id !== undefined);
      expect(named.length).toBeGreaterThan(0);
      expect([lens.id, named.filter((id) => !(id in columns))]).toEqual([lens.id, []]);
    }
  });

  it('put every visualization on the dashboard once, inside the 48-column grid, none overlapping', () => {
    const panels = JSON.parse(dashboard!.attributes.panelsJSON as string) as {
      panelIndex: string;
      panelRefName: string;
      gridData: { x: number; y: number; w: number; h: number };
    }[];
    const shown = panels.map((panel) => {
      const ref = dashboard!.references.find(
        (r) => r.name === `${panel.panelIndex}:${panel.panelRefName}`,
      );
      expect(ref).toBeDefined();
      return ref!.id;
    });
    expect(shown.sort()).toEqual(
      ofType('lens')
        .map((o) => o.id)
        .sort(),
    );
    const cells = new Set<string>();
    for (const { x, y, w, h } of panels.map((p) => p.gridData)) {
      expect(x + w).toBeLessThanOrEqual(48);
      for (let i = x; i < x + w; i++) {
        for (let j = y; j < y + h; j++) {
          expect(cells).not.toContain(`${i},${j}`);
          cells.add(`${i},${j}`);
        }
      }
    }
  });

  it('read the data streams the event writer fills, logs-<dataset>-*, by @timestamp', () => {
    expect(dataView!.attributes).toMatchObject({
      title: `logs-${LLM_DEFAULTS.events.elasticsearch.dataset}-*`,
      timeFieldName: '@timestamp',
    });
    expect(dashboard!.attributes.title).toBe('Business impact');
  });

  it('are what build-saved-objects.mjs generates from business-impact.panels.mjs', async () => {
    // Rejects (exit code 1) when someone edited one without the other.
    await expect(
      promisify(execFile)(process.execPath, [
        join(KIBANA_DIR, 'build-saved-objects.mjs'),
        '--check',
      ]),
    ).resolves.toBeDefined();
  });
});

describe('fields the dashboards use', () => {
  const uses = fieldUses(objects);

  it('all exist in the index template (LLM_EVENT_FIELDS) with a type their use can aggregate', () => {
    expect(uses.length).toBeGreaterThan(20);
    const wrong = uses.flatMap(({ field, use, where }) => {
      const type = (LLM_EVENT_FIELDS as Record<string, string>)[field];
      const allowed = TYPES_BY_USE[use];
      if (!type) return [`${where}: ${field} is not in LLM_EVENT_FIELDS`];
      if (!allowed) return [`${where}: ${field} is used by ${use}, which this test does not know`];
      if (allowed !== 'any' && !allowed.includes(type))
        return [`${where}: ${use} on ${field} (${type})`];
      return [];
    });
    expect(wrong).toEqual([]);
  });

  it('filter every panel to one kind of event: llm-call, or llm-request for request outcomes', () => {
    for (const lens of ofType('lens')) {
      const actions = kqlValues(lensStateOf(lens).query.query).filter(
        ([f]) => f === 'event.action',
      );
      const requestFields = uses.some(
        (u) => u.where === `lens:${lens.id}` && u.field.startsWith('llm.request.'),
      );
      expect([lens.id, actions.map(([, v]) => v)]).toEqual([
        lens.id,
        [requestFields ? LLM_EVENT_ACTIONS.request : LLM_EVENT_ACTIONS.call],
      ]);
    }
  });

  it('filter only on values the event writer knows', () => {
    const pairs = objects.flatMap((o) => kqlQueries(o).flatMap(kqlValues));
    const unknown = pairs.filter(([field, value]) => !KNOWN_VALUES[field]?.includes(value));
    expect(unknown).toEqual([]);
  });

  it('group every error kind into exactly one bucket of the error-kinds panel', () => {
    const panel = ofType('lens').find((o) => o.id === 'llm-error-kinds-over-time')!;
    const buckets = lensColumnsOf(panel).flatMap((c) => c.params?.filters ?? []);
    const kinds = buckets.flatMap((b) => kqlValues(b.input.query).map(([, v]) => v));
    expect(kinds.sort()).toEqual(Object.keys(ERROR_KINDS).sort());
  });
});

describe('fields the dashboards use, as the event writer writes them', () => {
  const source = {
    serviceName: 'dashboards-test',
    dataset: LLM_DEFAULTS.events.elasticsearch.dataset,
  };
  const documents: LlmEventDocument[] = [];
  let sim: UpstreamSimulator;

  /**
   * Real calls through LlmModule against the simulator (a success after a retry, a failure, a
   * circuit-open rejection) inside one request context, turned into documents by the writer's
   * own builders; plus the event of the request that made them.
   */
  beforeAll(async () => {
    sim = await UpstreamSimulator.start();
    const t = await startLlmApp(sim.baseUrl, {
      retry: { ...FAST_POLICIES.retry, maxRetries: 1 },
      breaker: { consecutiveFailures: 2, maxBreakMs: 10_000, maxProbeWaitMs: 0 },
    });
    try {
      const { calls: ended } = recordCalls(t.app);
      sim.script([
        // A durable job's run: the worker calls with the job id and its queue wait.
        { type: 'ok', content: 'a job done' },
        { type: 'error', status: 503 },
        { type: 'ok', content: 'saved by a retry' },
        // Two failures in a row open the breaker: the third call is rejected without an attempt.
        { type: 'error', status: 500, repeat: 2 },
      ]);
      const startedAt = Date.now();
      const context = await runWithLlmContext(
        { userId: 'u-42', featureName: 'support-chat', requestId: 'req-1' },
        async () => {
          await t.llm.chat({ messages: USER }, { jobId: 'job-1', queueWaitMs: 1200 });
          await t.llm.chat({ messages: USER });
          await failureOf(() => t.llm.chat({ messages: USER }));
          await failureOf(() => t.llm.chat({ messages: USER }));
          return currentLlmContext()!;
        },
      );
      expect(ended.map((call) => call.error?.kind ?? 'ok')).toEqual([
        'ok',
        'ok',
        'server_error',
        'circuit_open',
      ]);
      documents.push(...ended.map((call) => buildCallEvent(call, source)));
      documents.push(
        buildRequestEvent(
          {
            context,
            transport: 'http',
            method: 'POST',
            path: '/support/chat',
            statusCode: 503,
            startedAt,
            endedAt: Date.now(),
            error: ended.at(-1)?.error,
          },
          source,
        ),
      );
      // The same calls as a microservice message (RMQ), redelivered and acked.
      documents.push(
        buildRequestEvent(
          {
            context,
            transport: 'rpc',
            statusCode: 200,
            startedAt,
            endedAt: Date.now(),
            rpc: { transport: 'rmq', pattern: 'summarise', redelivered: true, outcome: 'ack' },
          },
          source,
        ),
      );
    } finally {
      await t.close();
    }
  });
  afterAll(() => sim.close());

  it('fill every field a dashboard uses in a successful call, a failed call or a request', () => {
    const written = new Set(documents.flatMap((document) => Object.keys(document)));
    const missing = [...new Set(fieldUses(objects).map((use) => use.field))].filter(
      (f) => !written.has(f),
    );
    expect(missing).toEqual([]);
  });

  it('write the event kinds and outcomes the panels filter on, with the user and feature', () => {
    const pairs = objects.flatMap((o) => kqlQueries(o).flatMap(kqlValues));
    for (const field of ['event.action', 'event.outcome'] as const) {
      const used = new Set(pairs.filter(([f]) => f === field).map(([, v]) => v));
      const written = new Set(documents.map((document) => document[field]));
      expect([field, [...used].filter((value) => !written.has(value))]).toEqual([field, []]);
    }
    expect(documents.map((d) => [d['user.id'], d['llm.feature']])).toEqual(
      documents.map(() => ['u-42', 'support-chat']),
    );
  });
});
