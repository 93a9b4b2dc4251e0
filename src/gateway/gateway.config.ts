import type { LlmLimitOptions, LlmPolicyOptions, LlmStreamUsage } from '../llm/index';
import { EnvReader } from './env.reader';
import {
  defaultHost,
  type GatewayInboundConfig,
  readInboundConfig,
} from './gateway-inbound.config';
import { type GatewayJobsConfig, readJobsConfig } from './jobs.config';

/** The built-in simulator's port, as `npm run simulator` and the README's curl examples use. */
export const DEFAULT_SIM_PORT = 4010;

/** The gateway's settings; unset policy values stay undefined so LlmModule's defaults apply. */
export interface GatewayConfig {
  /** HTTP port; 0 picks a free one. @default 3000 */
  port: number;
  /** HOST. @default '127.0.0.1', or '0.0.0.0' when GATEWAY_API_KEYS is set */
  host: string;
  /** Port of the built-in simulator, used when `llm.baseUrl` is unset; 0 picks a free one. @default 4010 */
  simPort: number;
  /** Models listed by `GET /v1/models`: `llm.model` first, then `LLM_MODELS`. */
  models: string[];
  /** `service.name` of business events, from OTEL_SERVICE_NAME. @default 'llm-gateway' */
  serviceName: string;
  llm: {
    /** The provider's base URL; undefined means "start the built-in simulator". */
    baseUrl?: string;
    /** Never logged nor echoed in errors. */
    apiKey?: string;
    /** @default 'gpt-4o-mini' */
    model: string;
    /** @default 'primary' */
    upstreamName: string;
    /** @default 'openai' */
    provider: string;
    /**
     * LLM_STREAM_USAGE: `auto`, `always` or `never` (the upstream's `streamUsage`). Unset: the
     * module's `auto`, or `always` on the built-in simulator.
     */
    streamUsage?: LlmStreamUsage;
    policies: LlmPolicyOptions;
    /** @default false */
    failReadinessWhenOpen: boolean;
    /**
     * LLM_RPM, LLM_TPM, LLM_RATE_WINDOW_MS, LLM_RATE_INTERVAL_MS, LLM_REPLICAS; unset without
     * LLM_RPM and LLM_TPM.
     */
    limits?: LlmLimitOptions;
    /**
     * LLM_FALLBACKS: per model (`'*'` for every other one), the models of this upstream to try
     * next, in order. Unset without LLM_FALLBACKS.
     */
    fallbacks?: Record<string, string[]>;
  };
  /** REDIS_URL: rate-limit budgets shared by every replica. Never logged (it may hold a password). */
  redisUrl?: string;
  /** Durable jobs, on when RABBITMQ_URL is set (needs REDIS_URL). */
  jobs?: GatewayJobsConfig;
  /** Business events: Elasticsearch when ELASTICSEARCH_URL is set, JSON lines on stdout. */
  events: {
    /** From ELASTICSEARCH_URL, with ELASTICSEARCH_API_KEY or _USERNAME/_PASSWORD. Never logged. */
    elasticsearch?: {
      node: string;
      auth?: { apiKey: string } | { username: string; password: string };
    };
    /** LLM_EVENTS_LOG. @default true without ELASTICSEARCH_URL, false with it */
    log: boolean;
  };
  /** Inbound keys, CORS, server timeouts and shutdown (see gateway-inbound.config.ts). */
  inbound: GatewayInboundConfig;
}

/**
 * Reads the gateway's configuration from environment variables. Pure: tests pass their own env.
 *
 * @throws GatewayConfigError naming every malformed variable and what it expects
 * @example
 * const config = loadGatewayConfig({ LLM_BASE_URL: 'http://127.0.0.1:4010/v1', LLM_MAX_RETRIES: '1' });
 */
