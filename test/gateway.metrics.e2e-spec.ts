import { Agent, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { metrics } from '@opentelemetry/api';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { prometheusExporter } from '../src/gateway/prometheus-exporter';
import { GEN_AI_DURATION_BUCKETS_S } from '../src/llm/observability/llm-metric.instruments';
import { UpstreamSimulator } from '../src/simulator/upstream-simulator';
import { type GatewayTestApp, startGatewayApp } from './support/gateway-test-app';
import { PromText } from './support/prometheus-text';

const MESSAGES = [{ role: 'user', content: 'Hello' }];
const KEY = 'sk-gateway-metrics-test';

describe('gateway GET /metrics', () => {
  let sim: UpstreamSimulator;
  let gateway: GatewayTestApp;
  let url: string;

  const boot = async () => {
    gateway = await startGatewayApp({
      LLM_BASE_URL: sim.baseUrl,
      LLM_API_KEY: KEY,
      LLM_RETRY_BASE_MS: '5',
      LLM_RETRY_MAX_MS: '20',
      LLM_BREAKER_FAILURES: '2',
      // The classic breaker: the refused call below fails at once instead of waiting for the probe.
      LLM_BREAKER_MAX_WAIT_MS: '0',
    });
    url = gateway.url;
  };
  const post = (headers: Record<string, string> = {}) =>
    fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ messages: MESSAGES }),
    });
  const scrape = async () => {
    const res = await fetch(`${url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    return new PromText(await res.text());
  };

  beforeEach(async () => {
    sim = await UpstreamSimulator.start({ apiKey: KEY });
  });
  afterEach(async () => {
    await gateway.close();
    await sim.close();
  });

  // Runs first, before the file registers a MeterProvider: a target that reads nothing must look
  // down to Prometheus, not healthy and empty.
  it('answers 503 with what to do while no MeterProvider reads the exporter', async () => {
    await boot();
    const res = await fetch(`${url}/metrics`);
    expect(res.status).toBe(503);
    expect(await res.text()).toMatch(/Register prometheusExporter .* before the gateway boots/);
  });

  describe('with the exporter registered in a MeterProvider', () => {
    let provider: MeterProvider;

    beforeAll(() => {
      // What the gateway's telemetry bootstrap does before Nest boots.
      provider = new MeterProvider({ readers: [prometheusExporter] });
      metrics.setGlobalMeterProvider(provider);
    });
    afterAll(() => provider.shutdown());

    it('serves the breaker and bulkhead gauges before any call', async () => {
      await boot();
      const prom = await scrape();
      const breaker = { llm_upstream: 'primary', gen_ai_request_model: 'gpt-4o-mini' };
      expect(prom.types.get('llm_breaker_state')).toBe('gauge');
      expect(prom.value('llm_breaker_state', { ...breaker, llm_breaker_state: 'closed' })).toBe(1);
      expect(prom.value('llm_breaker_state', { ...breaker, llm_breaker_state: 'open' })).toBe(0);
      expect(prom.value('llm_bulkhead_in_use', { llm_upstream: 'primary' })).toBe(0);
      expect(prom.value('llm_bulkhead_queued', { llm_upstream: 'primary' })).toBe(0);
    });

    it('counts a known sequence of requests by outcome, with feature labels and no user ids', async () => {
      await boot();
      const who = { 'x-user-id': 'u-gw-secret-7', 'x-feature-name': 'support-chat' };
      sim.script([
        { type: 'ok', usage: { prompt_tokens: 11, completion_tokens: 4 } },
        { type: 'error', status: 503 },
        { type: 'ok', usage: { prompt_tokens: 20, completion_tokens: 6 } },
        { type: 'error', status: 401 },
        // Two 503s in a row open the breaker (LLM_BREAKER_FAILURES=2); the third attempt is refused.
        { type: 'error', status: 503, repeat: 2 },
      ]);
      expect((await post(who)).status).toBe(200);
      expect((await post(who)).status).toBe(200);
      expect((await post()).status).toBe(401);
      const rejected = await post(who);
      expect(rejected.status).toBe(503);
      expect(((await rejected.json()) as { error: { code: string } }).error.code).toBe(
        'circuit_open',
      );

      const prom = await scrape();
      const base = { llm_upstream: 'primary', gen_ai_request_model: 'gpt-4o-mini' };
      const chat = { ...base, llm_feature: 'support-chat' };
      expect(prom.types.get('llm_client_calls_total')).toBe('counter');
      expect(prom.value('llm_client_calls_total', { ...chat, llm_outcome: 'success' })).toBe(2);
      expect(prom.value('llm_client_calls_total', { ...chat, llm_outcome: 'circuit_open' })).toBe(
        1,
      );
      expect(
        prom.value('llm_client_calls_total', {
          ...base,
          llm_feature: 'unknown',
          llm_outcome: 'auth',
        }),
      ).toBe(1);
      expect(prom.value('llm_client_attempts_total', { ...chat, llm_outcome: 'success' })).toBe(2);
      expect(prom.value('llm_client_attempts_total', { ...chat, llm_outcome: 'overloaded' })).toBe(
        3,
      );
      expect(prom.sum('llm_client_attempts_total', { ...base, llm_outcome: 'auth' })).toBe(1);
      expect(
        prom.value('llm_client_retries_total', {
          ...chat,
          llm_retry_reason: 'overloaded',
          llm_retry_delay_source: 'backoff',
        }),
      ).toBe(3);

      // The duration histogram: no `_seconds` suffix from exporter-prometheus 0.301 (the unit is
      // only in the `# UNIT` line), the GenAI bucket boundaries, error.type only on failures.
      expect(prom.types.get('gen_ai_client_operation_duration')).toBe('histogram');
      expect(prom.text).toContain('# UNIT gen_ai_client_operation_duration s');
      const ok = { ...chat, gen_ai_operation_name: 'chat', gen_ai_provider_name: 'openai' };
      const okCount = prom
        .find('gen_ai_client_operation_duration_count', ok)
        .filter((s) => s.labels.error_type === undefined);
      expect(okCount.map((s) => s.value)).toEqual([2]);
      expect(okCount[0]?.labels).toMatchObject({
        server_address: '127.0.0.1',
        server_port: new URL(sim.baseUrl).port,
        gen_ai_response_model: 'gpt-4o-mini',
      });
      for (const kind of ['auth', 'circuit_open']) {
        expect(prom.sum('gen_ai_client_operation_duration_count', { error_type: kind })).toBe(1);
      }
      const buckets = prom
        .find('gen_ai_client_operation_duration_bucket', { ...base, error_type: 'auth' })
        .map((s) => s.labels.le);
      expect(buckets).toEqual([...GEN_AI_DURATION_BUCKETS_S.map(String), '+Inf']);

      const tokens = (type: string) =>
        prom.value('gen_ai_client_token_usage_sum', { ...chat, gen_ai_token_type: type });
      expect(tokens('input')).toBe(31);
      expect(tokens('output')).toBe(10);
      expect(
        prom.sum('gen_ai_client_token_usage_count', { ...chat, gen_ai_token_type: 'input' }),
      ).toBe(2);

      expect(prom.value('llm_breaker_state', { ...base, llm_breaker_state: 'open' })).toBe(1);
      expect(prom.value('llm_breaker_state', { ...base, llm_breaker_state: 'closed' })).toBe(0);
      expect(prom.text).not.toContain('u-gw-secret-7');
      const labelNames = prom.samples.flatMap((sample) => Object.keys(sample.labels));
      expect(labelNames.filter((name) => /user/i.test(name))).toEqual([]);
    });

    it('a client that hangs up mid-call aborts the upstream request at once and counts it cancelled', async () => {
      // An upstream that never answers and notes when the gateway gives its request up.
      let upstreamClosed!: () => void;
      const closed = new Promise<void>((resolve) => (upstreamClosed = resolve));
      let arrived = 0;
      const upstream = createServer((_req, res) => {
        arrived += 1;
        res.on('close', () => {
          if (!res.writableFinished) upstreamClosed();
        });
      });
      await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
      const { port } = upstream.address() as AddressInfo;
      try {
        gateway = await startGatewayApp({
          LLM_BASE_URL: `http://127.0.0.1:${port}/v1`,
          LLM_API_KEY: KEY,
          // Far away: only the client's hang-up can end the call.
          LLM_TOTAL_TIMEOUT_MS: '60000',
          LLM_ATTEMPT_TIMEOUT_MS: '60000',
        });
        url = gateway.url;
        const chat = { llm_upstream: 'primary', gen_ai_request_model: 'gpt-4o-mini' };
        // The provider is shared by this file's tests: counted from here.
        const before = await scrape();
        const leaving = new AbortController();
        const call = fetch(`${url}/v1/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ messages: MESSAGES }),
          signal: leaving.signal,
        }).catch(() => undefined);
        while (arrived === 0) await sleep(5);
        const left = Date.now();
        leaving.abort();
        await call;
        await closed;
        // At once: not at a deadline or timeout (a minute away).
        expect(Date.now() - left).toBeLessThan(2000);
        expect(arrived).toBe(1);
        await sleep(20);
        const prom = await scrape();
        const cancelled = { ...chat, llm_outcome: 'cancelled' };
        expect(prom.value('llm_client_calls_total', cancelled)).toBe(
          (before.value('llm_client_calls_total', cancelled) ?? 0) + 1,
        );
        expect(prom.sum('llm_client_calls_total')).toBe(before.sum('llm_client_calls_total') + 1);
        expect(prom.value('llm_bulkhead_in_use', { llm_upstream: 'primary' })).toBe(0);
      } finally {
        upstream.closeAllConnections();
        await new Promise((resolve) => upstream.close(resolve));
      }
    });

    it('a client that hangs up after its answer cancels nothing', async () => {
      await boot();
      const before = await scrape();
      // One connection, closed by the client once the answer is read.
      const agent = new Agent({ keepAlive: true });
      const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = request(
          `${url}/v1/chat/completions`,
          { method: 'POST', agent, headers: { 'content-type': 'application/json' } },
          (res) => {
            let body = '';
            res.setEncoding('utf8');
            res.on('data', (chunk: string) => (body += chunk));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
          },
        );
        req.on('error', reject);
        req.end(JSON.stringify({ messages: MESSAGES }));
      });
      expect(answer.status).toBe(200);
      agent.destroy();
      await sleep(50);
      const prom = await scrape();
      const outcomes = prom
        .find('llm_client_calls_total')
        .filter((s) => s.value !== before.value('llm_client_calls_total', s.labels))
        .map((s) => s.labels.llm_outcome);
      expect(outcomes).toEqual(['success']);
    });
  });
});
