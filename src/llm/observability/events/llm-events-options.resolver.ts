import { LlmEventsOptions } from '../../llm-module.options';
import { LlmOptionsError } from '../../llm-options.resolver';

type ElasticsearchSection = NonNullable<LlmEventsOptions['elasticsearch']>;
type Tunable = Exclude<keyof ElasticsearchSection, 'node' | 'auth' | 'dataset' | 'namespace'>;

/** Defaults of `events.elasticsearch`, as documented on {@link LlmEventsOptions}. */
export const ELASTICSEARCH_EVENTS_DEFAULTS = {
  dataset: 'llm.calls',
  namespace: 'default',
  retentionDays: 30,
  maxBufferedEvents: 10_000,
  maxBufferedBytes: 10 * 1024 * 1024,
  maxBulkEvents: 500,
  flushIntervalMs: 1_000,
  shutdownTimeoutMs: 5_000,
} as const;

/** `events.elasticsearch` with every default filled in and validated. */
export interface ResolvedElasticsearchEvents extends Required<Pick<ElasticsearchSection, Tunable>> {
  node: string;
  auth?: { apiKey: string } | { username: string; password: string };
  dataset: string;
  namespace: string;
  /** `logs-<dataset>-<namespace>`: where documents are written. */
  dataStream: string;
}

/** The events section after validation. */
export interface ResolvedEventsOptions {
  elasticsearch?: ResolvedElasticsearchEvents;
  log: boolean;
}

/** Injection token of {@link ResolvedEventsOptions}. */
export const LLM_EVENTS_OPTIONS = Symbol('LLM_EVENTS_OPTIONS');

/** Elastic's data stream naming scheme: lowercase, no `-` (it separates type, dataset, namespace). */
const STREAM_PART = /^[a-z0-9_.]{1,100}$/;

/**
 * Validates `events` once, at startup, and fills in the defaults. Every problem is listed with
 * its field path; credentials and the node URL (which may embed them) are never echoed.
 *
 * @throws LlmOptionsError
 */
export function resolveEventsOptions(events: LlmEventsOptions = {}): ResolvedEventsOptions {
  const problems: string[] = [];
  const log = events.log ?? false;
  if (typeof log !== 'boolean') problems.push(`events.log must be true or false`);
  const es = events.elasticsearch;
  const elasticsearch = es === undefined ? undefined : resolveElasticsearch(es, problems);
  if (problems.length > 0) throw new LlmOptionsError(problems);
  return { log, ...(elasticsearch ? { elasticsearch } : {}) };
}

function resolveElasticsearch(
  es: ElasticsearchSection,
  problems: string[],
): ResolvedElasticsearchEvents | undefined {
  const at = 'events.elasticsearch';
  if (typeof es !== 'object' || es === null) {
    problems.push(`${at} must be an object such as { node: 'http://localhost:9200' }`);
    return undefined;
  }
  const known = ['node', 'auth', 'dataset', 'namespace', ...Object.keys(defaultsOfTunables())];
  for (const key of Object.keys(es)) {
    if (!known.includes(key))
      problems.push(`${at}.${key} is not an option (known: ${known.join(', ')})`);
  }
  checkNode(es.node, `${at}.node`, problems);
  const auth = resolveAuth(es.auth, `${at}.auth`, problems);
  const dataset = es.dataset ?? ELASTICSEARCH_EVENTS_DEFAULTS.dataset;
  const namespace = es.namespace ?? ELASTICSEARCH_EVENTS_DEFAULTS.namespace;
  for (const [field, value] of [
    ['dataset', dataset],
    ['namespace', namespace],
  ] as const) {
    if (typeof value !== 'string' || !STREAM_PART.test(value)) {
      problems.push(
        `${at}.${field} must be 1 to 100 characters of a-z, 0-9, '_' and '.' (no '-': it ` +
          `separates the parts of logs-<dataset>-<namespace>), got ${JSON.stringify(value)}`,
      );
    }
  }
  const tunables = defaultsOfTunables();
  for (const key of Object.keys(tunables) as Tunable[]) {
    const value: unknown = es[key] ?? tunables[key];
    const min = key === 'shutdownTimeoutMs' ? 0 : 1;
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
      problems.push(`${at}.${key} must be a whole number ≥ ${min}, got ${JSON.stringify(value)}`);
    } else {
      tunables[key] = value;
    }
  }
  if (tunables.maxBulkEvents > tunables.maxBufferedEvents) {
    problems.push(
      `${at}.maxBulkEvents (${tunables.maxBulkEvents}) must not exceed maxBufferedEvents ` +
        `(${tunables.maxBufferedEvents})`,
    );
  }
  return {
    ...tunables,
    node: es.node,
    ...(auth ? { auth } : {}),
    dataset,
    namespace,
    dataStream: `logs-${dataset}-${namespace}`,
  };
}

function defaultsOfTunables(): Record<Tunable, number> {
  const d = ELASTICSEARCH_EVENTS_DEFAULTS;
  return {
    retentionDays: d.retentionDays,
    maxBufferedEvents: d.maxBufferedEvents,
    maxBufferedBytes: d.maxBufferedBytes,
    maxBulkEvents: d.maxBulkEvents,
    flushIntervalMs: d.flushIntervalMs,
    shutdownTimeoutMs: d.shutdownTimeoutMs,
  };
}

function checkNode(node: unknown, at: string, problems: string[]): void {
  let protocol: string | undefined;
  try {
    protocol = typeof node === 'string' ? new URL(node).protocol : undefined;
  } catch {
    // Reported below.
  }
  if (protocol !== 'http:' && protocol !== 'https:') {
    problems.push(`${at} must be the cluster's http(s) URL, e.g. 'http://localhost:9200'`);
  }
}

function resolveAuth(
  auth: ElasticsearchSection['auth'],
  at: string,
  problems: string[],
): ResolvedElasticsearchEvents['auth'] {
  if (auth === undefined) return undefined;
  const filled = (value: unknown): value is string => typeof value === 'string' && value !== '';
  const { apiKey, username, password } = (
    typeof auth === 'object' && auth !== null ? auth : {}
  ) as Record<string, unknown>;
  if (filled(apiKey) && username === undefined && password === undefined) return { apiKey };
  if (apiKey === undefined && filled(username) && filled(password)) return { username, password };
  problems.push(
    `${at} must be { apiKey } or { username, password }, each a non-empty string (values not shown)`,
  );
  return undefined;
}
