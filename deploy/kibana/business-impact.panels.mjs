// The charts of the Business impact dashboard: which features and how many users are hurt,
// since when, and whether it is the provider (429, 5xx) or us. Every field is one of
// LLM_EVENT_FIELDS (src/llm/observability/events/llm-event.fields.ts); the test
// test/deploy.kibana-dashboards.e2e-spec.ts checks that, and that the event writer fills them.
import {
  count,
  dateHistogram,
  filters,
  lastValue,
  metric,
  ratioFormula,
  terms,
} from './lens-columns.mjs';
import {
  CALLS,
  ERROR_GROUPS,
  FAILED_CALLS,
  FAILURE,
  panel,
  REQUESTS,
} from './business-impact.queries.mjs';
import { datatable, xy } from './saved-objects.mjs';

export const charts = {
  errorRateByFeature: panel({
    id: 'llm-error-rate-by-feature',
    title: 'Error rate by feature',
    description:
      'Which features are failing, since when: share of failed LLM calls per feature over time.',
    visualizationType: 'lnsXY',
    query: CALLS,
    columns: {
      time: dateHistogram(),
      feature: terms('llm.feature', { label: 'Feature' }),
      ...ratioFormula('rate', 'Error rate', FAILURE),
    },
    visualization: xy({
      seriesType: 'line',
      x: 'time',
      split: 'feature',
      y: ['rate'],
      yTitle: 'Failed calls',
    }),
  }),
  usersByFeature: panel({
    id: 'llm-users-affected-by-feature',
    title: 'Users affected by feature',
    description:
      'How many distinct users each feature let down (unique user.id with a failed call).',
    visualizationType: 'lnsXY',
    query: FAILED_CALLS,
    columns: {
      feature: terms('llm.feature', { label: 'Feature', orderBy: 'users' }),
      users: metric('unique_count', 'user.id', 'Users affected'),
    },
    visualization: xy({ seriesType: 'bar_horizontal', x: 'feature', y: ['users'] }),
  }),
  errorKinds: panel({
    id: 'llm-error-kinds-over-time',
    title: 'Error kinds over time',
    description:
      'Provider or us? Failed calls by error.type: rate limited and 5xx are the provider, client errors and our own limits are us, circuit open means the breaker is shedding load.',
    visualizationType: 'lnsXY',
    query: FAILED_CALLS,
    columns: {
      time: dateHistogram(),
      kind: filters('Error kind', ERROR_GROUPS),
      calls: count('Failed calls'),
    },
    visualization: xy({ seriesType: 'bar_stacked', x: 'time', split: 'kind', y: ['calls'] }),
  }),
  breakerStates: panel({
    id: 'llm-breaker-states',
    title: 'Circuit breaker state by upstream',
    description:
      'Calls by the breaker state they saw, per upstream: open or half_open bars show when a circuit opened and how long until it closed again.',
    visualizationType: 'lnsXY',
    query: CALLS,
    columns: {
      time: dateHistogram(),
      state: terms('llm.upstream', {
        label: 'Upstream › breaker',
        secondaryFields: ['llm.breaker.state'],
      }),
      calls: count('Calls'),
    },
    visualization: xy({ seriesType: 'bar_stacked', x: 'time', split: 'state', y: ['calls'] }),
  }),
  topFailingUsers: panel({
    id: 'llm-top-failing-users',
    title: 'Top failing users',
    description:
      'Users with the most failed LLM calls, the features they hit and the last error kind they got.',
    visualizationType: 'lnsDatatable',
    query: FAILED_CALLS,
    columns: {
      user: terms('user.id', { label: 'User', size: 20, orderBy: 'failures' }),
      failures: count('Failed calls'),
      features: metric('unique_count', 'llm.feature', 'Features'),
      lastError: lastValue('error.type', 'Last error'),
    },
    visualization: datatable(['user', 'failures', 'features', 'lastError']),
  }),
  requestOutcomes: panel({
    id: 'llm-request-outcomes',
    title: 'Request outcomes',
    description:
      'What users saw: inbound requests that made LLM calls, by llm.request.outcome (success, degraded: a call failed but the request answered, failure).',
    visualizationType: 'lnsXY',
    query: REQUESTS,
    columns: {
      time: dateHistogram(),
      outcome: terms('llm.request.outcome', { label: 'Outcome' }),
      requests: count('Requests'),
    },
    visualization: xy({ seriesType: 'bar_stacked', x: 'time', split: 'outcome', y: ['requests'] }),
  }),
  messages: panel({
    id: 'llm-rpc-messages',
    title: 'Messages by transport and pattern',
    description:
      'Microservice messages that made LLM calls (RMQ, TCP, Redis, NATS, Kafka, gRPC): by transport and pattern, how their handlers ended (llm.request.rpc_outcome: ack, nack, error, completed) and how many were redeliveries.',
    visualizationType: 'lnsDatatable',
    query: `${REQUESTS} and not llm.request.transport : "http"`,
    columns: {
      transport: terms('llm.request.transport', { label: 'Transport', orderBy: 'messages' }),
      pattern: terms('llm.request.pattern', { label: 'Pattern', size: 20, orderBy: 'messages' }),
      outcome: terms('llm.request.rpc_outcome', { label: 'Outcome', orderBy: 'messages' }),
      messages: count('Messages'),
      redelivered: count('Redelivered', 'llm.request.redelivered : true'),
    },
    visualization: datatable(['transport', 'pattern', 'outcome', 'messages', 'redelivered']),
  }),
  latency: panel({
    id: 'llm-latency-percentiles',
    title: 'LLM call latency (p50, p95, p99)',
    description:
      'Duration of logical calls including retries and waits (event.duration, shown in ms).',
    visualizationType: 'lnsXY',
    query: CALLS,
    columns: {
      time: dateHistogram(),
      p50: metric('percentile', 'event.duration', 'p50', { percentile: 50 }),
      p95: metric('percentile', 'event.duration', 'p95', { percentile: 95 }),
      p99: metric('percentile', 'event.duration', 'p99', { percentile: 99 }),
    },
    visualization: xy({
      seriesType: 'line',
      x: 'time',
      y: ['p50', 'p95', 'p99'],
      yTitle: 'Duration',
    }),
  }),
  jobQueueWait: panel({
    id: 'llm-job-queue-wait',
    title: 'Job queue wait (p50, p95, p99)',
    description:
      'How long durable jobs (Prefer: respond-async, LlmJobs) waited in the queue before a worker ran them (llm.job.queue_wait_ms): users see "please wait" this long.',
    visualizationType: 'lnsXY',
    query: `${CALLS} and llm.job.id : *`,
    columns: {
      time: dateHistogram(),
      p50: metric('percentile', 'llm.job.queue_wait_ms', 'p50', { percentile: 50 }),
      p95: metric('percentile', 'llm.job.queue_wait_ms', 'p95', { percentile: 95 }),
      p99: metric('percentile', 'llm.job.queue_wait_ms', 'p99', { percentile: 99 }),
    },
    visualization: xy({
      seriesType: 'line',
      x: 'time',
      y: ['p50', 'p95', 'p99'],
      yTitle: 'Queue wait (ms)',
    }),
  }),
  tokens: panel({
    id: 'llm-tokens-by-feature',
    title: 'Tokens by feature',
    description:
      'Input and output tokens (gen_ai.usage.*) spent per feature: where the budget goes.',
    visualizationType: 'lnsXY',
    query: CALLS,
    columns: {
      feature: terms('llm.feature', { label: 'Feature', orderBy: 'input' }),
      input: metric('sum', 'gen_ai.usage.input_tokens', 'Input tokens'),
      output: metric('sum', 'gen_ai.usage.output_tokens', 'Output tokens'),
    },
    visualization: xy({
      seriesType: 'bar_horizontal_stacked',
      x: 'feature',
      y: ['input', 'output'],
    }),
  }),
  savedByRetries: panel({
    id: 'llm-saved-by-retries',
    title: 'Calls saved by retries',
    description:
      'Successful calls that needed retries, by retry reason: provider trouble users did not see (yet).',
    visualizationType: 'lnsXY',
    query: `${CALLS} and event.outcome : "success" and llm.retries > 0`,
    columns: {
      time: dateHistogram(),
      reason: terms('llm.retry.reason', { label: 'Retry reason' }),
      calls: count('Calls'),
    },
    visualization: xy({ seriesType: 'bar_stacked', x: 'time', split: 'reason', y: ['calls'] }),
  }),
};
