import { type Attributes, context, metrics, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import {
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
  TracerProvider,
} from '@opentelemetry/sdk-trace';
import { type CallRecord } from '../src/llm/call/call-record';
import { buildCallEvent } from '../src/llm/observability/events/llm-call.event';
import { buildComponentTemplate } from '../src/llm/observability/events/elasticsearch-index.templates';
import {
  LLM_EVENT_FIELD_ALIASES,
  LLM_EVENT_FIELDS,
  type LlmEventDocument,
  type LlmEventField,
} from '../src/llm/observability/events/llm-event.fields';
import { type ResolvedElasticsearchEvents } from '../src/llm/observability/events/llm-events.options';
import { LLM_METRICS } from '../src/llm/observability/llm-metric.instruments';
import * as S from '../src/llm/observability/llm.semconv';
import { LlmTelemetry } from '../src/llm/observability/llm-telemetry';
import { LlmTracing } from '../src/llm/observability/llm-tracing';
import { UpstreamSimulator } from '../src/simulator/upstream-simulator';
import { type LlmTestApp, startLlmApp, USER } from './support/llm-test-app';
import { type MetricsSnapshot, TestMetricReader } from './support/test-metric-reader';

// Both providers are registered before the module boots: it takes its tracer and meter then.
const exporter = new InMemorySpanExporter();
const tracerProvider = new TracerProvider({
  spanProcessors: [new SimpleSpanProcessor({ exporter })],
});
const contextManager = new AsyncLocalStorageContextManager();
const reader = new TestMetricReader();
const meterProvider = new MeterProvider({ readers: [reader] });

/** Every name in the table. */
const TABLE = new Set<string>(Object.values(S).filter((v) => typeof v === 'string'));

/** Event fields only ECS names (no span or metric records them). */
const ECS_ONLY = [
  '@timestamp',
  'event.kind',
  'event.category',
  'event.type',
  'event.dataset',
  'event.action',
  'event.outcome',
  'event.duration',
  'event.start',
  'event.end',
  'event.id',
  'error.code',
  'error.message',
  'trace.id',
  'span.id',
];

/** The facts every signal records about whom a call went to, for what. */
const SHARED = [
  S.ATTR_GEN_AI_PROVIDER_NAME,
  S.ATTR_LLM_UPSTREAM,
  S.ATTR_SERVER_ADDRESS,
  S.ATTR_SERVER_PORT,
  S.ATTR_GEN_AI_REQUEST_MODEL,
  S.ATTR_LLM_FEATURE,
];

const pick = (attributes: Attributes | LlmEventDocument, keys: string[]) =>
  Object.fromEntries(keys.map((key) => [key, (attributes as Attributes)[key]]));

describe('one vocabulary for spans, metrics and events', () => {
  let sim: UpstreamSimulator;
  let t: LlmTestApp;
  let spans: ReadableSpan[];
  let callSpan: ReadableSpan;
  let snapshot: MetricsSnapshot;
  let event: LlmEventDocument;

  /**
   * One call to an IPv6 upstream (its URL is `http://[::1]:port/v1`) that retries, moves along
   * its fallback chain and succeeds: it records a retry reason, a fallback reason and the breaker
   * state in all three signals.
   */
  beforeAll(async () => {
    contextManager.enable();
    context.setGlobalContextManager(contextManager);
    trace.setGlobalTracerProvider(tracerProvider);
    metrics.setGlobalMeterProvider(meterProvider);
    sim = await UpstreamSimulator.start({ host: '::1' });
    t = await startLlmApp(sim.baseUrl, {
      name: 'v6',
      provider: 'azure.ai.openai',
      defaultModel: 'gpt-4o',
      retry: { maxRetries: 1, baseDelayMs: 1, maxDelayMs: 2 },
      fallbacks: { 'gpt-4o': [{ model: 'gpt-4o-mini' }] },
    });
    const ended: CallRecord[] = [];
    t.app.get(LlmTelemetry).register({ onCallEnd: (call) => ended.push(call) });
    sim.script([
      { type: 'error', status: 500, repeat: 2 },
      { type: 'ok', content: 'from the fallback' },
    ]);
    await t.llm.chat({ messages: USER }, { featureName: 'vocabulary', userId: 'u-7' });

    const call = ended[0]!;
    expect(call.fallbacks).toHaveLength(1);
    expect(call.retries).toHaveLength(1);
    spans = exporter.getFinishedSpans();
    callSpan = spans.find((span) => span.name === 'chat gpt-4o')!;
    snapshot = await reader.read();
    const source = { serviceName: 'vocabulary-test', dataset: 'llm.calls' };
    event = buildCallEvent(call, source, t.app.get(LlmTracing).spanContext(call));
  });
  afterAll(async () => {
    await t.close();
    await sim.close();
    await meterProvider.shutdown();
    await tracerProvider.shutdown();
    contextManager.disable();
  });

  it('records on spans, span events and metrics only names from the table', () => {
    const spanKeys = spans.flatMap((span) => [
      ...Object.keys(span.attributes),
      ...span.events.flatMap((e) => [e.name, ...Object.keys(e.attributes ?? {})]),
    ]);
    const ours = new Set<string>(Object.values(LLM_METRICS));
    const metricKeys = snapshot.metrics
      .filter((metric) => ours.has(metric.descriptor.name))
      .flatMap((metric) => [
        metric.descriptor.name,
        ...metric.dataPoints.flatMap((point) => Object.keys(point.attributes)),
      ]);
    expect(spanKeys.length).toBeGreaterThan(40);
    expect(metricKeys.length).toBeGreaterThan(40);
    expect([...new Set([...spanKeys, ...metricKeys])].filter((key) => !TABLE.has(key))).toEqual([]);
  });

  it('takes every event field from the table, except the event-only ECS ones', () => {
    expect(Object.keys(LLM_EVENT_FIELDS).filter((field) => !TABLE.has(field))).toEqual(ECS_ONLY);
    expect(
      Object.keys(event)
        .filter((field) => !TABLE.has(field))
        .sort(),
    ).toEqual(ECS_ONLY.filter((field) => field in event).sort());
  });

  it('names and values provider, upstream, server, model and feature alike in all three', () => {
    const operation = snapshot.histograms(LLM_METRICS.operationDuration, {
      [S.ATTR_LLM_UPSTREAM]: 'v6',
    });
    expect(operation).toHaveLength(1);
    const expected = {
      [S.ATTR_GEN_AI_PROVIDER_NAME]: 'azure.ai.openai',
      [S.ATTR_LLM_UPSTREAM]: 'v6',
      // Unbracketed, though the URL brackets it.
      [S.ATTR_SERVER_ADDRESS]: '::1',
      [S.ATTR_SERVER_PORT]: sim.port,
      // The model finally called, after the fallback.
      [S.ATTR_GEN_AI_REQUEST_MODEL]: 'gpt-4o-mini',
      [S.ATTR_LLM_FEATURE]: 'vocabulary',
    };
    expect(pick(callSpan.attributes, SHARED)).toEqual(expected);
    expect(pick(event, SHARED)).toEqual(expected);
    expect(pick(operation[0]!.attributes, SHARED)).toEqual(expected);
  });

  it('names the retry reason, the fallback reason and the breaker state alike', () => {
    const spanEvent = (name: string) => callSpan.events.find((e) => e.name === name)?.attributes;
    expect(spanEvent(S.EVENT_LLM_RETRY_SCHEDULED)?.[S.ATTR_LLM_RETRY_REASON]).toBe('server_error');
    expect(snapshot.sum(LLM_METRICS.retries, { [S.ATTR_LLM_RETRY_REASON]: 'server_error' })).toBe(
      1,
    );
    expect(event[S.ATTR_LLM_RETRY_REASON]).toEqual(['server_error']);

    expect(spanEvent(S.EVENT_LLM_FALLBACK)?.[S.ATTR_LLM_FALLBACK_REASON]).toBe('server_error');
    expect(event[S.ATTR_LLM_FALLBACK_REASON]).toEqual(['server_error']);

    const attempts = spans.filter((span) => span.name.startsWith('chat gpt-4o-mini attempt'));
    expect(attempts.map((span) => span.attributes[S.ATTR_LLM_BREAKER_STATE])).toEqual(['closed']);
    expect(event[S.ATTR_LLM_BREAKER_STATE]).toBe('closed');
    const gauge = {
      [S.ATTR_LLM_UPSTREAM]: 'v6',
      [S.ATTR_GEN_AI_REQUEST_MODEL]: 'gpt-4o-mini',
      [S.ATTR_LLM_BREAKER_STATE]: 'closed',
    };
    expect(snapshot.gauge(LLM_METRICS.breakerState, gauge)).toBe(1);
  });

  it('maps the event fields of earlier releases as aliases of their new names', () => {
    const options = { dataset: 'llm.calls' } as ResolvedElasticsearchEvents;
    const mappings = buildComponentTemplate(options).template?.mappings;
    const mappingOf = (field: string): unknown =>
      field
        .split('.')
        .reduce<unknown>(
          (node, part) => (node as { properties?: Record<string, unknown> }).properties?.[part],
          mappings,
        );
    expect(Object.keys(LLM_EVENT_FIELD_ALIASES)).toEqual([
      'llm.breaker_state',
      'llm.breaker_wait_ms',
      'llm.retry_reasons',
      'llm.fallback_reasons',
    ]);
    for (const [old, current] of Object.entries(LLM_EVENT_FIELD_ALIASES) as [
      string,
      LlmEventField,
    ][]) {
      expect([old, mappingOf(old)]).toEqual([old, { type: 'alias', path: current }]);
      expect(mappingOf(current)).toMatchObject({ type: LLM_EVENT_FIELDS[current] });
      expect(event[current]).toBeDefined();
    }
  });
});
