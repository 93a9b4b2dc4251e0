import type {
  BudgetNumbers,
  LlmLimitOptions,
  ResolvedLimits,
  ResolvedRedisOptions,
} from '../limits/llm-limits.options';
import { LLM_DEFAULTS } from './llm.defaults';
import { type NumberRule, type OptionChecks } from './option-checks';
import { RENAMED_OPTIONS } from './policy-options.resolver';

const LIMIT_RULES = {
  rpm: { min: 1, whole: true },
  tpm: { min: 1, whole: true },
  maxQueue: { min: 0, whole: true },
  replicas: { min: 1, whole: true },
  // At least 100 ms: catches a window given in seconds (60) instead of milliseconds.
  windowMs: { min: 100, whole: true },
  intervalMs: { min: 0, whole: true },
  completionTokens: { min: 0, whole: true },
} as const satisfies Record<string, NumberRule>;
const LIMIT_KEYS = [...Object.keys(LIMIT_RULES), 'models', 'adaptive', 'refundUnusedTokens'];
const MODEL_RULE: NumberRule = { min: 1, whole: true };

/** The budget values one layer (`defaults.limits` or an upstream's `limits`) sets. */
export type LimitsLayer = Partial<Omit<LlmLimitOptions, 'models'>> & {
  models: Record<string, BudgetNumbers>;
};

/** Checks one layer of `limits`; `undefined` when it is not set. */
export function readLimitsLayer(
  given: unknown,
  at: string,
  checks: OptionChecks,
): LimitsLayer | undefined {
  const limits = checks.section(given, at, LIMIT_KEYS, '{ rpm: 500, tpm: 200000 }', {
    renamed: RENAMED_OPTIONS.limits,
  });
  if (limits === undefined) return undefined;
  const layer: LimitsLayer = { models: {} };
  for (const [key, rule] of Object.entries(LIMIT_RULES)) {
    const value = checks.number(limits[key], `${at}.${key}`, rule);
    if (value !== undefined) layer[key as keyof typeof LIMIT_RULES] = value;
  }
  const adaptive = checks.boolean(limits.adaptive, `${at}.adaptive`);
  if (adaptive !== undefined) layer.adaptive = adaptive;
  const refund = checks.boolean(limits.refundUnusedTokens, `${at}.refundUnusedTokens`);
  if (refund !== undefined) layer.refundUnusedTokens = refund;
  // Keys are model names here, not options: any key goes.
  const models = checks.section(limits.models, `${at}.models`, 'any', '{ "gpt-4o": { rpm: 100 } }');
  for (const [model, numbers] of Object.entries(models ?? {})) {
    const path = `${at}.models['${model}']`;
    const entry = checks.section(numbers, path, ['rpm', 'tpm'], '{ rpm: 100, tpm: 30000 }') ?? {};
    layer.models[model] = {
      rpm: checks.number(entry.rpm, `${path}.rpm`, MODEL_RULE),
      tpm: checks.number(entry.tpm, `${path}.tpm`, MODEL_RULE),
    };
  }
  return layer;
}

/**
 * An upstream's budgets: its own `limits` over `defaults.limits` over the defaults.
 *
 * @returns the budgets, or `undefined` when neither `rpm` nor `tpm` is set anywhere
 */
export function mergeLimits(
  shared: LimitsLayer | undefined,
  own: LimitsLayer | undefined,
  /** The upstream's `provider`: Azure counts reserved tokens, used or not. */
  provider = '',
): ResolvedLimits | undefined {
  const pick = <K extends keyof LimitsLayer>(key: K) => own?.[key] ?? shared?.[key];
  const d = LLM_DEFAULTS.limits;
  const resolved: ResolvedLimits = {
    rpm: pick('rpm'),
    tpm: pick('tpm'),
    models: {},
    maxQueue: pick('maxQueue') ?? d.maxQueue,
    replicas: pick('replicas') ?? d.replicas,
    windowMs: pick('windowMs') ?? d.windowMs,
    intervalMs: pick('intervalMs') ?? d.intervalMs,
    completionTokens: pick('completionTokens') ?? d.completionTokens,
    refundUnusedTokens: pick('refundUnusedTokens') ?? !/azure/i.test(provider),
    adaptive: pick('adaptive') ?? d.adaptive,
  };
  const models = { ...shared?.models, ...own?.models };
  for (const [model, numbers] of Object.entries(models)) {
    resolved.models[model] = {
      rpm: numbers.rpm ?? resolved.rpm,
      tpm: numbers.tpm ?? resolved.tpm,
    };
  }
  const limited = [resolved, ...Object.values(resolved.models)].some((b) => b.rpm || b.tpm);
  return limited ? resolved : undefined;
}

const REDIS_KEYS = ['url', 'client', 'keyPrefix', 'timeoutMs'];

/**
 * The module's `redis`. Neither `url` nor `client` set (`{ url: process.env.REDIS_URL }` with the
 * variable unset) keeps budgets in memory, like no `redis` at all.
 */
export function readRedis(given: unknown, checks: OptionChecks): ResolvedRedisOptions | undefined {
  const redis = checks.section(given, 'redis', REDIS_KEYS, '{ url: "redis://localhost:6379" }');
  if (redis === undefined) return undefined;
  // The URL may hold a password: never echoed.
  const url = checks.text(redis.url, 'redis.url', { secret: true });
  if (url !== undefined && !/^rediss?:\/\/\S+$/.test(url)) {
    checks.report(
      'redis.url',
      'must be a redis:// or rediss:// URL such as redis://localhost:6379',
    );
  }
  const client = redis.client as ResolvedRedisOptions['client'];
  if (client !== undefined && typeof client?.defineCommand !== 'function') {
    checks.report('redis.client', 'must be an ioredis client (new Redis(...))');
  }
  if (redis.url !== undefined && client !== undefined) {
    checks.report('redis', 'needs one of url or client, not both');
  }
  const keyPrefix = checks.text(redis.keyPrefix, 'redis.keyPrefix');
  const timeoutMs = checks.number(redis.timeoutMs, 'redis.timeoutMs', { min: 1, whole: true });
  if (url === undefined && client === undefined) return undefined;
  return {
    ...(url === undefined ? {} : { url }),
    ...(client === undefined ? {} : { client }),
    keyPrefix: keyPrefix ?? LLM_DEFAULTS.redis.keyPrefix,
    timeoutMs: timeoutMs ?? LLM_DEFAULTS.redis.timeoutMs,
  };
}
