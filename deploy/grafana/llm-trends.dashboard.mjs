// The "LLM trends" Grafana dashboard, built with Grafana's foundation SDK (dashboards as code).
// It answers the seed's trend questions from the gateway's Prometheus metrics: which error kinds
// are rising, "us or them", limits or outage, retries, breakers, latency and tokens.
// build-dashboards.mjs writes it to dashboards/llm-trends.json; edit here, then run that.
import {
  DashboardBuilder,
  DashboardCursorSync,
  DatasourceVariableBuilder,
  MappingType,
  QueryVariableBuilder,
  RowBuilder,
  ThresholdsConfigBuilder,
  ThresholdsMode,
  VariableRefresh,
} from '@grafana/grafana-foundation-sdk/dashboard';
import { DataqueryBuilder } from '@grafana/grafana-foundation-sdk/prometheus';
import { PanelBuilder as StatPanel } from '@grafana/grafana-foundation-sdk/stat';
import { PanelBuilder as StateTimelinePanel } from '@grafana/grafana-foundation-sdk/statetimeline';
import { PanelBuilder as TimeSeriesPanel } from '@grafana/grafana-foundation-sdk/timeseries';

const DATASOURCE = { type: 'prometheus', uid: '${datasource}' };
// Every selector is narrowed to the upstreams picked at the top of the dashboard.
const U = 'llm_upstream=~"$upstream"';
const RATE = '$__rate_interval';
// The caller's own mistakes, left out of the error ratio as in deploy/prometheus/alerts.yml.
const CALLER_ERRORS = 'bad_request|context_length_exceeded|content_filtered|cancelled';
// Failures raised by this service's own protections, before or instead of asking the upstream.
const OUR_KINDS = 'circuit_open|bulkhead_full|deadline_exceeded';
/**
 * Attempt outcomes that are not the upstream's answer: the caller hung up ("stop generating"),
 * or this replica was shutting down. Left out of "returned by the upstream".
 */
const NOT_ANSWERED = 'success|cancelled|shutting_down';

/** One PromQL target; refIds follow the order of the targets in a panel. */
const query = (expr, legend, refId = 'A') =>
  new DataqueryBuilder().datasource(DATASOURCE).expr(expr).legendFormat(legend).refId(refId);

/** A time series panel with its targets (`[expr, legend]` pairs). */
const timeseries = (title, description, unit, targets) => {
  const panel = new TimeSeriesPanel()
    .title(title)
    .description(description)
    .datasource(DATASOURCE)
    .unit(unit)
    .min(0)
    .fillOpacity(10)
    .span(12)
    .height(8);
  targets.forEach(([expr, legend], i) => panel.withTarget(query(expr, legend, refIdOf(i))));
  return panel;
};
const refIdOf = (i) => String.fromCharCode(65 + i);
const quantiles = (bucket, by = '') =>
  [0.5, 0.95, 0.99].map((q) => [
    `histogram_quantile(${q}, sum by (le${by}) (rate(${bucket}{${U}}[${RATE}])))`,
    `p${q * 100}`,
  ]);

const errorRatio = new StatPanel()
  .title('Failed calls, last 5 minutes')
  .description(
    'Share of logical calls (after retries) that failed, as LlmErrorRatioHigh counts it: the ' +
      "caller's own errors (bad request, context length, content filter, cancelled) left out. " +
      'Baseline about 2 %; above 10 % the warning (SMS), above 20 % the page (phone call).',
  )
  .datasource(DATASOURCE)
  .unit('percentunit')
  .decimals(1)
  .span(6)
  .height(6)
  .thresholds(
    new ThresholdsConfigBuilder().mode(ThresholdsMode.Absolute).steps([
      { value: null, color: 'green' },
      { value: 0.1, color: 'orange' },
      { value: 0.2, color: 'red' },
    ]),
  )
  .withTarget(
    query(
      `(sum(rate(llm_client_calls_total{${U},llm_outcome!~"success|${CALLER_ERRORS}"}[5m])) or vector(0))` +
        ` / sum(rate(llm_client_calls_total{${U},llm_outcome!~"${CALLER_ERRORS}"}[5m]))`,
      'failed',
    ),
  );

const attemptsPerCall = new StatPanel()
  .title('Attempts per call, last 5 minutes')
  .description(
    'Upstream attempts per logical call: 1.0 means no retries. A climb means the upstream ' +
      'fails and every call costs several requests (and tokens of budget).',
  )
  .datasource(DATASOURCE)
  .decimals(2)
  .span(6)
  .height(6)
  .thresholds(
    new ThresholdsConfigBuilder().mode(ThresholdsMode.Absolute).steps([
      { value: null, color: 'green' },
      { value: 1.5, color: 'orange' },
      { value: 2.5, color: 'red' },
    ]),
  )
  .withTarget(
    query(
      `sum(rate(llm_client_attempts_total{${U}}[5m])) / sum(rate(llm_client_calls_total{${U}}[5m]))`,
      'attempts per call',
    ),
  );