export function loadGatewayConfig(env: NodeJS.ProcessEnv): GatewayConfig {
  const read = new EnvReader(env);
  const port = { min: 0, max: 65_535 };
  const ms = { min: 1 };
  const model = read.text('LLM_MODEL') ?? 'gpt-4o-mini';
  const policies: LlmPolicyOptions = {
    retry: defined({
      maxRetries: read.wholeNumber('LLM_MAX_RETRIES', { min: 0 }),
      baseDelayMs: read.wholeNumber('LLM_RETRY_BASE_MS', { min: 0 }),
      maxDelayMs: read.wholeNumber('LLM_RETRY_MAX_MS', { min: 0 }),
    }),
    breaker: defined({
      consecutiveFailures: read.wholeNumber('LLM_BREAKER_FAILURES', { min: 1 }),
      maxBreakMs: read.wholeNumber('LLM_BREAKER_HALF_OPEN_MS', ms),
      minBreakMs: read.wholeNumber('LLM_BREAKER_MIN_HALF_OPEN_MS', ms),
      maxProbeWaitMs: read.wholeNumber('LLM_BREAKER_MAX_WAIT_MS', { min: 0 }),
    }),
    bulkhead: defined({
      maxConcurrent: read.wholeNumber('LLM_MAX_CONCURRENCY', { min: 1 }),
      maxQueue: read.wholeNumber('LLM_MAX_QUEUE', { min: 0 }),
    }),
    timeouts: defined({
      connectMs: read.wholeNumber('LLM_CONNECT_TIMEOUT_MS', ms),
      attemptMs: read.wholeNumber('LLM_ATTEMPT_TIMEOUT_MS', ms),
      deadlineMs: read.wholeNumber('LLM_TOTAL_TIMEOUT_MS', ms),
      firstChunkMs: read.wholeNumber('LLM_FIRST_CHUNK_TIMEOUT_MS', ms),
      idleMs: read.wholeNumber('LLM_IDLE_TIMEOUT_MS', ms),
    }),
  };
  const inbound = readInboundConfig(read);
  const config: GatewayConfig = {
    port: read.wholeNumber('PORT', port) ?? 3000,
    host: read.text('HOST') ?? defaultHost(inbound),
    simPort: read.wholeNumber('SIM_PORT', port) ?? DEFAULT_SIM_PORT,
    // The same name in traces (the OpenTelemetry SDK reads the variable too) and in events.
    serviceName: read.text('OTEL_SERVICE_NAME') ?? 'llm-gateway',
    models: [...new Set([model, ...read.list('LLM_MODELS')])],
    llm: {
      baseUrl: read.url('LLM_BASE_URL', 'https://api.openai.com/v1'),
      apiKey: read.text('LLM_API_KEY'),
      model,
      upstreamName: read.text('LLM_UPSTREAM_NAME') ?? 'primary',
      provider: read.text('LLM_PROVIDER') ?? 'openai',
      streamUsage: readStreamUsage(read),
      policies,
      failReadinessWhenOpen: read.boolean('LLM_READY_FAIL_WHEN_OPEN') ?? false,
      limits: readLimits(read),
      fallbacks: readFallbacks(read),
    },
    redisUrl: readRedisUrl(read),
    events: readEventsConfig(read),
    inbound,
  };
  const jobs = readJobsConfig(read, config.redisUrl);
  if (jobs) config.jobs = jobs;
  checkOrder(read, config.llm.policies);
  read.throwIfInvalid();
  return config;
}

/**
 * ELASTICSEARCH_URL ships events to that cluster; without it they are JSON lines on stdout
 * (LLM_EVENTS_LOG=false turns those off, e.g. in tests). Values are never echoed: the URL may
 * embed credentials.
 */
function readEventsConfig(read: EnvReader): GatewayConfig['events'] {
  const node = read.text('ELASTICSEARCH_URL');
  const apiKey = read.text('ELASTICSEARCH_API_KEY');
  const username = read.text('ELASTICSEARCH_USERNAME');
  const password = read.text('ELASTICSEARCH_PASSWORD');
  const log = read.boolean('LLM_EVENTS_LOG') ?? node === undefined;
  if (node === undefined) {
    if (apiKey ?? username ?? password) {
      read.report(
        'ELASTICSEARCH_API_KEY/USERNAME/PASSWORD need ELASTICSEARCH_URL, the cluster URL',
      );
    }
    return { log };
  }
  if (!/^https?:$/.test(safeProtocol(node))) {
    read.report('ELASTICSEARCH_URL must be an absolute http(s) URL such as http://localhost:9200');
  }
  if ((username === undefined) !== (password === undefined) || (apiKey && username)) {
    read.report(
      'Set either ELASTICSEARCH_API_KEY, or both ELASTICSEARCH_USERNAME and ELASTICSEARCH_PASSWORD',
    );
  }
  const auth = apiKey ? { apiKey } : username && password ? { username, password } : undefined;
  return { elasticsearch: { node, ...(auth ? { auth } : {}) }, log };
}

/** The budgets of the gateway's upstream; the window and replicas only matter with a budget. */
function readLimits(read: EnvReader): LlmLimitOptions | undefined {
  const rpm = read.wholeNumber('LLM_RPM', { min: 1 });
  const tpm = read.wholeNumber('LLM_TPM', { min: 1 });
  const windowMs = read.wholeNumber('LLM_RATE_WINDOW_MS', { min: 100 });
  const intervalMs = read.wholeNumber('LLM_RATE_INTERVAL_MS', { min: 0 });
  const replicas = read.wholeNumber('LLM_REPLICAS', { min: 1 });
  if (rpm === undefined && tpm === undefined) {
    if (windowMs !== undefined || intervalMs !== undefined || replicas !== undefined) {
      read.report(
        'LLM_RATE_WINDOW_MS, LLM_RATE_INTERVAL_MS and LLM_REPLICAS need a budget: set LLM_RPM or LLM_TPM',
      );
    }
    return undefined;
  }
  return defined({ rpm, tpm, windowMs, intervalMs, replicas });
}

const FALLBACKS_FORMAT =
  'model=fallback1,fallback2;*=fallback, e.g. gpt-4o=gpt-4o-mini;*=gpt-4o-mini';

