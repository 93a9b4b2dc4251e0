import type {
  LlmElasticsearchEventsOptions,
  ResolvedElasticsearchEvents,
  ResolvedEventsOptions,
} from '../observability/events/llm-events.options';
import { LLM_DEFAULTS } from './llm.defaults';
import { type NumberRule, type OptionChecks } from './option-checks';

type Tunable = Exclude<keyof LlmElasticsearchEventsOptions, 'node' | 'auth'>;
type Count = Exclude<Tunable, 'dataset' | 'namespace'>;

const COUNTS: Record<Count, NumberRule> = {
  retentionDays: { min: 1, whole: true },
  maxBufferedEvents: { min: 1, whole: true },
  maxBufferedBytes: { min: 1, whole: true },
  maxBulkEvents: { min: 1, whole: true },
  flushIntervalMs: { min: 1, whole: true },
  shutdownTimeoutMs: { min: 0, whole: true },
};
const ELASTICSEARCH_KEYS = ['node', 'auth', 'dataset', 'namespace', ...Object.keys(COUNTS)];

/** Elastic's data stream naming scheme: lowercase, no `-` (it separates type, dataset, namespace). */
const STREAM_PART = /^[a-z0-9_.]{1,100}$/;

/**
 * The module's `events`, with the defaults filled in. `elasticsearch.node` left undefined (an
 * unset variable) means no cluster. Credentials and the node URL (which may embed them) are never
 * echoed.
 */
export function readEvents(given: unknown, checks: OptionChecks): ResolvedEventsOptions {
  const events = checks.section(given, 'events', ['elasticsearch', 'log'], '{ log: true }');
  const log = checks.boolean(events?.log, 'events.log') ?? LLM_DEFAULTS.events.log;
  const elasticsearch = readElasticsearch(events?.elasticsearch, checks);
  return { log, ...(elasticsearch ? { elasticsearch } : {}) };
}

function readElasticsearch(
  given: unknown,
  checks: OptionChecks,
): ResolvedElasticsearchEvents | undefined {
  const at = 'events.elasticsearch';
  const es = checks.section(given, at, ELASTICSEARCH_KEYS, "{ node: 'http://localhost:9200' }");
  if (es === undefined) return undefined;
  const node = checks.text(es.node, `${at}.node`, { secret: true });
  if (node !== undefined && !isHttpUrl(node)) {
    checks.report(`${at}.node`, "must be the cluster's http(s) URL, e.g. 'http://localhost:9200'");
  }
  const auth = readAuth(es.auth, `${at}.auth`, checks);
  const d = LLM_DEFAULTS.events.elasticsearch;
  const dataset = streamPart(es.dataset, `${at}.dataset`, checks) ?? d.dataset;
  const namespace = streamPart(es.namespace, `${at}.namespace`, checks) ?? d.namespace;
  const counts = {} as Record<Count, number>;
  for (const [key, rule] of Object.entries(COUNTS) as Array<[Count, NumberRule]>) {
    counts[key] = checks.number(es[key], `${at}.${key}`, rule) ?? d[key];
  }
  if (counts.maxBulkEvents > counts.maxBufferedEvents) {
    checks.report(
      `${at}.maxBulkEvents`,
      `(${counts.maxBulkEvents}) must not exceed maxBufferedEvents (${counts.maxBufferedEvents})`,
    );
  }
  if (node === undefined) return undefined;
  return {
    ...counts,
    node,
    ...(auth ? { auth } : {}),
    dataset,
    namespace,
    dataStream: `logs-${dataset}-${namespace}`,
  };
}

function streamPart(value: unknown, path: string, checks: OptionChecks): string | undefined {
  const text = checks.text(value, path);
  if (text === undefined || STREAM_PART.test(text)) return text;
  checks.report(
    path,
    "must be 1 to 100 characters of a-z, 0-9, '_' and '.' (no '-': it separates the parts of " +
      `logs-<dataset>-<namespace>), got ${JSON.stringify(text.slice(0, 100))}`,
  );
  return undefined;
}

function isHttpUrl(value: string): boolean {
  try {
    return ['http:', 'https:'].includes(new URL(value).protocol);
  } catch {
    return false;
  }
}

/** `{ apiKey }` or `{ username, password }`; all three unset (unset variables) is no auth. */
function readAuth(
  given: unknown,
  at: string,
  checks: OptionChecks,
): ResolvedElasticsearchEvents['auth'] {
  const auth = checks.section(given, at, ['apiKey', 'username', 'password'], '{ apiKey }');
  if (auth === undefined) return undefined;
  const apiKey = checks.text(auth.apiKey, `${at}.apiKey`, { secret: true });
  const username = checks.text(auth.username, `${at}.username`, { secret: true });
  const password = checks.text(auth.password, `${at}.password`, { secret: true });
  const set = (value: unknown) => value !== undefined;
  if (![auth.apiKey, auth.username, auth.password].some(set)) return undefined;
  if (apiKey && !set(auth.username) && !set(auth.password)) return { apiKey };
  if (!set(auth.apiKey) && username && password) return { username, password };
  if ([apiKey, username, password].some(set)) {
    checks.report(at, 'must be { apiKey } or { username, password } (values not shown)');
  }
  return undefined;
}
