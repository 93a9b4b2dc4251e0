import { metrics } from '@opentelemetry/api';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { prometheusExporter } from '../src/gateway/prometheus-exporter';
import { UpstreamSimulator } from '../src/simulator/upstream-simulator';
import { type GatewayTestApp, startGatewayApp } from './support/gateway-test-app';
import { type PrometheusServer, startPrometheus } from './support/prometheus-server';
import { PromText } from './support/prometheus-text';
import { readsOf } from './support/promql-selectors';

// The Grafana dashboard is only as good as its queries: a panel on a series the gateway does
// not serve stays empty, and Grafana cannot tell. Like the Kibana test does for fields, this
// boots the real gateway, drives calls that produce every kind of series, then checks every
// expression of deploy/grafana/dashboards/llm-trends.json twice: statically against the scraped
// GET /metrics, and live, evaluated by a real Prometheus scraping that gateway.
const GRAFANA = join(__dirname, '..', 'deploy', 'grafana');
const KEY = 'sk-grafana-test';

interface Panel {
  type: string;
  title: string;
  targets?: { expr: string; refId: string }[];
}
interface Dashboard {
  uid: string;
  panels: Panel[];
  templating: { list: { name: string; type: string; query: string }[] };
}
const dashboard = JSON.parse(
  readFileSync(join(GRAFANA, 'dashboards', 'llm-trends.json'), 'utf8'),
) as Dashboard;
const queries = dashboard.panels.flatMap((panel) =>
  (panel.targets ?? []).map((t) => ({ panel: `${panel.title} (${t.refId})`, expr: t.expr })),
);
/** What Grafana substitutes before it sends a query: all upstreams, a rate window. */
const asSent = (expr: string) =>
  expr.replaceAll('$__rate_interval', '10s').replaceAll('$upstream', '.*');

describe('Grafana dashboard (deploy/grafana/dashboards/llm-trends.json)', () => {
  let provider: MeterProvider;
  let sim: UpstreamSimulator;
  let gateway: GatewayTestApp;
  let prom: PromText;
  let prometheus: PrometheusServer | undefined;

  beforeAll(async () => {
    provider = new MeterProvider({ readers: [prometheusExporter] });
    metrics.setGlobalMeterProvider(provider);
    sim = await UpstreamSimulator.start({ apiKey: KEY });
    gateway = await startGatewayApp({
      LLM_BASE_URL: sim.baseUrl,
      LLM_API_KEY: KEY,
      LLM_MAX_RETRIES: '1',
      LLM_RETRY_BASE_MS: '5',
      LLM_RETRY_MAX_MS: '20',
      // Budgets, so that the limiter's series exist: a call asking for more tokens than the
      // whole minute holds is rejected at once (too_large).
      LLM_RPM: '6000',
      LLM_TPM: '5000',
    });
    const post = async (body: object = {}) => {
      const res = await fetch(`${gateway.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-feature-name': 'support-chat' },
        body: JSON.stringify({ messages: [{ role: 'user', content: 'Hello' }], ...body }),
      });
      await res.arrayBuffer();
      return res.status;
    };
    expect(await post()).toBe(200);
    // A 429 with a hint, retried and then answered: a retry, an upstream rate_limited attempt.
    sim.script([{ type: 'error', status: 429, headers: { 'retry-after-ms': '10' } }]);
    expect(await post()).toBe(200);
    // A call that fails after its retry: server_error.
    sim.script([{ type: 'error', status: 500, repeat: 2 }]);
    expect(await post()).toBe(502);
    // Rejected by our own limiter, never sent.
    expect(await post({ max_tokens: 100_000 })).toBe(429);
    prom = new PromText(await (await fetch(`${gateway.url}/metrics`)).text());
  });

  afterAll(async () => {
    await prometheus?.stop();
    await gateway.close();
    await sim.close();
    await provider.shutdown();
  });

  it('is the output of its generator (llm-trends.dashboard.mjs)', async () => {
    const script = join(GRAFANA, 'build-dashboards.mjs');
    await expect(promisify(execFile)(process.execPath, [script, '--check'])).resolves.toBeDefined();
    expect(dashboard.uid).toBe('llm-trends');
    expect(queries.length).toBeGreaterThan(15);
  });

  it('answers the seed trend questions: error kinds, us or them, limits, breakers, latency, tokens', () => {
    const titles = dashboard.panels.map((p) => p.title.toLowerCase()).join('\n');
    for (const topic of [
      'error kind',
      'us or them',
      'attempts per call',
      'limiter wait',
      'rate in force',
      'breaker state',
      'latency',
      'tokens',
      '429',
    ]) {
      expect([topic, titles.includes(topic)]).toEqual([topic, true]);
    }
  });

  it('reads only series, labels and label values the gateway serves', () => {
    // The upstream picker: label_values(metric, label) must list the label of a served series.
    for (const variable of dashboard.templating.list.filter((v) => v.type === 'query')) {
      const [, metric = '', label = ''] =
        /^label_values\((\w+),\s*(\w+)\)$/.exec(variable.query) ?? [];
      expect([variable.name, prom.find(metric).some((s) => label in s.labels)]).toEqual([
        variable.name,
        true,
      ]);
    }
    const served = new Set(prom.samples.map((s) => s.name));
    const checked = new Set<string>();
    for (const { panel, expr } of queries) {
      const reads = readsOf(expr);
      for (const { metric, matchers } of reads.selectors) {
        expect([panel, metric, served.has(metric)]).toEqual([panel, metric, true]);
        const labels = new Set(prom.find(metric).flatMap((s) => Object.keys(s.labels)));
        for (const { label, op, value } of matchers) {
          expect([panel, metric, label, labels.has(label)]).toEqual([panel, metric, label, true]);
          // Exact values must be ones the gateway writes (regex ones may name kinds not seen yet).
          if (op !== '=') continue;
          expect([
            panel,
            `${label}="${value}"`,
            prom.find(metric, { [label]: value }).length > 0,
          ]).toEqual([panel, `${label}="${value}"`, true]);
        }
        checked.add(metric);
      }
      for (const label of reads.groupingLabels.filter((l) => l !== 'le')) {
        const anywhere = prom.samples.some((s) => label in s.labels);
        expect([panel, label, anywhere]).toEqual([panel, label, true]);
      }
    }
    expect([...checked].sort()).toEqual([
      'gen_ai_client_operation_duration_bucket',
      'gen_ai_client_token_usage_sum',
      'llm_breaker_state',
      'llm_bulkhead_in_use',
      'llm_bulkhead_queued',
      'llm_client_attempts_total',
      'llm_client_calls_total',
      'llm_client_retries_total',
      'llm_limiter_effective_rate',
      'llm_limiter_rejections_total',
      'llm_limiter_wait_bucket',
      'llm_limiter_waiting',
    ]);
  });

  it('parses in Prometheus, and every panel query returns series from the running gateway', async () => {
    prometheus = await startPrometheus({ target: new URL(gateway.url).host });
    // Three scrapes at least, so that rates over 10 s have two samples.
    for (;;) {
      const [scrapes] = await prometheus.query('count_over_time(up{job="llm-gateway"}[1m])');
      if (Number(scrapes?.value[1] ?? 0) >= 3) break;
      await sleep(250);
    }
    const empty: string[] = [];
    for (const { panel, expr } of queries) {
      // A parse error rejects with Prometheus' message, naming the panel.
      const result = await prometheus.query(asSent(expr)).catch((error: Error) => {
        throw new Error(`${panel}: ${error.message}`);
      });
      if (result.length === 0) empty.push(panel);
    }
    expect(empty).toEqual([]);
  }, 30_000);
});
