import { metrics } from '@opentelemetry/api';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { join } from 'node:path';
import { prometheusExporter } from '../src/gateway/prometheus-exporter';
import { EventDeliveryReporter } from '../src/llm/observability/events/event-delivery.reporter';
import type { LlmErrorKind } from '../src/llm/resilience/llm.errors';
import type { BreakerState } from '../src/llm/resilience/tracked-breaker';
import { UpstreamSimulator } from '../src/simulator/upstream-simulator';
import { type GatewayTestApp, startGatewayApp } from './support/gateway-test-app';
import { PromText } from './support/prometheus-text';
import { matcherValues, readsOf, ruleExpressions } from './support/promql-selectors';

// The alert rules are only as good as the names they query: a rule on a series the gateway does
// not serve never fires, and promtool cannot tell. This boots the real gateway, scrapes its
// GET /metrics and checks every series, label and label value deploy/prometheus/alerts.yml uses.
const RULES = join(__dirname, '..', 'deploy', 'prometheus', 'alerts.yml');
const KEY = 'sk-alert-rules-test';
// Records: the compiler fails when a kind or state is added to or removed from the unions.
const OUTCOMES: Record<LlmErrorKind | 'success', true> = {
  success: true,
  rate_limited: true,
  quota_exceeded: true,
  server_error: true,
  overloaded: true,
  timeout: true,
  network: true,
  conflict: true,
  invalid_response: true,
  auth: true,
  bad_request: true,
  context_length_exceeded: true,
  content_filtered: true,
  not_found: true,
  circuit_open: true,
  bulkhead_full: true,
  deadline_exceeded: true,
  cancelled: true,
  incomplete_stream: true,
  internal: true,
  shutting_down: true,
};
const BREAKER_STATES: Record<BreakerState, true> = {
  closed: true,
  open: true,
  half_open: true,
  isolated: true,
};
// Labels Prometheus adds itself when it scrapes.
const TARGET_LABELS = ['job', 'instance'];

describe('alert rules against the series GET /metrics serves', () => {
  const reads = ruleExpressions(RULES).map(({ name, expr }) => ({ name, ...readsOf(expr) }));
  let provider: MeterProvider;
  let sim: UpstreamSimulator;
  let gateway: GatewayTestApp;
  let prom: PromText;

  beforeAll(async () => {
    // What the gateway's telemetry bootstrap does before Nest boots.
    provider = new MeterProvider({ readers: [prometheusExporter] });
    metrics.setGlobalMeterProvider(provider);
    sim = await UpstreamSimulator.start({ apiKey: KEY });
    gateway = await startGatewayApp({
      LLM_BASE_URL: sim.baseUrl,
      LLM_API_KEY: KEY,
      LLM_RETRY_BASE_MS: '5',
      LLM_RETRY_MAX_MS: '20',
    });
    const { url } = gateway;
    const post = () =>
      fetch(`${url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-feature-name': 'support-chat' },
        body: JSON.stringify({ messages: [{ role: 'user', content: 'Hello' }] }),
      });
    // One success, one call that fails after its retries.
    expect((await post()).status).toBe(200);
    sim.script([{ type: 'error', status: 500, repeat: 10 }]);
    expect((await post()).status).toBe(502);
    // Drops only happen when Elasticsearch is down: count one through the real reporter.
    new EventDeliveryReporter({ warn: () => undefined }).dropped('buffer_full', 1);
    const res = await fetch(`${url}/metrics`);
    prom = new PromText(await res.text());
  });
  afterAll(async () => {
    await gateway.close();
    await sim.close();
    await provider.shutdown();
  });

  it('reads only series the gateway serves, with labels those series carry', () => {
    const checked = new Set<string>();
    for (const rule of reads) {
      for (const { metric, matchers } of rule.selectors) {
        if (metric === 'up') continue; // written by Prometheus for every target
        const samples = prom.find(metric);
        expect([rule.name, metric, samples.length > 0]).toEqual([rule.name, metric, true]);
        const labels = new Set(samples.flatMap((s) => Object.keys(s.labels)));
        for (const { label } of matchers) {
          expect([rule.name, metric, label, labels.has(label)]).toEqual([
            rule.name,
            metric,
            label,
            true,
          ]);
        }
        checked.add(metric);
      }
    }
    expect([...checked].sort()).toEqual([
      'llm_breaker_state',
      'llm_bulkhead_queued',
      'llm_client_calls_total',
      'llm_events_dropped_total',
    ]);
  });

  it('groups only by labels the gateway or the scrape sets', () => {
    const served = new Set(
      prom.samples
        .filter((s) => /^(llm|gen_ai)_/.test(s.name))
        .flatMap((s) => Object.keys(s.labels)),
    );
    const grouping = new Set(reads.flatMap((rule) => rule.groupingLabels));
    expect(grouping.size).toBeGreaterThan(3);
    for (const label of grouping) {
      expect([label, served.has(label) || TARGET_LABELS.includes(label)]).toEqual([label, true]);
    }
  });

  it('matches outcomes and breaker states by values the module really writes', () => {
    const values = (label: string) =>
      reads.flatMap((rule) =>
        rule.selectors.flatMap((s) => s.matchers.filter((m) => m.label === label)),
      );
    const outcomes = values('llm_outcome').flatMap(matcherValues);
    expect(outcomes).toEqual(expect.arrayContaining(['success', 'bad_request', 'bulkhead_full']));
    for (const outcome of outcomes) expect([outcome, outcome in OUTCOMES]).toEqual([outcome, true]);
    const states = values('llm_breaker_state').flatMap(matcherValues);
    expect(states).toEqual(expect.arrayContaining(['open', 'closed']));
    for (const state of states) expect([state, state in BREAKER_STATES]).toEqual([state, true]);
    // And the gateway writes them as the rules expect: the failed call is a server_error.
    expect(prom.sum('llm_client_calls_total', { llm_outcome: 'server_error' })).toBe(1);
    expect(prom.sum('llm_client_calls_total', { llm_outcome: 'success' })).toBe(1);
  });
});
