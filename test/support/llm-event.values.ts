import { LLM_EVENT_ACTIONS } from '../../src/llm/observability/events/llm-event.base';
import { type LlmRequestOutcome } from '../../src/llm/observability/events/llm-request.event';
import { type LlmErrorKind } from '../../src/llm/resilience/llm.errors';
import { type BreakerState } from '../../src/llm/resilience/tracked-breaker';
import type { LlmRpcTransport } from '../../src/llm/observability/rpc-message.reader';
import type { LlmRpcOutcome } from '../../src/llm/observability/rpc-request.info';

const NUMERIC = ['long', 'integer'];
const AGGREGATABLE = ['keyword', 'boolean', 'date', ...NUMERIC];
/**
 * Field types each use of a field by a dashboard needs: Lens aggregates, which `text` fields cannot
 * take (`kql` and `format` take any type).
 */
export const TYPES_BY_USE: Record<string, string[] | 'any'> = {
  time: ['date'],
  date_histogram: ['date'],
  sort: ['date'],
  terms: ['keyword', 'boolean', ...NUMERIC],
  unique_count: AGGREGATABLE,
  last_value: AGGREGATABLE,
  sum: NUMERIC,
  average: NUMERIC,
  median: NUMERIC,
  min: NUMERIC,
  max: NUMERIC,
  percentile: NUMERIC,
  kql: 'any',
  format: 'any',
};

// Exhaustive by type: adding an error kind, breaker state or outcome fails type-checking here
// until the dashboards (and these lists) say where it belongs.
type Every<T extends string> = Record<T, 1>;
// prettier-ignore
export const ERROR_KINDS = {
  rate_limited: 1, quota_exceeded: 1, server_error: 1, overloaded: 1, timeout: 1, network: 1,
  conflict: 1, invalid_response: 1, auth: 1, bad_request: 1, context_length_exceeded: 1,
  content_filtered: 1, not_found: 1, circuit_open: 1, bulkhead_full: 1, deadline_exceeded: 1,
  cancelled: 1, incomplete_stream: 1, internal: 1, shutting_down: 1,
} satisfies Every<LlmErrorKind>;
const BREAKER_STATES = {
  closed: 1,
  open: 1,
  half_open: 1,
  isolated: 1,
} satisfies Every<BreakerState>;
const REQUEST_OUTCOMES = { success: 1, degraded: 1, failure: 1 } satisfies Every<LlmRequestOutcome>;

const RPC_TRANSPORTS = {
  rmq: 1,
  tcp: 1,
  redis: 1,
  nats: 1,
  kafka: 1,
  mqtt: 1,
  grpc: 1,
  rpc: 1,
} satisfies Every<LlmRpcTransport>;
const RPC_OUTCOMES = { ack: 1, nack: 1, error: 1, completed: 1 } satisfies Every<LlmRpcOutcome>;

/** The values a dashboard may filter on, per field: those the event writer can write. */
export const KNOWN_VALUES: Record<string, string[]> = {
  'event.action': Object.values(LLM_EVENT_ACTIONS),
  'event.outcome': ['success', 'failure'],
  'error.type': Object.keys(ERROR_KINDS),
  'llm.breaker.state': Object.keys(BREAKER_STATES),
  'llm.request.outcome': Object.keys(REQUEST_OUTCOMES),
  'llm.request.transport': ['http', ...Object.keys(RPC_TRANSPORTS)],
  'llm.request.rpc_outcome': Object.keys(RPC_OUTCOMES),
  'llm.request.redelivered': ['true', 'false'],
};