const usOrThem = timeseries(
  'Us or them: errors the upstream returned vs errors raised here',
  'Upstream: every attempt the provider (or the network to it) answered with an error: 429, ' +
    '5xx, timeouts, resets. Here: calls this service failed itself: open circuit, full bulkhead, ' +
    'deadline spent, rate limiter rejections. Upstream errors climbing → the provider: check its ' +
    'status page. An open circuit follows upstream failures: ours climbing right after theirs is ' +
    'still the provider (the breaker stops the attempts). Ours climbing alone → our own limits: ' +
    'bulkhead, RPM/TPM, deadlines.',
  'reqps',
  [
    [
      `sum(rate(llm_client_attempts_total{${U},llm_outcome!~"${NOT_ANSWERED}"}[${RATE}])) or vector(0)`,
      'returned by the upstream (attempts)',
    ],
    [
      `(sum(rate(llm_client_calls_total{${U},llm_outcome=~"${OUR_KINDS}"}[${RATE}])) or vector(0))` +
        ` + (sum(rate(llm_limiter_rejections_total{${U}}[${RATE}])) or vector(0))`,
      'raised by this service (calls)',
    ],
  ],
);

const attemptErrors = timeseries(
  'Upstream answers by error kind (per attempt)',
  'What the provider answered, before retries. Sudden rate_limited (429) spikes: we are hitting ' +
    'limits, request a quota increase or cache. server_error / overloaded climbing: probably the ' +
    "provider's side, check its status page first. timeout / network: the path to it.",
  'reqps',
  [
    [
      `sum by (llm_outcome) (rate(llm_client_attempts_total{${U},llm_outcome!~"${NOT_ANSWERED}"}[${RATE}]))`,
      '{{llm_outcome}}',
    ],
  ],
);

const callErrors = timeseries(
  'Failed calls by error kind (after retries)',
  'What callers got: the kinds that retries and fallbacks could not fix. circuit_open and ' +
    'bulkhead_full are our protections shedding load; rate_limited includes the limiter rejecting ' +
    'a call it could not fit before the deadline.',
  'reqps',
  [
    [
      `sum by (llm_outcome) (rate(llm_client_calls_total{${U},llm_outcome!="success"}[${RATE}]))`,
      '{{llm_outcome}}',
    ],
  ],
);

const limitHits = timeseries(
  '429s by budget: the provider vs our limiter',
  "Upstream 429s per upstream and model (the provider's limit), and calls our own limiter " +
    'rejected at once, by reason (deadline: no room before the deadline; queue_full; too_large).',
  'reqps',
  [
    [
      `sum by (llm_upstream, gen_ai_request_model) (rate(llm_client_attempts_total{${U},llm_outcome="rate_limited"}[${RATE}]))`,
      'upstream 429 {{llm_upstream}}/{{gen_ai_request_model}}',
    ],
    [
      `sum by (llm_upstream, gen_ai_request_model, llm_limiter_reason) (rate(llm_limiter_rejections_total{${U}}[${RATE}]))`,
      'rejected here ({{llm_limiter_reason}}) {{llm_upstream}}/{{gen_ai_request_model}}',
    ],
  ],
);

const retries = timeseries(
  'Retries by reason and delay source',
  'Why attempts were repeated (error kind) and where the wait came from: backoff, or a server ' +
    'hint (retry-after-ms, retry-after, x-ratelimit-reset-*). Hints dominating: the provider is ' +
    'pacing us.',
  'reqps',
  [
    [
      `sum by (llm_retry_reason, llm_retry_delay_source) (rate(llm_client_retries_total{${U}}[${RATE}]))`,
      '{{llm_retry_reason}} ({{llm_retry_delay_source}})',
    ],
  ],
);

const limiterWait = timeseries(
  'Rate limiter wait per attempt',
  'How long attempts waited for RPM/TPM budget before being sent. Long waits: traffic is at the ' +
    'limit; the rate in force (next panel) says whether 429s lowered it.',
  's',
  quantiles('llm_limiter_wait_bucket'),
);

const rateInForce = timeseries(
  'Rate in force per budget (per minute)',
  'The limit per minute each budget applies now, for requests and tokens. Below the configured ' +
    'limit: upstream 429s lowered it, and it recovers as they stop.',
  'short',
  [
    [
      `max by (llm_upstream, gen_ai_request_model, llm_limiter_dimension) (llm_limiter_effective_rate{${U}})`,
      '{{llm_upstream}}/{{gen_ai_request_model}} {{llm_limiter_dimension}}',
    ],
    [
      `sum by (llm_upstream, gen_ai_request_model) (llm_limiter_waiting{${U}})`,
      'waiting {{llm_upstream}}/{{gen_ai_request_model}}',
    ],
  ],
);