/**
 * LLM_FALLBACKS, e.g. `gpt-4o=gpt-4o-mini,gpt-4.1-mini;*=gpt-4o-mini`: entries separated by `;`,
 * each a model (or `*`, every model without its own entry) and its fallback models in order.
 * Blank entries are dropped, like blanks in LLM_MODELS. Every malformed entry is reported, so one
 * failed boot shows them all; model names are no secret, so problems quote the entry.
 */
function readFallbacks(read: EnvReader): Record<string, string[]> | undefined {
  const entries = (read.text('LLM_FALLBACKS') ?? '')
    .split(';')
    .map((entry) => entry.trim())
    .filter((entry) => entry.length > 0);
  if (entries.length === 0) return undefined;
  // A Map, then fromEntries: a model named `__proto__` stays a plain key.
  const chains = new Map<string, string[]>();
  for (const entry of entries) {
    const parsed = parseFallbackEntry(entry);
    if (typeof parsed === 'string') {
      read.report(`LLM_FALLBACKS entry '${entry}' ${parsed} (expected ${FALLBACKS_FORMAT})`);
    } else if (chains.has(parsed.model)) {
      read.report(
        `LLM_FALLBACKS entry '${entry}' names model '${parsed.model}' again: give each model one entry`,
      );
    } else {
      chains.set(parsed.model, parsed.targets);
    }
  }
  return Object.fromEntries(chains);
}

/** One `model=target1,target2` entry, or what is wrong with it. */
function parseFallbackEntry(entry: string): { model: string; targets: string[] } | string {
  const [head, ...rest] = entry.split('=');
  if (rest.length === 0) return "has no '=' between the model and its fallbacks";
  // Often a ',' typed where entries need ';': `a=b,c=d`.
  if (rest.length > 1) return "has more than one '=': separate entries with ';'";
  const model = head!.trim();
  const targets = rest[0]!.split(',').map((target) => target.trim());
  if (model === '') return "names no model before '='";
  if (targets.some((target) => target === '')) return 'has an empty fallback model';
  if (targets.includes('*')) return "uses '*' as a fallback: '*' only stands before '='";
  if (targets.includes(model)) return `falls back from '${model}' to itself`;
  const repeated = targets.find((target, i) => targets.indexOf(target) !== i);
  if (repeated !== undefined) return `lists the fallback '${repeated}' twice`;
  return { model, targets };
}

// The URL may embed a password: problems never repeat it.
function readRedisUrl(read: EnvReader): string | undefined {
  const url = read.text('REDIS_URL');
  if (url !== undefined && !/^rediss?:$/.test(safeProtocol(url))) {
    read.report('REDIS_URL must be a redis:// or rediss:// URL such as redis://localhost:6379');
    return undefined;
  }
  return url;
}

function safeProtocol(url: string): string {
  try {
    return new URL(url).protocol;
  } catch {
    return '';
  }
}

const STREAM_USAGE: readonly LlmStreamUsage[] = ['auto', 'always', 'never'];

function readStreamUsage(read: EnvReader): LlmStreamUsage | undefined {
  const given = read.text('LLM_STREAM_USAGE')?.toLowerCase();
  if (given === undefined || STREAM_USAGE.includes(given as LlmStreamUsage)) {
    return given as LlmStreamUsage | undefined;
  }
  read.report(
    `LLM_STREAM_USAGE must be one of ${STREAM_USAGE.join(', ')}, got '${given.slice(0, 40)}'`,
  );
  return undefined;
}

// LlmModule checks these too; checking here lets the message name the variables to fix. Only
// two values the user set can conflict: a default gives way to a set value (LlmModule logs it).
function checkOrder(read: EnvReader, { retry, timeouts, breaker }: LlmPolicyOptions): void {
  notAbove(
    read,
    ['LLM_RETRY_BASE_MS', retry?.baseDelayMs],
    ['LLM_RETRY_MAX_MS', retry?.maxDelayMs],
  );
  notAbove(
    read,
    ['LLM_ATTEMPT_TIMEOUT_MS', timeouts?.attemptMs],
    ['LLM_TOTAL_TIMEOUT_MS', timeouts?.deadlineMs],
  );
  notAbove(
    read,
    ['LLM_BREAKER_MIN_HALF_OPEN_MS', breaker?.minBreakMs],
    ['LLM_BREAKER_HALF_OPEN_MS', breaker?.maxBreakMs],
  );
}

type Setting = readonly [name: string, value: number | undefined];

function notAbove(read: EnvReader, [lowName, low]: Setting, [highName, high]: Setting): void {
  if (low !== undefined && high !== undefined && low > high) {
    read.report(`${lowName} (${low}) must not exceed ${highName} (${high})`);
  }
}

/** Drops unset fields, so the options hold only what the environment set (LlmModule fills in the rest). */
function defined(values: Record<string, number | undefined>): Record<string, number> {
  return Object.fromEntries(
    Object.entries(values).filter((entry): entry is [string, number] => entry[1] !== undefined),
  );
}
