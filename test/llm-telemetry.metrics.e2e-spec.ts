import { Logger } from '@nestjs/common';
import { metrics } from '@opentelemetry/api';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { setTimeout as sleep } from 'node:timers/promises';
import { MAX_LABEL_VALUES } from '../src/llm/observability/llm-metric.attributes';
import {
  GEN_AI_DURATION_BUCKETS_S,
  GEN_AI_TOKEN_BUCKETS,
  LLM_METRICS as M,
} from '../src/llm/observability/llm-metric.instruments';
import { type LlmError } from '../src/llm/resilience/llm.errors';
import { UpstreamSimulator } from '../src/simulator/upstream-simulator';
import { failureOf, startLlmApp, USER } from './support/llm-test-app';
import { TestMetricReader } from './support/test-metric-reader';
import { eventually } from './support/eventually';

// Registered before any module boots: LlmMetrics takes its meter when it is created, as the
// gateway's SDK bootstrap does before Nest starts. Counters are cumulative for the whole file, so
// each test uses its own upstream name.
const reader = new TestMetricReader();
const provider = new MeterProvider({ readers: [reader] });
metrics.setGlobalMeterProvider(provider);

const breakerSeries = (upstream: string, state: string) => ({
  'llm.upstream': upstream,
  'gen_ai.request.model': 'gpt-4o-mini',
  'llm.breaker.state': state,
});