const breakerState = new StateTimelinePanel()
  .title('Circuit breaker state per upstream and model')
  .description(
    'The worst state across replicas. Open: calls are rejected at once (circuit_open) until a ' +
      'probe succeeds; it opens on consecutive 5xx, timeouts and network errors, never on 429s.',
  )
  .datasource(DATASOURCE)
  .span(24)
  .height(6)
  .mappings([
    {
      type: MappingType.ValueToText,
      options: {
        0: { text: 'closed', color: 'green', index: 0 },
        1: { text: 'half-open', color: 'yellow', index: 1 },
        2: { text: 'open', color: 'red', index: 2 },
        3: { text: 'isolated', color: 'purple', index: 3 },
      },
    },
  ])
  .withTarget(
    query(
      `max by (llm_upstream, gen_ai_request_model) (` +
        `llm_breaker_state{${U},llm_breaker_state="closed"} * 0` +
        ` or llm_breaker_state{${U},llm_breaker_state="half_open"} * 1` +
        ` or llm_breaker_state{${U},llm_breaker_state="open"} * 2` +
        ` or llm_breaker_state{${U},llm_breaker_state="isolated"} * 3)`,
      '{{llm_upstream}}/{{gen_ai_request_model}}',
    ),
  );

const bulkhead = timeseries(
  'Bulkhead: calls in flight and queued',
  'Calls in flight to each upstream and calls waiting for a slot. A growing queue: the provider ' +
    'is slow, or traffic outgrew LLM_MAX_CONCURRENCY; when the queue is full, bulkhead_full.',
  'short',
  [
    [`sum by (llm_upstream) (llm_bulkhead_in_use{${U}})`, 'in flight {{llm_upstream}}'],
    [`sum by (llm_upstream) (llm_bulkhead_queued{${U}})`, 'queued {{llm_upstream}}'],
  ],
);

const latency = timeseries(
  'Call latency (retries and waits included)',
  'gen_ai.client.operation.duration of logical calls. p99 rising with retries: the retries are ' +
    'the latency; rising alone: the provider is slow.',
  's',
  quantiles('gen_ai_client_operation_duration_bucket'),
);

const tokens = timeseries(
  'Tokens per second by type and feature',
  'Input and output tokens the upstream reported, and the features that spend them.',
  'short',
  [
    [
      `sum by (gen_ai_token_type) (rate(gen_ai_client_token_usage_sum{${U}}[${RATE}]))`,
      '{{gen_ai_token_type}}',
    ],
    [
      `sum by (llm_feature) (rate(gen_ai_client_token_usage_sum{${U}}[${RATE}]))`,
      'feature {{llm_feature}}',
    ],
  ],
);

/** The dashboard model (classic JSON, schema as the SDK writes it). */
export function llmTrendsDashboard() {
  return new DashboardBuilder('LLM trends')
    .uid('llm-trends')
    .description(
      'Trends of the LLM calls made through nestjs-resilient-llm: error kinds, us or them, ' +
        'limits, retries, breakers, latency, tokens. Business impact (users, features) is in ' +
        'Kibana; alerts are routed by Alertmanager.',
    )
    .tags(['llm', 'nestjs-resilient-llm'])
    .editable()
    .time({ from: 'now-3h', to: 'now' })
    .refresh('30s')
    .tooltip(DashboardCursorSync.Crosshair)
    .withVariable(
      new DatasourceVariableBuilder('datasource').label('Prometheus').type('prometheus'),
    )
    .withVariable(
      new QueryVariableBuilder('upstream')
        .label('Upstream')
        .datasource(DATASOURCE)
        .query('label_values(llm_client_calls_total, llm_upstream)')
        .refresh(VariableRefresh.OnTimeRangeChanged)
        .multi(true)
        .includeAll(true)
        .allValue('.*')
        .current({ text: 'All', value: '$__all' }),
    )
    .withRow(new RowBuilder('At a glance: us or them?'))
    .withPanel(errorRatio)
    .withPanel(attemptsPerCall)
    .withPanel(usOrThem)
    .withRow(new RowBuilder('Error kinds over time'))
    .withPanel(attemptErrors)
    .withPanel(callErrors)
    .withPanel(limitHits)
    .withPanel(retries)
    .withRow(new RowBuilder('Limits'))
    .withPanel(limiterWait)
    .withPanel(rateInForce)
    .withRow(new RowBuilder('Breakers and bulkheads'))
    .withPanel(breakerState)
    .withPanel(bulkhead)
    .withRow(new RowBuilder('Latency and tokens'))
    .withPanel(latency)
    .withPanel(tokens)
    .build();
}