describe('LLM metrics through the OpenTelemetry API', () => {
  let sim: UpstreamSimulator;

  beforeAll(async () => {
    sim = await UpstreamSimulator.start();
  });
  beforeEach(() => sim.reset());
  afterAll(async () => {
    await sim.close();
    await provider.shutdown();
  });

  it('reports every breaker as closed and every bulkhead as empty before any call', async () => {
    const t = await startLlmApp(sim.baseUrl, { name: 'fresh' });
    try {
      const snap = await reader.read();
      expect(snap.gauge(M.breakerState, breakerSeries('fresh', 'closed'))).toBe(1);
      for (const state of ['open', 'half_open', 'isolated']) {
        expect(snap.gauge(M.breakerState, breakerSeries('fresh', state))).toBe(0);
      }
      expect(snap.gauge(M.bulkheadInUse, { 'llm.upstream': 'fresh' })).toBe(0);
      expect(snap.gauge(M.bulkheadQueued, { 'llm.upstream': 'fresh' })).toBe(0);
      expect(snap.points(M.calls, { 'llm.upstream': 'fresh' })).toHaveLength(0);
    } finally {
      await t.close();
    }
  });

  it('counts calls, attempts and retries by outcome and times each call, without user ids', async () => {
    const t = await startLlmApp(sim.baseUrl, { name: 'seq' });
    try {
      sim.script([
        {
          type: 'ok',
          model: 'gpt-4o-mini-2024-07-18',
          usage: { prompt_tokens: 12, completion_tokens: 5 },
        },
        { type: 'error', status: 503 },
        { type: 'error', status: 429, headers: { 'retry-after-ms': '5' } },
        { type: 'ok', usage: { prompt_tokens: 30, completion_tokens: 7 } },
        { type: 'error', status: 401 },
      ]);
      const ctx = { userId: 'u-secret-42', featureName: 'faq' };
      await t.llm.chat({ messages: USER }, ctx);
      await t.llm.chat({ messages: USER }, ctx);
      expect((await failureOf(() => t.llm.chat({ messages: USER }))).kind).toBe('auth');

      const snap = await reader.read();
      const seq = { 'llm.upstream': 'seq', 'gen_ai.request.model': 'gpt-4o-mini' };
      const faq = { ...seq, 'llm.feature': 'faq' };
      expect(snap.sum(M.calls, { ...faq, 'llm.outcome': 'success' })).toBe(2);
      expect(snap.sum(M.calls, { ...seq, 'llm.feature': 'unknown', 'llm.outcome': 'auth' })).toBe(
        1,
      );
      expect(snap.sum(M.calls, seq)).toBe(3);
      expect(snap.sum(M.attempts, { ...seq, 'llm.outcome': 'success' })).toBe(2);
      expect(snap.sum(M.attempts, { ...faq, 'llm.outcome': 'overloaded' })).toBe(1);
      expect(snap.sum(M.attempts, { ...faq, 'llm.outcome': 'rate_limited' })).toBe(1);
      expect(snap.sum(M.attempts, { ...seq, 'llm.outcome': 'auth' })).toBe(1);
      expect(snap.sum(M.attempts, seq)).toBe(5);
      const retry = (reason: string, source: string) =>
        snap.sum(M.retries, {
          ...faq,
          'llm.retry.reason': reason,
          'llm.retry.delay_source': source,
        });
      expect(retry('overloaded', 'backoff')).toBe(1);
      expect(retry('rate_limited', 'retry-after-ms')).toBe(1);
      expect(snap.sum(M.retries, seq)).toBe(2);

      const port = Number(new URL(sim.baseUrl).port);
      const durations = snap.histograms(M.operationDuration, seq);
      const failed = durations.filter((p) => p.attributes['error.type'] !== undefined);
      expect(failed).toHaveLength(1);
      expect(failed[0]?.attributes).toEqual({
        'gen_ai.operation.name': 'chat',
        'gen_ai.provider.name': 'openai',
        'server.address': '127.0.0.1',
        'server.port': port,
        ...seq,
        'llm.feature': 'unknown',
        'error.type': 'auth',
      });
      expect(failed[0]?.value.count).toBe(1);
      const succeeded = durations.filter((p) => p.attributes['error.type'] === undefined);
      expect(succeeded.map((p) => p.attributes['gen_ai.response.model']).sort()).toEqual([
        'gpt-4o-mini',
        'gpt-4o-mini-2024-07-18',
      ]);
      expect(succeeded.map((p) => p.value.count)).toEqual([1, 1]);
      for (const point of durations) {
        expect(point.value.buckets.boundaries).toEqual(GEN_AI_DURATION_BUCKETS_S);
        expect(point.value.sum).toBeGreaterThan(0);
        expect(point.value.sum).toBeLessThan(2);
      }
      // The retried call waited at least its 5 ms server hint.
      const retried = succeeded.find(
        (p) => p.attributes['gen_ai.response.model'] === 'gpt-4o-mini',
      );
      expect(retried?.value.sum).toBeGreaterThanOrEqual(0.005);

      const tokens = (type: string) =>
        snap.histograms(M.tokenUsage, { ...faq, 'gen_ai.token.type': type });
      expect(
        tokens('input')
          .map((p) => p.value.sum)
          .sort((a, b) => (a ?? 0) - (b ?? 0)),
      ).toEqual([12, 30]);
      expect(tokens('output').reduce((sum, p) => sum + (p.value.sum ?? 0), 0)).toBe(12);
      expect(tokens('input')[0]?.value.buckets.boundaries).toEqual(GEN_AI_TOKEN_BUCKETS);
      expect(snap.histograms(M.tokenUsage, { ...seq, 'llm.feature': 'unknown' })).toHaveLength(0);

      expect(snap.attributeValues()).not.toContain('u-secret-42');
      const keys = snap.metrics.flatMap((m) =>
        m.dataPoints.flatMap((p) => Object.keys(p.attributes)),
      );
      expect(keys.filter((key) => /user/i.test(key))).toEqual([]);
    } finally {
      await t.close();
    }
  });

  it('counts no token count past 100 million, as a broken upstream may send it, in its token metrics', async () => {
    const t = await startLlmApp(sim.baseUrl, { name: 'huge-usage' });
    try {
      sim.script([
        { type: 'ok', usage: { prompt_tokens: 200_000_000, completion_tokens: 1e12 } },
        { type: 'ok', usage: { prompt_tokens: 9, completion_tokens: 4 } },
      ]);
      const broken = await t.llm.chat({ messages: USER }, { featureName: 'usage' });
      // Passed on as the upstream sent it: only what the module counts is bounded.
      expect(broken.completion.usage?.completion_tokens).toBe(1e12);
      await t.llm.chat({ messages: USER }, { featureName: 'usage' });
      const snap = await reader.read();
      const series = {
        'llm.upstream': 'huge-usage',
        'gen_ai.request.model': 'gpt-4o-mini',
        'llm.feature': 'usage',
      };
      const sum = (type: string) =>
        snap
          .histograms(M.tokenUsage, { ...series, 'gen_ai.token.type': type })
          .reduce((total, p) => total + (p.value.sum ?? 0), 0);
      expect([sum('input'), sum('output')]).toEqual([9, 4]);
    } finally {
      await t.close();
    }
  });

  it('records the time a call waited for an open circuit (breaker.maxProbeWaitMs)', async () => {
    const t = await startLlmApp(sim.baseUrl, {
      name: 'brkwait',
      retry: { maxRetries: 0 },
      breaker: { consecutiveFailures: 2, maxBreakMs: 150, maxProbeWaitMs: 1000 },
    });
    try {
      sim.script([{ type: 'error', status: 500, repeat: 2 }, { type: 'ok' }]);
      await failureOf(() => t.llm.chat({ messages: USER }));
      await failureOf(() => t.llm.chat({ messages: USER }));
      const before = (await reader.read()).histograms(M.breakerWait, { 'llm.upstream': 'brkwait' });
      expect(before).toHaveLength(0);
      await t.llm.chat({ messages: USER });
      const [waited] = (await reader.read()).histograms(M.breakerWait, {
        'llm.upstream': 'brkwait',
      });
      const value = waited?.value as { count: number; sum: number };
      expect(value.count).toBe(1);
      expect(value.sum).toBeGreaterThan(0.1);
      expect(value.sum).toBeLessThan(0.5);
    } finally {
      await t.close();
    }
  });

  it('shows the breaker open, then half-open, then closed; a rejected call makes no attempt', async () => {
    const t = await startLlmApp(sim.baseUrl, {
      name: 'brk',
      retry: { maxRetries: 0 },
      breaker: { consecutiveFailures: 2, maxBreakMs: 300, maxProbeWaitMs: 0 },
    });
    try {
      const state = async (s: string) =>
        (await reader.read()).gauge(M.breakerState, breakerSeries('brk', s));
      expect(await state('closed')).toBe(1);
      sim.script([{ type: 'error', status: 500, repeat: 2 }, { type: 'ok' }]);
      await failureOf(() => t.llm.chat({ messages: USER }));
      await failureOf(() => t.llm.chat({ messages: USER }));
      const rejected = await failureOf<LlmError>(() => t.llm.chat({ messages: USER }));
      expect(rejected.kind).toBe('circuit_open');

      const open = await reader.read();
      expect(open.gauge(M.breakerState, breakerSeries('brk', 'open'))).toBe(1);
      expect(open.gauge(M.breakerState, breakerSeries('brk', 'closed'))).toBe(0);
      expect(open.gauge(M.breakerState, breakerSeries('brk', 'half_open'))).toBe(0);
      const brk = { 'llm.upstream': 'brk' };
      expect(open.sum(M.calls, { ...brk, 'llm.outcome': 'server_error' })).toBe(2);
      expect(open.sum(M.calls, { ...brk, 'llm.outcome': 'circuit_open' })).toBe(1);
      expect(open.sum(M.attempts, brk)).toBe(2);
      expect(
        open.histograms(M.operationDuration, { ...brk, 'error.type': 'circuit_open' }),
      ).toHaveLength(1);

      await sleep(350);
      expect(await state('half_open')).toBe(1);
      expect(await state('open')).toBe(0);
      await t.llm.chat({ messages: USER });
      expect(await state('closed')).toBe(1);
      expect(await state('half_open')).toBe(0);
    } finally {
      await t.close();
    }
  });

  it('shows bulkhead slots in use and queued while calls hang, and frees them', async () => {
    const t = await startLlmApp(sim.baseUrl, {
      name: 'bh',
      retry: { maxRetries: 0 },
      bulkhead: { maxConcurrent: 1, maxQueue: 2 },
    });
    try {
      sim.script([{ type: 'hang', repeat: 2 }]);
      const abort = new AbortController();
      const calls = [1, 2].map(() =>
        failureOf<LlmError>(() => t.llm.chat({ messages: USER }, { signal: abort.signal })),
      );
      await eventually(() => Promise.resolve(expect(sim.requests).toHaveLength(1)));
      const busy = await reader.read();
      expect(busy.gauge(M.bulkheadInUse, { 'llm.upstream': 'bh' })).toBe(1);
      expect(busy.gauge(M.bulkheadQueued, { 'llm.upstream': 'bh' })).toBe(1);

      abort.abort();
      expect((await Promise.all(calls)).map((e) => e.kind)).toEqual(['cancelled', 'cancelled']);
      await eventually(async () => {
        const idle = await reader.read();
        expect(idle.gauge(M.bulkheadInUse, { 'llm.upstream': 'bh' })).toBe(0);
        expect(idle.gauge(M.bulkheadQueued, { 'llm.upstream': 'bh' })).toBe(0);
      });
      expect(
        (await reader.read()).sum(M.calls, { 'llm.upstream': 'bh', 'llm.outcome': 'cancelled' }),
      ).toBe(2);
    } finally {
      await t.close();
    }
  });

  it(`keeps at most ${MAX_LABEL_VALUES} feature names as labels and counts the rest as other, saying so once`, async () => {
    const t = await startLlmApp(sim.baseUrl, { name: 'many' });
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    try {
      for (let i = 0; i < MAX_LABEL_VALUES + 3; i++) {
        await t.llm.chat({ messages: USER }, { featureName: `feature-${i}` });
      }
      // Once, when the first value was folded: dashboards show only 'other' for new features.
      const folded = warn.mock.calls.filter(([m]) => String(m).includes('distinct values'));
      expect(folded).toHaveLength(1);
      expect(String(folded[0]![0])).toContain(
        `Metric label 'llm.feature' has its ${MAX_LABEL_VALUES} distinct values`,
      );
      const snap = await reader.read();
      const many = { 'llm.upstream': 'many' };
      expect(snap.points(M.calls, many)).toHaveLength(MAX_LABEL_VALUES + 1);
      expect(snap.sum(M.calls, { ...many, 'llm.feature': 'other' })).toBe(3);
      expect(snap.sum(M.calls, { ...many, 'llm.feature': `feature-${MAX_LABEL_VALUES - 1}` })).toBe(
        1,
      );
    } finally {
      warn.mockRestore();
      await t.close();
    }
  });
});
